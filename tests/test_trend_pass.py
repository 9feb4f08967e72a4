"""A fleet trend in one pass over the beads (economics/periodic.py) gives the rows of each
period summarized alone (metrics.trend_of's route for --by), to the bit: on random ledgers
of usage and outcomes (closes, restated closes, reopens, rejects, excluded closes, times with
offsets, values, human minutes, completions below one, unknown priorities, unpriced usage),
by day, week and month, over windows on midnights and windows that cut days."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt.config import Config
from bd_vpt.economics.metrics import collect, trend_of, window
from tests.helpers import outcome, ulid, usage

RESULTS = ["completed"] * 5 + ["reopened", "reopened", "rejected", "abandoned", "completed"]
CONFIG = Config(
    human_usd_per_hour=61.0,
    delay_usd_per_day=3.7,
    delay_by_label={"pay": 13.1},
    delay_by_type={"bug": 0.3},
    escalation_minutes=20.0,
)
WINDOWS = [
    (None, None),
    ("2026-10-05", "2026-11-20"),
    ("2026-10-07T13:00:00Z", "2026-11-19T06:30:00Z"),
    (None, "2026-11-02T09:15:00Z"),
]


def _ts(day: int, hour: int, minute: int, offset: bool) -> str:
    month, dom = (10, day) if day <= 31 else (11, day - 31)
    if offset:  # an offset moves the moment, and maybe its UTC day
        return f"2026-{month:02d}-{dom:02d}T{hour:02d}:{minute:02d}:00+09:30"
    return f"2026-{month:02d}-{dom:02d}T{hour:02d}:{minute:02d}:07.250Z"


EVENT = st.tuples(
    st.booleans(),  # usage, else an outcome
    st.integers(0, 7),  # bead (0: none, for usage)
    st.integers(1, 58),  # day: October and November
    st.integers(0, 23),
    st.integers(0, 59),
    st.booleans(),  # an offset time
    st.integers(0, 9),  # a choice among variants
)


def _records(events: list[tuple[bool, int, int, int, int, bool, int]]) -> list[dict[str, Any]]:
    records = []
    for n, (is_usage, bead, day, hour, minute, offset, pick) in enumerate(events, 1):
        ts = _ts(day, hour, minute, offset)
        name = f"B-{bead}" if bead else None
        if is_usage:
            cost = None if pick == 0 else round(0.0137 * n * (pick + 1), 6)
            records.append(usage(ulid(n), ts, name, f"a{pick % 3}", "m", 900 * n, 37 * pick, cost))
            continue
        extra: dict[str, Any] = {}
        if pick % 3 == 0:
            extra["human_minutes"] = (3.5, 20.0, 48.25)[(n + pick) % 3]  # limit: 20 minutes
        if pick % 4 == 1:
            extra["value_usd"] = 101.3 * pick
        if pick == 5:
            extra["completion"] = 0.37
        if pick == 4:
            extra["excluded"] = "wisp"
        extra["labels"] = ["pay"] if pick % 5 == 2 else []
        extra["type"] = "bug" if pick % 2 else "task"
        priority = None if pick == 9 else pick % 5
        result = RESULTS[(pick + n // 7) % len(RESULTS)]
        records.append(outcome(ulid(n), ts, name or "B-0", "a0", result, priority, **extra))
    return records


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENT, min_size=1, max_size=60))
def test_one_pass_gives_each_period_s_summary(events: list[Any]) -> None:
    records = _records(events)
    for since, until in WINDOWS:
        win = window(since, until)
        for every in ("day", "week", "month"):
            facts = collect(records, CONFIG, win, every=every)
            quick = trend_of(facts, CONFIG, win, every, None)
            facts = collect(records, CONFIG, win, every=every)
            slow = trend_of(facts, CONFIG, win, every, None, by_summaries=True)
            assert quick == slow, (since, until, every)
            assert repr(quick) == repr(slow)  # floats to the last bit, -0.0 included


def test_the_routes_agree_on_a_bead_closed_and_reopened_twice() -> None:
    records = [
        usage(ulid(1), "2026-11-02T09:00:00Z", "R", "a", "m", 300_000, 0, 3.0),
        outcome(ulid(2), "2026-11-02T18:00:00Z", "R", "a", "completed", 1, human_minutes=40),
        outcome(ulid(3), "2026-11-10T08:00:00Z", "R", "lead", "reopened", 1),
        usage(ulid(4), "2026-11-10T09:00:00Z", "R", "a", "m", 100_000, 0, 1.0),
        outcome(ulid(5), "2026-11-20T12:00:00Z", "R", "a", "completed", 1, value_usd=1200.0),
        outcome(ulid(6), "2026-11-21T08:00:00Z", "R", "lead", "reopened", 1),
        outcome(ulid(7), "2026-11-22T08:00:00Z", "R", "a", "completed", 1, human_minutes=5),
    ]
    facts = collect(records, CONFIG, window(None, None), every="week")
    rows = trend_of(facts, CONFIG, window(None, None), "week", None)
    assert [(r["period"], r["completions"], r["reopens"], r["beads_closed"]) for r in rows] == [
        ("2026-W45", 1, 0, 0),
        ("2026-W46", 0, 1, 0),
        ("2026-W47", 2, 1, 1),
    ]
    assert rows[0]["escalations"] == 1 and rows[2]["value_usd"] == 0.0  # the last close's
    assert rows[2]["human_minutes"] == 45.0 and rows[2]["rework_usd"] == 4.0
    again = collect(records, CONFIG, window(None, None), every="week")
    assert rows == trend_of(again, CONFIG, window(None, None), "week", None, by_summaries=True)


def test_periods_left_out_of_the_list_are_left_out_both_ways() -> None:
    """Year 2 sorts before year 2000 as text ("2-W01"): the listed periods stop in year 3,
    and the usage of 2000 is in no row, by either route."""
    records = [
        usage(ulid(1), "0002-01-01T00:00:00+00:00", "A", "a", "m", 10, 1, 0.5),
        usage(ulid(2), "2000-01-05T00:00:00Z", "A", "a", "m", 20, 2, 0.25),
        outcome(ulid(3), "2000-01-05T01:00:00Z", "A", "a", "completed", 1),
    ]
    facts = collect(records, CONFIG, window(None, None), every="week")
    rows = trend_of(facts, CONFIG, window(None, None), "week", None)
    assert rows[0]["period"] == "2-W01" and sum(r["tokens"] for r in rows) == 11
    again = collect(records, CONFIG, window(None, None), every="week")
    assert rows == trend_of(again, CONFIG, window(None, None), "week", None, by_summaries=True)
