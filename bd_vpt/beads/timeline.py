"""Each bead's history of closes and reopens, from bd's audit trails and its snapshot.

Two trails: `.beads/interactions.jsonl` (bd >= 0.62: `field_change` lines, true UTC, with the
close reason; `bd reopen` and `--claim` write nothing there) and the backup era's
`.beads/backup/events.jsonl` (closed, reopened, status_changed, claimed, ... with the actor),
whose times are local time labelled UTC (a beads bug): the offset is measured per bead against
its own `closed_at` (and a reopen's record of the close it undid) and removed.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from bd_vpt.beads.model import Bead, Report, Statuses, Transition

_QUARTER = 900.0  # time zones are whole quarter hours
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def moment(text: str | None) -> datetime | None:
    if not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def utc_text(when: datetime) -> str:
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _json_object(text: object) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    if isinstance(text, str) and text.startswith("{"):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def interactions(
    rows: list[tuple[int, dict[str, Any]]], path: str, report: Report
) -> dict[str, list[Transition]]:
    """Status and assignee changes from interactions.jsonl lines (line number, object)."""
    out: dict[str, list[Transition]] = {}
    for line, row in rows:
        if row.get("kind") != "field_change":
            report.skipped[f"interactions of kind {row.get('kind')!r} in {path}"] += 1
            continue
        extra = row.get("extra")
        bead, ts = row.get("issue_id"), row.get("created_at")
        if not isinstance(extra, dict) or not isinstance(bead, str) or moment(ts) is None:
            report.problem(f"{path}:{line}", "field_change without issue_id, created_at or extra")
            continue
        field = extra.get("field")
        new, old = extra.get("new_value"), extra.get("old_value")
        if field not in ("status", "assignee"):
            continue
        out.setdefault(bead, []).append(
            Transition(
                ts=str(ts),
                status=str(new) if field == "status" and new else None,
                old=str(old) if field == "status" and old else None,
                actor=row.get("actor") or None,
                reason=extra.get("reason") or None,
                assignee=str(new) if field == "assignee" and new else None,
                origin=f"{path}:{line}",
            )
        )
    return out


def backup_events(
    rows: list[tuple[int, dict[str, Any]]], path: str, beads: dict[str, Bead], report: Report
) -> dict[str, list[Transition]]:
    """Transitions from backup/events.jsonl, their times corrected for the local-time skew."""
    raw: dict[str, list[tuple[datetime, Transition, dict[str, Any]]]] = {}
    for line, row in rows:
        bead, kind, when = row.get("issue_id"), row.get("event_type"), moment(row.get("created_at"))
        if not isinstance(bead, str) or when is None:
            report.problem(f"{path}:{line}", "event without issue_id or created_at")
            continue
        new = _json_object(row.get("new_value"))
        status: str | None = None
        reason = None
        if kind == "closed":
            status = "closed"
            reason = row.get("new_value") if isinstance(row.get("new_value"), str) else None
        elif kind == "reopened":
            status = str(new.get("status") or "open")
        elif isinstance(new.get("status"), str):
            status = new["status"]
        assignee = new.get("assignee") if isinstance(new.get("assignee"), str) else None
        if status is None and assignee is None:
            continue
        old = _json_object(row.get("old_value"))
        transition = Transition(
            ts=str(row["created_at"]),
            status=status,
            old=old.get("status") if isinstance(old.get("status"), str) else None,
            actor=row.get("actor") or None,
            reason=reason or None,
            assignee=assignee,
            origin=f"{path}:{line}",
        )
        raw.setdefault(bead, []).append((when, transition, old))
    anchors = _anchors(raw, beads)
    if anchors:
        offsets = sorted({round(a[1] / 3600, 2) for a in anchors})
        if offsets != [0.0]:
            hours = ", ".join(f"{o:+g} h" for o in offsets)
            report.notes.append(
                f"{path}: times are local time labelled UTC ({hours} against each bead's "
                f"closed_at, {len(anchors)} anchors): corrected"
            )
    elif raw:
        report.notes.append(f"{path}: no close to measure the time skew against; times as written")
    keys = [a[0] for a in anchors]
    out: dict[str, list[Transition]] = {}
    for bead, items in raw.items():
        for when, transition, _old in items:
            skew = _nearest(anchors, keys, when)
            fixed = utc_text(when - timedelta(seconds=skew)) if skew else transition.ts
            out.setdefault(bead, []).append(
                Transition(**{**transition.__dict__, "ts": fixed, "skew_s": -skew})
            )
    return out


def _round_offset(delta: float) -> float | None:
    """A labelled-minus-true difference that looks like a time zone (else None)."""
    if abs(delta) > 15 * 3600:
        return None
    rounded = round(delta / _QUARTER) * _QUARTER
    return rounded if abs(delta - rounded) <= 120 else None


def _anchors(
    raw: dict[str, list[tuple[datetime, Transition, dict[str, Any]]]], beads: dict[str, Bead]
) -> list[tuple[datetime, float]]:
    """(labelled time, offset) pairs: the last close of a closed bead against its closed_at,
    and each reopen's record of the closed_at it undid against the close before it."""
    found: list[tuple[datetime, float]] = []
    for bead_id, items in raw.items():
        items.sort(key=lambda t: t[0])
        closes = [(w, t) for w, t, _ in items if t.status == "closed"]
        bead = beads.get(bead_id)
        true_close = moment(bead.closed_at) if bead is not None and bead.closed else None
        if closes and true_close is not None and items[-1][1].status != "open":
            offset = _round_offset((closes[-1][0] - true_close).total_seconds())
            if offset is not None:
                found.append((closes[-1][0], offset))
        for when, transition, old in items:
            undone = moment(old.get("closed_at")) if transition.status != "closed" else None
            before = [w for w, t in closes if w <= when]
            if undone is not None and before and old.get("status") == "closed":
                offset = _round_offset((before[-1] - undone).total_seconds())
                if offset is not None:
                    found.append((before[-1], offset))
    found.sort()
    return found


