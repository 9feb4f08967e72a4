"""Records typed by a person or a script: `record`, `close`, `reopen`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bd_vpt.beads.sources import BdCli, bd_binary, lookup
from bd_vpt.config import Config
from bd_vpt.economics.pricing import price
from bd_vpt.errors import VptError
from bd_vpt.ledger import store as ledger
from bd_vpt.ledger.records import Record, now_ts, outcome_record, parse_ts, usage_record
from bd_vpt.repo import RepoInfo, user_name


def resolve_actor(explicit: str | None, root: Path) -> str:
    """Who is acting, in bd's own order (cmd/bd/main.go: the viper-bound `actor` key, then
    getActorWithGit): --actor, else $BD_ACTOR, else `actor:` in .beads/config.yaml, else
    $BEADS_ACTOR, else git's user.name, else $USER, else "unknown"."""
    from bd_vpt.beads.sources import bd_config_value

    for candidate in (
        explicit,
        os.environ.get("BD_ACTOR"),
        bd_config_value(root, "actor"),
        os.environ.get("BEADS_ACTOR"),
    ):
        if candidate:
            return candidate
    return user_name(root) or os.environ.get("USER") or "unknown"


@dataclass
class Written:
    path: Path | None
    records: list[Record]
    warnings: list[str] = field(default_factory=list)


def build_usage(
    config: Config,
    *,
    bead: str | None,
    model: str,
    tokens: dict[str, int],
    actor: str,
    cost_usd: float | None = None,
    session: str | None = None,
    ts: str | None = None,
    source: str = "manual",
    requests: int = 1,
) -> tuple[Record, str | None]:
    """A usage record priced at capture (unless cost_usd is given), and any price warning."""
    if not tokens:
        raise VptError(
            "no tokens given", hint="pass --input/--output (and cache counts) or --tokens N"
        )
    stamp = ts or now_ts()
    try:
        moment = parse_ts(stamp)
    except ValueError:
        raise VptError(
            f"--ts {ts!r} is not an RFC 3339 time or a date", hint="e.g. --ts 2026-11-24T10:00:00Z"
        ) from None
    warning = None
    provider = None
    if cost_usd is not None:
        ref: str | None = "manual"
    else:
        priced = price(model, tokens, moment, config, requests)
        cost_usd, ref, provider, warning = (
            priced.cost_usd,
            priced.price_ref,
            priced.provider,
            priced.warning,
        )
    record = usage_record(
        bead=bead,
        actor=actor,
        model=model,
        tokens=tokens,
        cost_usd=cost_usd,
        price_ref=ref,
        ts=stamp,
        source=source,
        session=session,
        provider=provider,
        extra={"requests": requests} if requests > 1 else None,
    )
    return record, warning


def record(info: RepoInfo, config: Config, **kwargs: object) -> Written:
    usage, warning = build_usage(config, **kwargs)  # type: ignore[arg-type]
    path = ledger.append(info, [usage], usage["actor"])
    return Written(path, [usage], [warning] if warning else [])


def _run_bd(info: RepoInfo, *args: str) -> None:
    binary = bd_binary()
    if binary is not None:
        BdCli(binary, info.root).run(*args)


def close(
    info: RepoInfo,
    config: Config,
    *,
    bead: str,
    actor: str,
    reason: str | None = None,
    value_usd: float | None = None,
    human_minutes: float | None = None,
    quality: float | None = None,
    evidence: str | None = None,
    completion: float | None = None,
    tokens: dict[str, int] | None = None,
    model: str | None = None,
    run_bd: bool = True,
    ts: str | None = None,
) -> Written:
    """`bd close` first (a failing bd writes nothing), then the outcome (and usage)."""
    if tokens and not model:
        raise VptError(
            "--tokens needs --model", hint="e.g. --tokens 120000 --model claude-sonnet-4-5"
        )
    if run_bd:
        _run_bd(info, "close", bead, *(["--reason", reason] if reason else []))
    records: list[Record] = []
    warnings: list[str] = []
    if tokens and model:
        usage, warning = build_usage(
            config, bead=bead, model=model, tokens=tokens, actor=actor, ts=ts
        )
        records.append(usage)
        warnings += [warning] if warning else []
    facts = lookup(info.root, bead)
    if facts is None:
        warnings.append(
            f"no facts found for bead {bead} (no bd, no .beads/*.jsonl entry): "
            "priority unknown, weighed as P2"
        )
    records.append(
        outcome_record(
            bead=bead,
            actor=actor,
            result="completed",
            snapshot=facts.snapshot() if facts else None,
            reason=reason,
            value_usd=value_usd,
            human_minutes=human_minutes,
            quality=quality,
            evidence=evidence,
            completion=completion,
            ts=ts,
        )
    )
    return Written(ledger.append(info, records, actor), records, warnings)


def reopen(
    info: RepoInfo,
    config: Config,
    *,
    bead: str,
    actor: str,
    reason: str | None = None,
    run_bd: bool = True,
    ts: str | None = None,
) -> Written:
    """An outcome `reopened`: it revokes the bead's earlier completion credit."""
    if run_bd:
        _run_bd(info, "reopen", bead, *(["--reason", reason] if reason else []))
    facts = lookup(info.root, bead)
    outcome = outcome_record(
        bead=bead,
        actor=actor,
        result="reopened",
        snapshot=facts.snapshot() if facts else None,
        reason=reason,
        ts=ts,
    )
    return Written(ledger.append(info, [outcome], actor), [outcome])
