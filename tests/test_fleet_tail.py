"""The compiled tail (economics/compiled/fleet_tail.c, fleet_wide.c) gives what the Python
routes give, to the bit: the rows of a fleet trend (periodic.compiled_rows against
fleet_rows, and against each period summarized alone), a window's totals (compiled_totals
against summarize_facts: pr's baseline), and check's fleet-wide figures (fleetwide's
compiled route against its Python one), on random ledgers as in test_trend_pass.py (closes,
restated closes, reopens, rejects, excluded closes, times with offsets, values, human
minutes around the limit, completions below one, unknown priorities, unpriced usage), by
day, week and month, over windows. It declines what it does not place: a moment not in UTC,
a bucket of floats, a cost of delay, a window open at an end (then Python makes the same)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta, timezone
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt.economics import metrics, timeline
from bd_vpt.economics.fleetwide import fleetwide
from bd_vpt.economics.metrics import (
    bead_states,
    collect,
    fleet_facts,
    summarize_facts,
    trend_of,
    window,
)
from bd_vpt.economics.periodic import compiled_rows, compiled_totals, states_like
from bd_vpt.economics.periods import periods_between
from tests import test_trend_pass
from tests.test_fleetwide import counted
from tests.test_trend_pass import EVENT, WINDOWS, _records

# test_trend_pass's config without a cost of delay (the compiled tail declines one)
CONFIG = dataclasses.replace(
    test_trend_pass.CONFIG, delay_usd_per_day=0.0, delay_by_label={}, delay_by_type={}
)
COMPILED = timeline.COMPILED
needs_compiled = pytest.mark.skipif(COMPILED is None, reason="the compiled tail is not built here")


def python_rows() -> Any:
    """trend_of makes a fleet trend's rows with fleet_rows (the compiled tail declines)."""
    return patch.object(metrics, "compiled_rows", lambda *args: None)


@contextmanager
def python_only() -> Iterator[None]:
    compiled = timeline.COMPILED
    timeline.COMPILED = None
    try:
        yield
    finally:
        timeline.COMPILED = compiled


def _keys(rows: list[dict[str, Any]]) -> list[str]:
    return [row["period"] for row in rows]


@needs_compiled
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENT, min_size=1, max_size=60), st.sampled_from([None, 1, 2, 5, 12]))
def test_compiled_rows_are_fleet_rows(events: list[Any], last: int | None) -> None:
    records = _records(events)
    for since, until in WINDOWS:
        win = window(since, until)
        for every in ("day", "week", "month"):
            quick = trend_of(
                collect(records, CONFIG, win, every=every), CONFIG, win, every, None, last=last
            )
            with python_rows():
                slow = trend_of(
                    collect(records, CONFIG, win, every=every), CONFIG, win, every, None, last=last
                )
            alone = trend_of(
                collect(records, CONFIG, win, every=every),
                CONFIG,
                win,
                every,
                None,
                by_summaries=True,
            )
            alone = alone[len(alone) - len(quick) :]
            assert quick == slow == alone, (since, until, every)
            assert repr(quick) == repr(slow) == repr(alone)  # floats to the bit, -0.0 included
            facts = collect(records, CONFIG, win, every=every)
            if quick:  # (the compiled route made them: it did not decline)
                made = compiled_rows(facts, bead_states(facts), _keys(quick), every, CONFIG, {})
                assert made is not None
                assert [r["tokens"] for r in made] == [r["tokens"] for r in quick]


@needs_compiled
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENT, min_size=1, max_size=60), st.sampled_from([0.0, 3.5, 20.0, 30, 48.25]))
def test_fleetwide_compiled_is_python(events: list[Any], limit: float) -> None:
    records = _records(events)
    by_week = collect(records, CONFIG, window(None, None), every="week")
    states = bead_states(by_week)
    for facts in (by_week, fleet_facts(by_week), collect(records, CONFIG)):
        quick, quick_types = fleetwide(facts, states, limit)
        with python_only():
            slow, slow_types = fleetwide(facts, states, limit)
        assert counted(quick) == counted(slow)
        assert repr(counted(quick)) == repr(counted(slow))
        assert list(quick_types.items()) == list(slow_types.items())
        assert COMPILED is not None
        assert COMPILED.tail_wide(facts.buckets, states, float(limit), *_TYPES) is not None


_TYPES = (timeline.BeadState, timeline.Completion)

# windows closed at both ends (a window open at an end is declined): on midnights, cutting
# days, one moment long, and in another time zone
CLOSED = [
    ("2026-10-05", "2026-11-20"),
    ("2026-10-07T13:00:00Z", "2026-11-19T06:30:00Z"),
    ("2026-10-20T10:00:00+09:30", "2026-10-20T00:30:00.000001Z"),
    ("2026-10-01T00:00:00-07:00", "2026-11-30"),
]


@needs_compiled
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENT, min_size=1, max_size=60))
def test_compiled_totals_are_a_window_s_summary(events: list[Any]) -> None:
    records = _records(events)
    for since, until in CLOSED:
        win = window(since, until)
        facts = collect(records, CONFIG, win)
        quick = compiled_totals(facts, bead_states(facts), CONFIG, win)
        expected = summarize_facts(collect(records, CONFIG, win), CONFIG, win=win)["totals"]
        assert quick == expected, (since, until)
        assert repr(quick) == repr(expected)  # floats to the bit, -0.0 included
    for start, end in [(None, None), ("2026-10-05", None), (None, "2026-11-20")]:
        win = window(start, end)
        facts = collect(records, CONFIG, win)
        assert compiled_totals(facts, bead_states(facts), CONFIG, win) is None


