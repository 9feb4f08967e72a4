"""The compiled collect over a window (economics/compiled/collect.c) sums what collect_rows
sums, and the compiled group (economics/compiled/grouped.c) gives collect_rows' outcomes per bead and
its count of the outcomes a window holds exactly as Python's loop (parse_ts, Window.holds):
over random outcome records (times in format_ts's shape and in every other, days that do not
exist, records with no bead or no time) and windows whose ends fall anywhere (a microsecond
off a record's millisecond, any zone, no zone, the first and last years), the same beads in
the same order, the same records, the same count, or the same error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt.config import Config
from bd_vpt.economics import facts, timeline
from bd_vpt.economics.periods import Window
from bd_vpt.ledger.usage import BY_DAY, INSIDE, OUTSIDE
from tests.test_compiled import _facts, usage_rows

needs_compiled = pytest.mark.skipif(timeline.COMPILED is None, reason="not built here")

STAMPS = [
    "2026-03-01T10:00:00.000Z",
    "2026-03-01T10:00:00.001Z",
    "2026-03-01T09:59:59.999Z",
    "2026-03-02T00:00:00.000Z",
    "2024-02-29T23:59:59.999Z",
    "0001-01-01T00:00:00.000Z",
    "9999-12-31T23:59:59.999Z",
]
ODD = [
    "2026-03-01T11:00:00.000+01:00",
    "2026-03-01",
    "2026-03-01T10:00:00Z",
    "2026-03-01T10:00:00.0001Z",
    "2023-02-29T10:00:00.000Z",  # no such day
    "2026-03-01T24:00:00.000Z",
    "2026-03-01T10:00:60.000Z",
    "0000-01-01T00:00:00.000Z",
    "2026-03-01 10:00:00.000Z",
    7,
]
MOMENT = datetime(2026, 3, 1, 10, tzinfo=UTC)
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=3)), None]
)


@st.composite
def ends(draw: st.DrawFn) -> datetime | None:
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return None
    if kind == 6:  # a midnight: no day cut
        return draw(st.sampled_from([MOMENT.replace(hour=0), datetime(2026, 3, 2, tzinfo=UTC)]))
    if kind == 1:
        return draw(
            st.sampled_from([datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)])
        )
    moment = MOMENT + timedelta(microseconds=draw(st.integers(-2000, 2000)))
    moment += timedelta(days=draw(st.sampled_from([0, 0, 1, -1, -800])))
    zone = draw(ZONES)
    return moment.replace(tzinfo=None) if zone is None else moment.astimezone(zone)


@st.composite
def outcome(draw: st.DrawFn, odd: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": draw(st.sampled_from(["01A", "01B"])),
        "ts": draw(st.sampled_from(STAMPS + ODD if odd else STAMPS)),
        "bead": draw(st.sampled_from(["b1", "b2", "b3", None])),
        "kind": "outcome",
        "result": "completed",
    }
    if odd and draw(st.integers(0, 9)) == 0:
        del record[draw(st.sampled_from(["ts", "bead"]))]
    return record


def _grouped(records: list[Any], win: Window | None) -> tuple[Any, ...]:
    try:
        found = facts.collect_rows({}, records, Config(), win)
    except Exception as error:  # the error itself is what is compared
        return ("error", type(error))
    grouped = [(bead, [id(r) for r in rs]) for bead, rs in found.outcomes.items()]
    return grouped, found.outcome_records


def _alike(records: list[Any], win: Window | None) -> None:
    compiled = _grouped(records, win)
    timeline.COMPILED, saved = None, timeline.COMPILED
    try:
        python = _grouped(records, win)
    finally:
        timeline.COMPILED = saved
    assert compiled == python


@needs_compiled
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(outcome(odd=False), max_size=12), ends(), ends())
def test_outcomes_in_format_ts_shape_are_grouped_and_counted_alike(
    records: list[dict[str, Any]], since: datetime | None, until: datetime | None
) -> None:
    _alike(records, Window(since, until))


@needs_compiled
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(outcome(odd=True), max_size=8), ends(), ends())
def test_any_outcomes_are_grouped_alike_or_fail_alike(
    records: list[dict[str, Any]], since: datetime | None, until: datetime | None
) -> None:
    _alike(records, Window(since, until))
    _alike(records, None)


@needs_compiled
def test_the_ends_are_placed_to_the_microsecond() -> None:
    """A record at since is in, a millisecond before is out; at until is out; an end a
    microsecond after a record's millisecond leaves it out (since) or in (until)."""
    stamps = ["2026-03-01T09:59:59.999Z", "2026-03-01T10:00:00.000Z", "2026-03-01T10:00:00.001Z"]
    records = [{"id": str(i), "ts": ts, "bead": "b"} for i, ts in enumerate(stamps)]
    micro = timedelta(microseconds=1)
    for since, until, count in [
        (MOMENT, MOMENT + 1000 * micro, 1),
        (MOMENT + micro, MOMENT + 1001 * micro, 1),
        (MOMENT - micro, MOMENT + micro, 1),
        (MOMENT - 1000 * micro, MOMENT + 1000 * micro, 2),
    ]:
        win = Window(since, until)
        assert facts.stamp_ends(win) is not None
        assert facts.collect_rows({}, records, Config(), win).outcome_records == count
        _alike(records, win)
    assert facts.stamp_ends(Window(MOMENT.replace(tzinfo=None), None)) is None


