"""Records typed by a person or a script: `record`, `close`, `reopen`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bd_vpt.config import Config
from bd_vpt.economics.pricing import price
from bd_vpt.errors import VptError
from bd_vpt.ledger.records import Record, now_ts, outcome_record, parse_ts, usage_record
from bd_vpt.ledger.store import shard_path
from bd_vpt.ledger.writer import Writer, writing
from bd_vpt.repo import RepoInfo, user_name


def resolve_actor(explicit: str | None, root: Path) -> str:
    """Who is acting, in bd's own order (cmd/bd/main.go: the viper-bound `actor` key, then
    getActorWithGit): --actor, else $BD_ACTOR, else `actor:` in .beads/config.yaml, else
    $BEADS_ACTOR, else git's user.name, else $USER, else "unknown"."""
    from bd_vpt.beads.where import bd_config_value

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


def record(info: RepoInfo, config: Config, *, force: bool = False, **kwargs: object) -> Written:
    bead = kwargs.get("bead")
    if isinstance(bead, str):
        check_bead(info, bead, force=force)
    usage, warning = build_usage(config, **kwargs)  # type: ignore[arg-type]
    path = shard_path(info.root, usage["actor"])
    with writing(info) as writer:
        writer.append([usage], path)
    return Written(path, [usage], [warning] if warning else [])


def check_bead(info: RepoInfo, bead: str, *, force: bool) -> None:
    """A bead id must look like one, and (unless force) be one the bead facts know."""
    if bead.startswith("-") or not bead.isprintable() or any(c.isspace() for c in bead):
        raise VptError(
            f"{bead!r} is not a bead id: nothing was written",
            hint="bead ids look like bd-42; `-` alone means usage no bead claimed",
        )
    if force:
        return
    from bd_vpt.beads.sources import open_source

    source = open_source(info.root)
    if source is None or source.get(bead) is not None:
        return  # no bead facts here at all: nothing to check against
    import difflib  # (only for a bead no one knows)

    close_ones = difflib.get_close_matches(bead, list(source.all()), n=3, cutoff=0.6)
    guess = f"; did you mean {' or '.join(close_ones)}?" if close_ones else ""
    raise VptError(
        f"unknown bead {bead} (not in the bead facts, from {source.name}){guess} "
        "Nothing was written.",
        hint="check the id (bd list), or pass --force to record it anyway",
    )


def _bd(info: RepoInfo, command: str, bead: str, reason: str | None) -> None:
    """`bd close|reopen [--reason R] -- ID`: the id after `--`, never read as an option."""
    from bd_vpt.beads.sources import BdCli
    from bd_vpt.beads.where import bd_binary

    binary = bd_binary()
    if binary is None:
        name = os.environ.get("BD") or "bd"
        raise VptError(
            f"bd was not found ({name!r} is not on PATH): bd was not updated and nothing "
            "was recorded",
            hint=f"{command} it in bd and run `bd-vpt sync`, or pass --no-bd when bd already "
            f"has it {'closed' if command == 'close' else 'open'} (set BD=/path/to/bd to use another)",
        )
    BdCli(binary, info.root).run(command, *(["--reason", reason] if reason else []), "--", bead)


def _latest(writer: Writer, bead: str) -> Record | None:
    history = writer.known.outcomes().get(bead)
    return history[-1] if history else None


def _refuse_double_close(writer: Writer, bead: str) -> None:
    latest = _latest(writer, bead)
    if latest is not None and latest["result"] == "completed":
        raise VptError(
            f"{bead} is already closed in the ledger (completed at {latest['ts']}, record "
            f"{latest['id']}): a second completion would count it twice; nothing was written",
            hint=f"if it came back, record that first (`bd-vpt reopen {bead}` or `bd-vpt sync`); "
            f"to correct that record, `bd-vpt undo {latest['id']}`",
        )


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
    force: bool = False,
) -> Written:
    """`bd close` first (a failing or missing bd writes nothing), then the outcome (and
    usage). A bead the ledger already holds as closed is refused."""
    if tokens and not model:
        raise VptError(
            "--tokens needs --model", hint="e.g. --tokens 120000 --model claude-sonnet-4-5"
        )
    check_bead(info, bead, force=force)
    with writing(info) as writer:
        _refuse_double_close(writer, bead)
    if run_bd:  # outside the lock: bd's own hooks may run bd-vpt
        _bd(info, "close", bead, reason)
    records: list[Record] = []
    warnings: list[str] = []
    if tokens and model:
        usage, warning = build_usage(
            config, bead=bead, model=model, tokens=tokens, actor=actor, ts=ts
        )
        records.append(usage)
        warnings += [warning] if warning else []
    from bd_vpt.beads.sources import lookup

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
    path = shard_path(info.root, actor)
    with writing(info) as writer:
        _refuse_double_close(writer, bead)  # again: another writer may have closed it since
        writer.append(records, path)
    return Written(path, records, warnings)


def reopen(
    info: RepoInfo,
    config: Config,
    *,
    bead: str,
    actor: str,
    reason: str | None = None,
    run_bd: bool = True,
    ts: str | None = None,
    force: bool = False,
) -> Written:
    """An outcome `reopened`: it revokes the bead's earlier completion credit."""
    check_bead(info, bead, force=force)
    if run_bd:
        _bd(info, "reopen", bead, reason)
    from bd_vpt.beads.sources import lookup

    facts = lookup(info.root, bead)
    outcome = outcome_record(
        bead=bead,
        actor=actor,
        result="reopened",
        snapshot=facts.snapshot() if facts else None,
        reason=reason,
        ts=ts,
    )
    path = shard_path(info.root, actor)
    with writing(info) as writer:
        writer.append([outcome], path)
    return Written(path, [outcome])
