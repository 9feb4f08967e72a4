"""Gas Town: $GT_HOME/.gt/costs.jsonl (default ~/.gt/costs.jsonl).

`gt costs record` appends one row per agent session when it stops: {session_id, role, rig,
worker, cost_usd, ended_at, work_item}. The row has no token counts: gt prices the transcript of
the worker's folder with its own table (or takes OpenCode's cost). So the tokens always come from
the agents' own transcripts (Claude Code, pi, OpenCode, ...), imported under their own source
names, and a row only names the bead (work_item) of the session it describes: never counted twice.

A row describes a session when its session_id is that session's id (OpenCode's plugin records
its session ids), or, for a tmux session name (gt-<rig>-<worker>, gt-<rig>-crew-<name>), the
session run in that worker's folder (.../<rig>/polecats/<worker> or .../<rig>/crew/<worker>) that
was last active at or before ended_at. Its messages up to ended_at take the row's work_item when
their own bd commands name no bead. Rows matching no transcript here are reported with gt's cost,
not recorded: a usage record needs its tokens, and unknown is not zero.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bd_vpt.capture.transcripts import Message, Stats, amount, entries
from bd_vpt.ledger.records import format_ts, parse_ts

SLACK_SECONDS = 600  # a Stop hook runs a little after the session's last message


@dataclass(frozen=True)
class Row:
    session: str
    role: str
    rig: str
    worker: str
    cost_usd: float | None
    ended: datetime
    work_item: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "session_id": self.session,
            "role": self.role,
            "rig": self.rig or None,
            "worker": self.worker or None,
            "cost_usd": self.cost_usd,
            "ended_at": format_ts(self.ended),
            "work_item": self.work_item,
        }


def costs_file() -> Path:
    home = os.environ.get("GT_HOME", "").strip()
    return (Path(home).expanduser() if home else Path.home()) / ".gt" / "costs.jsonl"


def present() -> bool:
    return costs_file().is_file()


def rows(stats: Stats, path: Path | None = None) -> list[Row]:
    """The rows of costs.jsonl (malformed ones counted and skipped)."""
    path = path or costs_file()
    if not path.is_file():
        return []
    found = []
    for _number, item in entries(path, stats):
        if type(item) is not dict:
            stats.skip("unknown record type")
            continue
        session, ended = item.get("session_id"), item.get("ended_at")
        cost = item.get("cost_usd")
        if type(session) is not str or not session or type(ended) is not str:
            stats.skip("missing fields")
            continue
        try:
            moment = parse_ts(ended)
        except ValueError:
            stats.skip("missing fields")
            continue
        work = item.get("work_item")
        found.append(
            Row(
                session=session,
                role=str(item.get("role") or ""),
                rig=str(item.get("rig") or ""),
                worker=str(item.get("worker") or ""),
                cost_usd=amount(cost),
                ended=moment,
                work_item=work if type(work) is str and work else None,
            )
        )
    return found


def _worker_dir(row: Row) -> re.Pattern[str] | None:
    if not row.rig or not row.worker:
        return None
    kind = "crew" if row.role == "crew" else "polecats"
    return re.compile(rf"/{re.escape(row.rig)}/{kind}/{re.escape(row.worker)}(/|$)")


@dataclass
class Joined:
    work_items: dict[str, list[tuple[datetime, str]]]  # session -> [(ended_at, work_item)]
    names: dict[str, str]  # session -> the row's session_id (a tmux name or the same id)
    rows: set[str]  # session_id of every row that matched a session


def join(found: list[Row], sessions: dict[str, list[Message]]) -> Joined:
    """Which transcript session each row describes (see the module's docstring)."""
    timelines: dict[str, list[tuple[datetime, str]]] = {}
    names: dict[str, str] = {}
    matched: set[str] = set()
    if not found:  # (no Gas Town here: nothing to join, no need to span every session)
        return Joined(timelines, names, matched)
    spans = {
        sid: (min(m.moment for m in msgs), max(m.moment for m in msgs), msgs[0].cwd)
        for sid, msgs in sessions.items()
        if msgs
    }
    for row in found:
        target = row.session if row.session in spans else None
        pattern = _worker_dir(row)
        if target is None and pattern is not None:
            best: tuple[datetime, str] | None = None
            for sid, (first, last, cwd) in spans.items():
                if not cwd or not pattern.search(cwd) or first > row.ended:
                    continue
                if (last - row.ended).total_seconds() > SLACK_SECONDS:
                    continue
                if best is None or last > best[0]:
                    best = (last, sid)
            target = best[1] if best else None
        if target is None:
            continue
        matched.add(row.session)
        names[target] = row.session
        if row.work_item:
            timelines.setdefault(target, []).append((row.ended, row.work_item))
    for timeline in timelines.values():
        timeline.sort()
    return Joined(timelines, names, matched)


def report(
    found: list[Row], joined: set[str], ledger: list[dict[str, object]]
) -> dict[str, object]:
    """Rows joined with a transcript (now or by an earlier import), and the rest with gt's cost."""
    known = set(joined)
    for record in ledger:
        for name in (record.get("session"), record.get("gt_session")):
            if isinstance(name, str):
                known.add(name)
    alone = [row for row in found if row.session not in known]
    costs = [row.cost_usd for row in alone if row.cost_usd is not None]
    return {
        "file": str(costs_file()),
        "rows": len(found),
        "joined": len(found) - len(alone),
        "without_transcript": [row.as_dict() for row in alone],
        "without_transcript_cost_usd": round(sum(costs), 6),
    }