@st.composite
def placed_rows(draw: st.DrawFn) -> dict[tuple[Any, ...], list[Any]]:
    """Usage rows (test_compiled's), those of some days placed in or out of a window (cut)."""
    rows = draw(usage_rows(odd=draw(st.integers(0, 4)) == 0))
    cuts = st.sampled_from([INSIDE, OUTSIDE] * 8 + [BY_DAY, None, True])
    return {(*key[:5], draw(cuts), key[6]): row for key, row in rows.items()}


@needs_compiled
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(placed_rows(), ends(), ends(), st.sampled_from([None, "week", "month"]))
def test_usage_rows_in_a_window_are_summed_alike(
    rows: dict[tuple[Any, ...], list[Any]],
    since: datetime | None,
    until: datetime | None,
    every: str | None,
) -> None:
    """The compiled collect over a window (the days its ends cut placed row by row) gives
    collect_rows' facts, or declines and Python gives them, errors included."""
    win = Window(since, until)

    def collected() -> Any:
        try:
            return _facts(facts.collect_rows(rows, [], Config(), win, every=every))
        except Exception as error:  # the error itself is what is compared
            return type(error)

    compiled = collected()
    timeline.COMPILED, saved = None, timeline.COMPILED
    try:
        assert compiled == collected()
    finally:
        timeline.COMPILED = saved


def _days(records: list[Any]) -> dict[str, int] | None:
    """The compiled group's count of outcomes per day, or None where it declines."""
    assert timeline.COMPILED is not None
    days: dict[str, int] = {}
    found = timeline.COMPILED.group(records, {}, None, None, False, days)
    return None if found is None else days


@needs_compiled
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(outcome(odd=True), max_size=10))
def test_the_days_counted_as_grouped_are_outcome_days(records: list[dict[str, Any]]) -> None:
    """group's days are periodic.outcome_days over the grouped outcomes, order aside, when
    every time is in format_ts's shape; with any other (or none), it declines and leaves
    both dicts empty; and what collect_rows keeps (Facts.days) is the same."""
    from collections import Counter

    from bd_vpt.economics.periodic import outcome_days

    shaped = all(isinstance(r, dict) and "bead" in r and r.get("ts") in STAMPS for r in records)
    days = _days(records)
    if not shaped:
        assert days is None
        return
    assert days is not None
    grouped = facts.collect_rows({}, records, Config(), None)
    assert Counter(days) == Counter(outcome_days(grouped.outcomes.values(), None))
    assert grouped.days == days
    timeline.COMPILED, saved = None, timeline.COMPILED
    try:
        assert facts.collect_rows({}, records, Config(), None).days is None  # (Python: none)
    finally:
        timeline.COMPILED = saved


@needs_compiled
def test_a_window_counts_no_days() -> None:
    """Facts.days is kept only for facts collected with no window (trend_of's per_day with a
    window is counted by outcome_days, as before)."""
    records = [{"id": "1", "ts": STAMPS[0], "bead": "b"}, {"id": "2", "ts": STAMPS[3], "bead": "b"}]
    assert facts.collect_rows({}, records, Config(), None).days == {
        "2026-03-01": 1,
        "2026-03-02": 1,
    }
    assert facts.collect_rows({}, records, Config(), Window(MOMENT, None)).days is None