def _nearest(anchors: list[tuple[datetime, float]], keys: list[datetime], when: datetime) -> float:
    if not anchors:
        return 0.0
    i = bisect_left(keys, when)
    near = [j for j in (i - 1, i) if 0 <= j < len(anchors)]
    best = min(near, key=lambda j: abs((anchors[j][0] - when).total_seconds()))
    return anchors[best][1]


@dataclass(frozen=True)
class Episode:
    """A close or a reopen of one bead, with who did what."""

    kind: str  # "close" or "reopen"
    ts: str
    actor: str | None  # who closed / reopened
    reason: str | None = None
    assignee: str | None = None  # the bead's assignee at the close
    claimer: str | None = None  # the last agent that claimed it before the close
    why: str = ""  # where this came from, for --explain


def episodes(bead: Bead, statuses: Statuses) -> list[Episode]:
    """The bead's closes and reopens in time order. A reopen is a move from a done status to
    a working one; pinned, deferred, a tombstone or deletion are not reopens. The bead's own
    snapshot closes the story: its closed_at anchors the last close (and adds it when no trail
    saw it); a working bead whose last trail entry is a close was reopened unseen."""
    done = False
    assignee = claimer = None
    out: list[Episode] = []
    trail = sorted(bead.transitions, key=lambda t: moment(t.ts) or _EPOCH)
    for t in trail:
        if t.assignee:
            assignee = t.assignee
        if t.status is None:
            continue
        if t.status in statuses.done:
            if done and t.old in statuses.working:
                # closed again from a working status: bd reopened it without a trail line
                out.append(Episode("reopen", _just_before(t.ts), None, why=f"{t.origin} (implied)"))
                done = False
            if not done:
                out.append(Episode("close", t.ts, t.actor, t.reason, assignee, claimer, t.origin))
                done = True
        elif t.status in statuses.working:
            if t.status in ("in_progress", "hooked") and (t.assignee or t.actor):
                claimer = t.assignee or t.actor
            if done:
                out.append(Episode("reopen", t.ts, t.actor, why=t.origin))
                done = False
    if bead.closed:
        closed_at = bead.closed_at or bead.updated_at
        if closed_at is None:
            return out
        last = out[-1] if done and out else None
        if last is not None and _close_enough(last.ts, closed_at):
            out[-1] = Episode(
                "close",
                closed_at,
                last.actor,
                last.reason or bead.close_reason,
                last.assignee or bead.assignee,
                last.claimer,
                f"{last.why}; closed_at from the bead",
            )
        elif last is None and (not out or _after(closed_at, out[-1].ts)):
            # no trail saw this close (a later closed_at while done is a repeat `bd close`,
            # which moves closed_at: not a reopen; a reopen would have its own trail line)
            out.append(
                Episode(
                    "close", closed_at, None, bead.close_reason, bead.assignee, claimer, "the bead"
                )
            )
    elif done and bead.status in statuses.working and not bead.deleted:
        # the snapshot says working after the trail's last close: reopened, unless the
        # snapshot is older than that close (an export lags the live audit trail)
        if bead.updated_at is None:
            out.append(Episode("reopen", _just_after(out[-1].ts), None, why="the bead is open"))
        elif _after(bead.updated_at, out[-1].ts):
            out.append(Episode("reopen", bead.updated_at, None, why=f"the bead is {bead.status}"))
    return out


def _close_enough(a: str, b: str) -> bool:
    ma, mb = moment(a), moment(b)
    return ma is not None and mb is not None and abs((ma - mb).total_seconds()) <= 300


def _after(a: str | None, b: str) -> bool:
    ma, mb = moment(a), moment(b)
    return ma is not None and mb is not None and ma > mb


def _just_before(ts: str) -> str:
    when = moment(ts)
    return utc_text(when - timedelta(milliseconds=1)) if when else ts


def _just_after(ts: str) -> str:
    when = moment(ts)
    return utc_text(when + timedelta(milliseconds=1)) if when else ts
