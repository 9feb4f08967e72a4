"""`bd-vpt sync`: outcome records for beads closed or reopened with plain `bd`.

Each bead's closes and reopens come from its history (beads/timeline.py); what a close is worth
from config.toml [outcomes] (beads/rules.py). A completion is credited to the agent that did
the work (the bead's assignee at the close, else the last agent that claimed it, else whoever
closed it) and keeps `closed_by`. Idempotent: every record carries a source_ref derived from the
bead's own facts, a source_ref already in the ledger is never written again, and nothing older
than the bead's latest outcome in the ledger is replayed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bd_vpt.beads.model import Bead, Statuses
from bd_vpt.beads.rules import Outcomes
from bd_vpt.beads.timeline import Episode, episodes
from bd_vpt.config import Config
from bd_vpt.errors import VptError
from bd_vpt.ledger.records import Record, outcome_record, parse_ts
from bd_vpt.repo import RepoInfo


def _safe_ts(text: str | None) -> datetime | None:
    try:
        return parse_ts(text) if text else None
    except ValueError:
        return None


@dataclass
class Plan:
    records: list[Record] = field(default_factory=list)
    explain: list[dict[str, Any]] = field(default_factory=list)

    def why(self, bead: str, action: str, why: str, ts: str | None = None) -> None:
        self.explain.append({"bead": bead, "action": action, "ts": ts, "why": why})


def credit(close: Episode, bead: Bead) -> tuple[str | None, str]:
    """Who did the work a close finished, and how we know."""
    if close.assignee:
        return close.assignee, "assignee at the close"
    if close.claimer:
        return close.claimer, "last agent that claimed it"
    if close.actor:
        return close.actor, "closed it"
    if bead.assignee:
        return bead.assignee, "assignee"
    return None, "nobody known"


def plan(
    beads: Iterable[Bead],
    outcomes: dict[str, list[Record]],
    *,
    actor: str,
    since: datetime | None = None,
    rules: Outcomes | None = None,
    statuses: Statuses | None = None,
    refs: set[str | None] | None = None,
) -> list[Record]:
    """The outcome records missing from the ledger, oldest first."""
    return explain(
        beads, outcomes, actor=actor, since=since, rules=rules, statuses=statuses, refs=refs
    ).records


def explain(
    beads: Iterable[Bead],
    outcomes: dict[str, list[Record]],
    *,
    actor: str,
    since: datetime | None = None,
    rules: Outcomes | None = None,
    statuses: Statuses | None = None,
    refs: set[str | None] | None = None,
) -> Plan:
    """What plan writes, and why, bead by bead. outcomes: the ledger's by bead, in any order
    within a bead (each bead's history is ordered here), at least those of beads; refs: the
    source_refs of all the ledger's outcomes (default: those of outcomes)."""
    rules = rules or Outcomes()
    statuses = statuses or Statuses()
    if refs is None:
        refs = {o.get("source_ref") for recs in outcomes.values() for o in recs}
    out = Plan()
    for bead in beads:
        history = sorted(outcomes.get(bead.id, []), key=lambda r: (parse_ts(r["ts"]), r["id"]))
        state = history[-1]["result"] if history else None
        seen = parse_ts(history[-1]["ts"]) if history else None
        for ep in episodes(bead, statuses):
            when = _safe_ts(ep.ts)
            if when is None:
                out.why(bead.id, "skip", f"unreadable time {ep.ts!r} ({ep.why})", ep.ts)
                continue
            if seen is not None and when <= seen:
                continue  # the ledger already tells the story up to here
            if since is not None and when < since and ep.kind == "close":
                out.why(bead.id, "skip", f"closed before --since ({ep.why})", ep.ts)
                continue
            ref = f"bd:{bead.id}:{'closed' if ep.kind == 'close' else 'reopened'}:{ep.ts}"
            if ref in refs:
                continue
            if ep.kind == "reopen":
                if state not in ("completed", "abandoned"):
                    continue
                who = ep.actor
                rec = _record(bead, "reopened", 0.0, ep.ts, who or actor, ref)
                out.records.append(rec)
                out.why(bead.id, "reopened", f"back to work ({ep.why})", ep.ts)
                state = "reopened"
            else:
                if state in ("completed", "abandoned"):
                    out.why(bead.id, "skip", f"closed again with no reopen seen ({ep.why})", ep.ts)
                    continue
                result, completion, excluded, why = rules.judge(bead, ep.reason)
                worker, how = credit(ep, bead)
                rec = _record(bead, result, completion, ep.ts, worker or actor, ref)
                if ep.reason:
                    rec["reason"] = ep.reason
                if ep.actor:
                    rec["closed_by"] = ep.actor
                if excluded:
                    rec["excluded"] = excluded
                out.records.append(rec)
                by = f"; closed by {ep.actor}" if ep.actor and ep.actor != worker else ""
                out.why(
                    bead.id,
                    result if not excluded else f"{result} (not counted: {excluded})",
                    f"{why}; credited to {worker or actor} ({how}{by}); from {ep.why}",
                    ep.ts,
                )
                state = result
            refs.add(ref)
        if state in ("completed", "abandoned") and bead.status in statuses.working:
            _reopen_unseen(bead, history, out, refs, actor)
    out.records.sort(key=lambda r: (parse_ts(r["ts"]), r["id"]))
    return out


def _reopen_unseen(
    bead: Bead, history: list[Record], out: Plan, refs: set[Any], actor: str
) -> None:
    """The ledger says done, bd says working, and no trail saw the reopen (`bd reopen` writes
    nothing to interactions.jsonl): reopened, at the bead's last update."""
    last = ((out.records and [r for r in out.records if r["bead"] == bead.id]) or history)[-1]
    if bead.deleted or last["result"] == "reopened":
        return
    ref = f"bd:{bead.id}:reopened-after:{last['id']}"
    if ref in refs:
        return
    when = _safe_ts(bead.updated_at)
    if when is not None and when <= parse_ts(last["ts"]):
        return  # a snapshot older than what the ledger knows: stale, not a reopen
    ts = bead.updated_at if when is not None else last["ts"]
    out.records.append(_record(bead, "reopened", 0.0, ts or last["ts"], actor, ref))
    out.why(bead.id, "reopened", f"the bead is {bead.status} now (no trail saw the reopen)", ts)
    refs.add(ref)


def _record(bead: Bead, result: str, completion: float, ts: str, who: str, ref: str) -> Record:
    return outcome_record(
        bead=bead.id,
        actor=who,
        result=result,
        completion=completion,
        snapshot=bead.snapshot(),
        ts=ts,
        source="sync",
        source_ref=ref,
    )


def run(
    info: RepoInfo,
    config: Config,
    *,
    since: str | None,
    dry_run: bool,
    actor: str,
    want_explain: bool = False,
) -> dict[str, Any]:
    """Plan against the working-tree ledger and bead source; append unless dry_run."""
    from bd_vpt.beads.history import transitions
    from bd_vpt.beads.sources import open_source, statuses_of
    from bd_vpt.ledger.store import shard_path
    from bd_vpt.ledger.writer import writing

    rules = Outcomes.from_document(config.raw)
    source = open_source(info.root, list(rules.done_statuses))
    if source is None:
        raise VptError(
            "no bead source: no bd on PATH and no .beads/issues.jsonl (or beads.jsonl, bd.jsonl, "
            "backup/issues.jsonl, interactions.jsonl)",
            hint="install bd, set BD=/path/to/bd, or run inside a repository that tracks .beads/",
        )
    from bd_vpt.when import start as first_moment

    start = since or config.sync_since
    moment = (
        first_moment(start, what="--since" if since else "capture.sync_since") if start else None
    )
    beads = source.all()
    # no audit trail: the git history of the export tells the closes and reopens
    since_text = moment.isoformat() if moment else None
    for bead_id, trail in transitions(info.root, since_text).items():
        bead = beads.get(bead_id)
        if bead is not None and not bead.transitions:
            bead.transitions = trail
    with writing(info) as writer:  # plan and write under one lock: syncs at once write once
        result = explain(
            beads.values(),
            writer.known.outcomes(ordered=False, beads=beads),  # (plan orders each bead's)
            refs=writer.known.outcome_refs(),
            actor=actor,
            since=moment,
            rules=rules,
            statuses=statuses_of(source),
        )
        records = result.records
        if records and not dry_run:
            records = writer.append(records, shard_path(info.root, actor)).records
    document: dict[str, Any] = {
        "source": source.name,
        "since": start,
        "dry_run": dry_run,
        "records": records,
        "not_counted": _not_counted(records),
        "source_notes": source.report.lines(),
    }
    if want_explain:
        document["explain"] = result.explain
    return document


def _not_counted(records: list[Record]) -> dict[str, int]:
    out: dict[str, int] = {}
    for rec in records:
        if rec.get("excluded"):
            out[rec["excluded"]] = out.get(rec["excluded"], 0) + 1
    return out
