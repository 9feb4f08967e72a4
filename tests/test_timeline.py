"""The rule of a reopen: a move from a done status back to a working one."""

from __future__ import annotations

from bd_vpt.beads.model import Bead, Statuses, Transition
from bd_vpt.beads.timeline import episodes


def story(*steps: tuple[str, str], now: str, updated: str = "2026-01-09T00:00:00Z") -> list[str]:
    bead = Bead(
        id="b",
        status=now,
        closed_at="2026-01-02T00:00:00Z" if now == "closed" else None,
        updated_at=updated,
        transitions=[Transition(ts=ts, status=status) for ts, status in steps],
    )
    return [f"{e.kind}@{e.ts[8:10]}" for e in episodes(bead, Statuses())]


def test_pinned_deferred_and_tombstones_are_not_reopens() -> None:
    closed = ("2026-01-02T00:00:00Z", "closed")
    for frozen in ("pinned", "deferred", "tombstone"):
        assert story(closed, ("2026-01-03T00:00:00Z", frozen), now=frozen) == ["close@02"]


def test_back_to_work_after_a_freeze_is_a_reopen() -> None:
    steps = [
        ("2026-01-02T00:00:00Z", "closed"),
        ("2026-01-03T00:00:00Z", "pinned"),
        ("2026-01-04T00:00:00Z", "open"),
        ("2026-01-05T00:00:00Z", "closed"),
    ]
    assert story(*steps, now="closed") == ["close@02", "reopen@04", "close@05"]


def test_custom_statuses_of_bd_and_config() -> None:
    custom = Statuses().with_custom({"resolved": "done", "review": "wip", "later": "frozen"}, [])
    bead = Bead(
        id="b",
        status="review",
        updated_at="2026-01-04T00:00:00Z",
        transitions=[Transition(ts="2026-01-02T00:00:00Z", status="resolved")],
    )
    assert [e.kind for e in episodes(bead, custom)] == ["close", "reopen"]
    bead.status = "later"
    assert [e.kind for e in episodes(bead, custom)] == ["close"]