def _ledger() -> tuple[Any, list[str]]:
    records = _records([(True, 1, 3, 9, 0, False, 2), (False, 1, 4, 10, 0, False, 0)])
    records += _records([(False, 2, 20, 10, 0, True, 1), (True, 2, 21, 9, 0, False, 3)])
    facts = collect(records, CONFIG, window(None, None), every="week")
    have = {key[1] for key in facts.buckets}
    return facts, periods_between(min(have), max(have), "week")


@needs_compiled
def test_a_moment_not_in_utc_is_declined() -> None:
    facts, keys = _ledger()
    states = bead_states(facts)
    expected = trend_of(facts, CONFIG, window(None, None), "week", None)
    assert compiled_rows(facts, states, keys, "week", CONFIG, {}) is not None
    bead, state = next(iter(states.items()))
    assert state.last_at is not None
    later = state.last_at.astimezone(timezone(timedelta(hours=1)))  # the same moment
    states[bead] = dataclasses.replace(state, last_at=later, closed_at=later, closed=False)
    assert compiled_rows(facts, states, keys, "week", CONFIG, {}) is None
    states[bead] = state
    assert trend_of(facts, CONFIG, window(None, None), "week", None) == expected


@needs_compiled
def test_buckets_of_floats_and_a_cost_of_delay_are_declined() -> None:
    facts, keys = _ledger()
    states = bead_states(facts)
    assert compiled_rows(facts, states, keys, "week", test_trend_pass.CONFIG, {}) is None
    facts.buckets = {key: [float(v) for v in bucket] for key, bucket in facts.buckets.items()}
    assert compiled_rows(facts, states, keys, "week", CONFIG, {}) is None
    assert COMPILED is not None
    assert COMPILED.tail_wide(facts.buckets, states, 20.0, *_TYPES) is None


@needs_compiled
def test_an_index_that_does_not_number_the_periods_is_declined() -> None:
    facts, keys = _ledger()
    states = bead_states(facts)
    args = (facts.bead_days, facts.unpriced_days, CONFIG.weights, 61.0, 20.0, *_TYPES)
    bounds = list(range(0, 10**15, 10**15 // 5))[: len(keys) + 1]
    assert COMPILED is not None
    assert COMPILED.tail_rows(
        states, facts.buckets, {k: i for i, k in enumerate(keys)}, bounds, *args
    )
    for wrong in (len(keys), -1, "0", 2**70):
        index = {k: wrong if i == 0 else i for i, k in enumerate(keys)}  # (a bucket's)
        assert COMPILED.tail_rows(states, facts.buckets, index, bounds, *args) is None


@needs_compiled
def test_periods_that_do_not_follow_one_another_are_declined() -> None:
    facts, keys = _ledger()
    states = bead_states(facts)
    assert len(keys) == 4
    assert compiled_rows(facts, states, [keys[0], keys[2]], "week", CONFIG, {}) is None


@needs_compiled
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENT, min_size=1, max_size=60), st.integers(0, 8), st.integers(0, 3))
def test_totals_from_another_ledger_s_states(events: list[Any], dropped: int, shift: int) -> None:
    """A base with some of the head's records (the same objects) left out: its beads take
    the head's states where their records are the head's, and the totals are its own."""
    records = _records(events)
    head = collect(records, CONFIG)
    bead_states(head)
    kept = [r for i, r in enumerate(records) if dropped == 0 or (i + shift) % (dropped + 1)]
    for since, until in CLOSED:
        win = window(since, until)
        base = collect(kept, CONFIG, win)
        states = states_like(base, head)
        assert isinstance(states, tuple)
        grouped, like, _, fresh = states
        assert grouped is base.outcomes and like is head.outcomes
        assert set(fresh) == {b for b, rs in grouped.items() if rs != head.outcomes.get(b)}
        quick = compiled_totals(base, states, CONFIG, win)
        expected = summarize_facts(collect(kept, CONFIG, win), CONFIG, win=win)["totals"]
        assert quick == expected, (since, until)
        assert repr(quick) == repr(expected)


@needs_compiled
def test_a_state_the_other_ledger_lacks_is_declined() -> None:
    records = _records([(True, 1, 3, 9, 0, False, 2), (False, 1, 4, 10, 0, False, 0)])
    records += _records([(False, 2, 20, 10, 0, True, 1), (True, 2, 21, 9, 0, False, 3)])
    head = collect(records, CONFIG)
    bead_states(head)
    win = window("2026-10-01", "2026-11-01")
    base = collect(records, CONFIG, win)
    states = states_like(base, head)
    assert isinstance(states, tuple)
    grouped, like, like_states, fresh = states
    assert not fresh and like_states is head.states  # (the same records: every state read)
    expected = summarize_facts(collect(records, CONFIG, win), CONFIG, win=win)["totals"]
    assert compiled_totals(base, states, CONFIG, win) == expected
    assert compiled_totals(base, (grouped, like, {}, {}), CONFIG, win) is None
