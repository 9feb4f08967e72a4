"""The capture sources a hook runs (config.toml `[capture] sources`).

`sync` (outcomes of beads closed or reopened with plain bd) is always available; agent
transcript imports plug in here by name (claude-code, codex, openclaw, pi, opencode, gemini-cli;
gastown imports every agent present, with the beads of Gas Town's costs.jsonl). A source that
fails is reported, never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bd_vpt.config import Config
from bd_vpt.errors import EXIT_FAILED, VptError
from bd_vpt.ledger.records import Record, parse_ts
from bd_vpt.ledger.writer import Writer
from bd_vpt.repo import RepoInfo

DEFAULT_SOURCES = ("sync",)


@dataclass
class Captured:
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)  # saved once records are written

    def acknowledge(self, info: RepoInfo) -> None:
        """Remember what was captured (call after the records are written)."""
        if self.state:
            _save_state(info, {**_load_state(info), **self.state})


def _state(info: RepoInfo) -> Path:
    return info.state_dir / "capture-state.json"


def _load_state(info: RepoInfo) -> dict[str, str]:
    try:
        state = orjson.loads(_state(info).read_bytes())
        return state if isinstance(state, dict) else {}
    except (OSError, orjson.JSONDecodeError):
        return {}


def _save_state(info: RepoInfo, state: dict[str, str]) -> None:
    from bd_vpt.state import atomic_write

    atomic_write(_state(info), orjson.dumps(state))


def sync_source(
    info: RepoInfo, config: Config, actor: str, writer: Writer, state: dict[str, str]
) -> list[Record]:
    """Outcomes for beads closed or reopened in bd since the last capture in this worktree.

    Skipped (cheaply) when the bead source has not changed since this worktree's last run;
    the source's fingerprint goes into state (saved once the records are written)."""
    from bd_vpt.beads.rules import Outcomes
    from bd_vpt.beads.sources import open_source, statuses_of
    from bd_vpt.beads.sync import plan

    rules = Outcomes.from_document(config.raw)
    source = open_source(info.root, list(rules.done_statuses))
    if source is None:
        return []
    fingerprint = source.fingerprint()
    key = f"sync:{info.git_dir}"  # per worktree: each has its own branch and ledger
    if _load_state(info).get(key) == fingerprint:
        return []
    beads = source.all()
    since = parse_ts(config.sync_since) if config.sync_since else None
    records = plan(
        beads.values(),
        writer.known.outcomes(ordered=False, beads=beads),  # (plan orders each bead's)
        refs=writer.known.outcome_refs(),
        actor=actor,
        since=since,
        rules=rules,
        statuses=statuses_of(source),
    )
    state[key] = fingerprint
    return records


def run(info: RepoInfo, config: Config, actor: str, writer: Writer, shard: Path) -> Captured:
    """Run every configured source under the writer's lock; each source's records go into
    shard (this worktree's capture shard) at once, deduplicated against the ledger."""
    captured = Captured()
    names = list(config.sources or DEFAULT_SOURCES)
    agents: dict[str, object] = {}
    if any(name != "sync" for name in names):  # (imported only when needed: hooks run often)
        from bd_vpt.capture.agents import SOURCES, detected

        agents = dict(SOURCES)
        if "gastown" in names:  # Gas Town runs agents: import every one present, with its beads
            names += [kind for kind in detected() if kind not in names]
    for name in names:
        try:
            if name == "sync":
                found: dict[str, str] = {}
                records = sync_source(info, config, actor, writer, found)
                captured.records += writer.append(records, shard).records
                captured.state.update(found)
            elif name == "gastown":
                pass  # its rows name the beads of the agents' sessions imported beside it
            elif name in agents:
                from bd_vpt.capture.agents import run_import

                result = run_import(
                    info, config, name, actor=actor, writer=writer, shard=shard, own_worktree=True
                )
                captured.records += result["records"]
            else:
                captured.warnings.append(f"capture source {name!r} is not available in this bd-vpt")
                continue
            captured.ran.append(name)
        except VptError as exc:
            if exc.exit_code == EXIT_FAILED:
                raise  # a failed write (a full disk): say so, do not pretend it ran
            captured.warnings.append(
                f"capture source {name!r} failed: {exc.message}; it runs again next commit"
            )
        except Exception as exc:  # a capture must never block a commit
            captured.warnings.append(
                f"capture source {name!r} failed: {exc}; it runs again next commit"
            )
    return captured
