"""`bd-vpt sync`: outcome records for beads closed or reopened with plain `bd`.

Idempotent: every record it writes carries a source_ref derived from the bead's own facts,
and a source_ref already in the ledger is never written again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bd_vpt.beads.sources import Bead
from bd_vpt.config import Config
from bd_vpt.errors import VptError
from bd_vpt.ledger.records import Record, outcome_record, parse_ts
from bd_vpt.repo import RepoInfo


def _safe_ts(text: str | None) -> datetime | None:
    try:
        return parse_ts(text) if text else None
    except ValueError:
        return None


def plan(
    beads: Iterable[Bead],
    outcomes: dict[str, list[Record]],
    *,
    actor: str,
    since: datetime | None = None,
) -> list[Record]:
    """The outcome records missing from the ledger, oldest first."""
    refs = {o.get("source_ref") for recs in outcomes.values() for o in recs}
    out: list[Record] = []

    def add(bead: Bead, result: str, ts: str, who: str | None, ref: str) -> None:
        if ref in refs:
            return
        refs.add(ref)
        out.append(
            outcome_record(
                bead=bead.id,
                actor=who or bead.assignee or actor,
                result=result,
                snapshot=bead.snapshot(),
                ts=ts,
                source="sync",
                source_ref=ref,
                reason=bead.close_reason if result == "completed" else None,
            )
        )

    for bead in beads:
        history = sorted(outcomes.get(bead.id, []), key=lambda r: (parse_ts(r["ts"]), r["id"]))
        state = history[-1]["result"] if history else None
        reopened_at: datetime | None = None
        if state == "completed":
            done_at = parse_ts(history[-1]["ts"])
            event = next(
                (
                    e
                    for e in bead.events
                    if e.kind == "reopened" and (_safe_ts(e.ts) or done_at) > done_at
                ),
                None,
            )
            if event is not None:
                # bd saw a reopen after our completion (backup-era events name the agent)
                add(bead, "reopened", event.ts, event.actor, f"bd:{bead.id}:reopened:{event.ts}")
                state, reopened_at = "reopened", _safe_ts(event.ts)
            elif not bead.closed:
                add(
                    bead,
                    "reopened",
                    bead.updated_at or history[-1]["ts"],
                    None,
                    f"bd:{bead.id}:reopened-after:{history[-1]['id']}",
                )
                continue
        closed_at = _safe_ts(bead.closed_at)
        if not bead.closed or closed_at is None or bead.closed_at is None or state == "completed":
            continue
        if since is not None and closed_at < since:
            continue
        if reopened_at is not None and closed_at <= reopened_at:
            continue
        closer = next((e.actor for e in reversed(bead.events) if e.kind == "closed"), None)
        add(bead, "completed", bead.closed_at, closer, f"bd:{bead.id}:closed:{bead.closed_at}")
    out.sort(key=lambda r: (parse_ts(r["ts"]), r["id"]))
    return out


def run(
    info: RepoInfo, config: Config, *, since: str | None, dry_run: bool, actor: str
) -> dict[str, Any]:
    """Plan against the working-tree ledger and bead source; append unless dry_run."""
    from bd_vpt.beads.sources import open_source
    from bd_vpt.ledger.store import shard_path
    from bd_vpt.ledger.writer import writing

    source = open_source(info.root)
    if source is None:
        raise VptError(
            "no bead source: no bd on PATH and no .beads/issues.jsonl (or beads.jsonl, bd.jsonl, "
            "backup/issues.jsonl)",
            hint="install bd, set BD=/path/to/bd, or run inside a repository that tracks .beads/",
        )
    from bd_vpt.when import start as first_moment

    start = since or config.sync_since
    moment = (
        first_moment(start, what="--since" if since else "capture.sync_since") if start else None
    )
    beads = source.all().values()
    with writing(info) as writer:  # plan and write under one lock: syncs at once write once
        records = plan(beads, writer.known.outcomes(), actor=actor, since=moment)
        if records and not dry_run:
            records = writer.append(records, shard_path(info.root, actor)).records
    return {"source": source.name, "since": start, "dry_run": dry_run, "records": records}
