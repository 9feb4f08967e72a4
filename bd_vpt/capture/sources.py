"""The capture sources a hook runs (config.toml `[capture] sources`).

`sync` (outcomes of beads closed or reopened with plain bd) is always available; agent
transcript imports plug in here by name. A source that fails is reported, never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bd_vpt.config import Config
from bd_vpt.records import Record, parse_ts
from bd_vpt.repo import RepoInfo

DEFAULT_SOURCES = ("sync",)


@dataclass
class Captured:
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)  # saved only once records are spooled

    def acknowledge(self, info: RepoInfo) -> None:
        """Remember what was captured (call after the records are safely spooled)."""
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
    path = _state(info)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(state))
    tmp.replace(path)


def ledger_outcomes(info: RepoInfo) -> list[Record]:
    """Every outcome in the working-tree ledger; files unchanged since `git add` come from
    the per-blob outcome cache, so a hook never re-reads a million usage records."""
    from bd_vpt import ledger
    from bd_vpt.history import History
    from bd_vpt.repo import ledger_index

    clean = ledger_index(info.root)
    history = History.open(info)
    found: list[Record] = []
    seen: set[str] = set()
    try:
        for path in ledger.ledger_files(info.root):
            sha = clean.get(path.relative_to(info.root).as_posix())
            if sha:
                records = history.outcomes(sha)
            else:
                records = [
                    r
                    for r in ledger.parse_blob(path.read_bytes()).records
                    if r["kind"] == "outcome"
                ]
            for rec in records:
                if rec["id"] not in seen:
                    seen.add(rec["id"])
                    found.append(rec)
    finally:
        history.close()
    return found


def sync_source(
    info: RepoInfo, config: Config, actor: str, pending: list[Record], captured: Captured
) -> list[Record]:
    """Outcomes for beads closed or reopened in bd since the last capture.

    Skipped (cheaply) when the bead source has not changed since the last run."""
    from bd_vpt.beads import open_source
    from bd_vpt.sync import plan

    source = open_source(info.root)
    if source is None:
        return []
    fingerprint = source.fingerprint()
    if _load_state(info).get("sync") == fingerprint:
        return []
    outcomes: dict[str, list[Record]] = {}
    for rec in [*ledger_outcomes(info), *pending]:
        if rec["kind"] == "outcome":
            outcomes.setdefault(rec["bead"], []).append(rec)
    since = parse_ts(config.sync_since) if config.sync_since else None
    records = plan(source.all().values(), outcomes, actor=actor, since=since)
    captured.state["sync"] = fingerprint
    return records


def run(info: RepoInfo, config: Config, actor: str, pending: list[Record]) -> Captured:
    """Run every configured source; pending are records already spooled (not yet in shards)."""
    captured = Captured()
    for name in config.sources or DEFAULT_SOURCES:
        try:
            if name == "sync":
                captured.records += sync_source(
                    info, config, actor, [*pending, *captured.records], captured
                )
            else:
                captured.warnings.append(f"capture source {name!r} is not available in this bd-vpt")
                continue
            captured.ran.append(name)
        except Exception as exc:  # a capture must never block a commit
            captured.warnings.append(
                f"capture source {name!r} failed: {exc}; it runs again next commit"
            )
    return captured
