"""The capture sources a hook runs (config.toml `[capture] sources`).

`sync` (outcomes of beads closed or reopened with plain bd) is always available; agent
transcript imports plug in here by name. A source that fails is reported, never fatal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bd_vpt.config import Config
from bd_vpt.ledger.cache import OutcomeKey
from bd_vpt.ledger.records import Record, parse_ts
from bd_vpt.repo import RepoInfo

DEFAULT_SOURCES = ("sync",)


@dataclass
class Captured:
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)  # saved only once records are spooled
    after: list[Callable[[], None]] = field(default_factory=list)  # likewise

    def acknowledge(self, info: RepoInfo) -> None:
        """Remember what was captured (call after the records are safely spooled)."""
        if self.state:
            _save_state(info, {**_load_state(info), **self.state})
        for remember in self.after:
            remember()


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


OUTCOME_LINE = re.compile(rb'"kind"\s*:\s*"outcome"')


def outcomes_in(data: bytes) -> list[OutcomeKey]:
    """The good outcomes of a ledger file, compact; only lines that can be outcomes are parsed."""
    from bd_vpt.ledger.store import parse_blob

    lines = b"\n".join(line for line in data.split(b"\n") if OUTCOME_LINE.search(line))
    return [
        (r["bead"], r["ts"], r["id"], r["result"], r.get("source_ref"))
        for r in parse_blob(lines + b"\n").records
        if r["kind"] == "outcome"
    ]


def ledger_outcomes(info: RepoInfo, beads: set[str]) -> dict[str, list[Record]]:
    """Outcomes of the given beads in the working-tree ledger, by bead (only the fields sync
    reads). Files unchanged since `git add` come from the per-blob outcome cache, so a hook
    never re-reads a million usage records."""
    from bd_vpt.files import read_regular
    from bd_vpt.ledger import store as ledger
    from bd_vpt.ledger.cache import BlobCache
    from bd_vpt.repo import cat_file_batch, ledger_index

    clean = ledger_index(info.root)
    cache = BlobCache(info.state_dir)
    per_file: list[list[OutcomeKey] | None] = []
    missing: list[tuple[int, str]] = []
    for path in ledger.ledger_files(info.root):
        sha = clean.get(path.relative_to(info.root).as_posix())
        found = cache.get_outcomes(sha) if sha else outcomes_in(read_regular(path, root=info.root))
        if found is None and sha:
            missing.append((len(per_file), sha))
        per_file.append(found)
    for (index, sha), data in zip(
        missing, cat_file_batch(info.root, [s for _, s in missing]), strict=True
    ):
        per_file[index] = outcomes_in(data or b"")
        cache.put_outcomes(sha, per_file[index] or [])
    by_bead: dict[str, list[Record]] = {}
    seen: set[str] = set()
    for keys in per_file:
        for bead, ts, rid, result, ref in keys or []:
            if bead in beads and rid not in seen:
                seen.add(rid)
                by_bead.setdefault(bead, []).append(
                    {"bead": bead, "ts": ts, "id": rid, "result": result, "source_ref": ref}
                )
    return by_bead


def sync_source(
    info: RepoInfo, config: Config, actor: str, pending: list[Record], captured: Captured
) -> list[Record]:
    """Outcomes for beads closed or reopened in bd since the last capture.

    Skipped (cheaply) when the bead source has not changed since the last run."""
    from bd_vpt.beads.sources import open_source
    from bd_vpt.beads.sync import plan

    source = open_source(info.root)
    if source is None:
        return []
    fingerprint = source.fingerprint()
    if _load_state(info).get("sync") == fingerprint:
        return []
    beads = source.all()
    outcomes = ledger_outcomes(info, set(beads))
    for rec in pending:
        if rec["kind"] == "outcome" and rec["bead"] in beads:
            outcomes.setdefault(rec["bead"], []).append(rec)
    since = parse_ts(config.sync_since) if config.sync_since else None
    records = plan(beads.values(), outcomes, actor=actor, since=since)
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
            elif name in ("claude-code", "codex"):
                from bd_vpt.capture.agents import run_import

                result = run_import(
                    info,
                    config,
                    name,
                    actor=actor,
                    pending=[*pending, *captured.records],
                    write=False,
                )
                captured.records += result["records"]
                captured.after.append(result["remember"])
            else:
                captured.warnings.append(f"capture source {name!r} is not available in this bd-vpt")
                continue
            captured.ran.append(name)
        except Exception as exc:  # a capture must never block a commit
            captured.warnings.append(
                f"capture source {name!r} failed: {exc}; it runs again next commit"
            )
    return captured
