"""Status changes read from the git history of the bead exports.

Where bd left no audit trail (the classic issues.jsonl era, or an export with no
interactions.jsonl), each commit that changed an export is a snapshot: a bead whose status
differs from the commit before changed then (at its own `closed_at` or `updated_at`). So a close,
a reopen and a second close between two syncs are all seen, not only the last state.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.beads.model import Transition
from bd_vpt.beads.timeline import moment, utc_text
from bd_vpt.beads.where import BACKUP_DIR, ERA_FILES

FILES = (*ERA_FILES, f"{BACKUP_DIR}/issues.jsonl")
MAX_COMMITS = 400  # beyond this, an even sample (the ends always kept)
CHUNK = 16


Facts = dict[str, Any]


def _fact(line: bytes) -> tuple[str, Facts] | None:
    """(id, status facts) of one export line, or None for anything else."""
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(item, dict) or item.get("_type") not in (None, "issue"):
        return None
    bead = item.get("id")
    if not isinstance(bead, str) or not isinstance(item.get("status"), str):
        return None
    return bead, {
        "status": "tombstone" if item.get("deleted_at") else item["status"],
        "closed_at": item.get("closed_at"),
        "updated_at": item.get("updated_at"),
        "assignee": item.get("assignee") or None,
        "close_reason": item.get("close_reason") or None,
    }


class _Reader:
    """Parses each distinct line once: successive exports differ by a few lines."""

    def __init__(self) -> None:
        self.seen: dict[bytes, tuple[str, Facts] | None] = {}

    def states(self, blobs: list[bytes | None]) -> dict[str, Facts]:
        """id -> the newest copy's status facts across the era files of one commit."""
        found: dict[str, Facts] = {}
        seen: dict[bytes, tuple[str, Facts] | None] = {}
        for blob in blobs:
            for line in (blob or b"").splitlines():
                fact = seen[line] = self.seen[line] if line in self.seen else _fact(line)
                if fact is None:
                    continue
                bead, facts = fact
                held = found.get(bead)
                if held is None or str(facts["updated_at"] or "") >= str(held["updated_at"] or ""):
                    found[bead] = facts
        self.seen = seen  # only the last commit's lines: memory stays one export's worth
        return found


def _later(a: str, b: str) -> bool:
    ma, mb = moment(a), moment(b)
    return ma is not None and mb is not None and ma > mb


def _just_after(ts: str) -> str:
    when = moment(ts)
    return utc_text(when + timedelta(milliseconds=1)) if when else ts


def transitions(root: Path, since: str | None = None) -> dict[str, list[Transition]]:
    """Each bead's status changes between the commits that changed an export."""
    from bd_vpt.repo import cat_file_batch, commits_touching

    commits = commits_touching(root, list(FILES), since)
    if len(commits) > MAX_COMMITS:
        step = (len(commits) - 1) / (MAX_COMMITS - 1)
        commits = [commits[round(i * step)] for i in range(MAX_COMMITS)]
    out: dict[str, list[Transition]] = {}
    before: dict[str, Facts] = {}
    reader = _Reader()
    for start in range(0, len(commits), CHUNK):
        batch = commits[start : start + CHUNK]
        blobs = cat_file_batch(root, [f"{sha}:{path}" for sha, _ in batch for path in FILES])
        for i, (sha, when) in enumerate(batch):
            now = reader.states(blobs[i * len(FILES) : (i + 1) * len(FILES)])
            for bead, state in now.items():
                old = before.get(bead, {}).get("status")
                if state["status"] == old:
                    continue
                closing = state["closed_at"] is not None and state["status"] == "closed"
                ts = (state["closed_at"] if closing else None) or state["updated_at"] or when
                trail = out.get(bead)
                if trail and not _later(str(ts), trail[-1].ts):
                    if not closing:
                        # an older copy of the bead came back (a merge of the export): bd
                        # stamps every real change, so this is no change; keep the state
                        now[bead] = before[bead]
                        continue
                    # a close stamped earlier than the change before it: some bd versions
                    # wrote local time labelled UTC; the commit says when it was seen
                    ts = when if _later(when, trail[-1].ts) else _just_after(trail[-1].ts)
                out.setdefault(bead, []).append(
                    Transition(
                        ts=str(ts),
                        status=state["status"],
                        old=old,
                        reason=state["close_reason"] if closing else None,
                        assignee=state["assignee"],
                        origin=f"the export at {sha[:10]}",
                    )
                )
            for bead, state in before.items():
                now.setdefault(bead, state)  # a bead missing from one commit keeps its state
            before = now
    return out
