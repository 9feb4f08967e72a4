"""The last rows of a fleet trend made alone (metrics.trend_of's `last`) are the last rows of
the whole trend, to the bit; check's alerts judged on weekly_tail's rows are those judged on
the whole weekly trend (pr and check make only the tail). Random ledgers as in
test_trend_pass.py (closes, reopens, rejects, excluded closes, offsets, unpriced usage)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt.economics.alerts import check_rows, weekly_tail
from bd_vpt.economics.metrics import collect, trend_of, window
from bd_vpt.ledger.usage import fold_records
from tests.helpers import outcome, ulid, usage
from tests.test_trend_pass import CONFIG, EVENT, WINDOWS, _records

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENT, min_size=1, max_size=60), st.integers(0, 12))
def test_the_last_rows_alone_are_the_last_rows_of_the_whole(events: list[Any], last: int) -> None:
    records = _records(events)
    for since, until in WINDOWS:
        win = window(since, until)
        for every in ("day", "week", "month"):
            whole = trend_of(collect(records, CONFIG, win, every=every), CONFIG, win, every, None)
            facts = collect(records, CONFIG, win, every=every)
            tail = trend_of(facts, CONFIG, win, every, None, last=last)
            expected = whole[max(0, len(whole) - last) :] if last else []
            assert tail == expected, (since, until, every)
            assert repr(tail) == repr(expected)  # floats to the last bit, -0.0 included


def test_only_a_fleet_trend_is_cut() -> None:
    records = [usage(ulid(1), "2026-11-02T09:00:00Z", "R", "a", "m", 300, 0, 3.0)]
    facts = collect(records, CONFIG, window(None, None), every="week", by="agent")
    with pytest.raises(ValueError):
        trend_of(facts, CONFIG, window(None, None), "week", "agent", last=2)


def _judged(records: list[dict[str, Any]], config: Any) -> tuple[list[Any], list[Any]]:
    """check's alerts on the whole weekly trend, and on weekly_tail's rows (with the
    tail checked to be the whole trend's last rows)."""
    rows, outcomes = fold_records(records, None)
    whole_window = window(None, None)
    by_week = collect(records, config, whole_window, every="week")
    whole = trend_of(by_week, config, whole_window, "week", None)
    tail = weekly_tail(collect(records, config, whole_window, every="week"), config, 3)
    assert tail == whole[len(whole) - len(tail) :]
    assert len(tail) >= min(3, len(whole))
    full = check_rows(rows, outcomes, config, NOW, whole)
    cut = check_rows(rows, outcomes, config, NOW, tail)
    alone = check_rows(rows, outcomes, config, NOW)  # (makes its own tail)
    return [a.as_dict() for a in full], [[a.as_dict() for a in cut], [a.as_dict() for a in alone]]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(EVENT, min_size=1, max_size=60),
    st.sampled_from([-1, 0, 1, 2, 3, 4, 6, 2.0]),
    st.sampled_from([0.0, 0.25, -1.0]),
)
def test_alerts_judged_on_the_tail_are_those_of_the_whole(
    events: list[Any], drift: Any, rise: float
) -> None:
    config = dataclasses.replace(
        CONFIG,
        raw={"thresholds": {"drift_periods": drift, "cost_rise": rise, "outcomes_flat": 1.0}},
    )
    records = _records(events)
    if type(drift) is not int:  # the whole trend is made: judged as before, errors included
        whole = trend_of(
            collect(records, config, window(None, None), every="week"),
            config,
            window(None, None),
            "week",
            None,
        )
        tail = weekly_tail(collect(records, config, window(None, None), every="week"), config)
        assert tail == whole
        return
    full, cut = _judged(records, config)
    assert cut == [full, full]


def test_the_tail_goes_back_to_the_weeks_with_a_close() -> None:
    """Closes in the first weeks only, then weeks of usage alone: the tail reaches back to
    the closes (drift reads the last drift_periods weeks that closed a bead)."""
    records = []
    for n in range(4):  # four weeks of closes, tokens per close rising
        day = 2 + 7 * n
        ts = f"2026-03-{day:02d}T09:00:00Z"
        records.append(usage(ulid(2 * n + 1), ts, f"B-{n}", "a", "m", 1000 * (n + 1), 0, 1.0))
        records.append(outcome(ulid(2 * n + 2), ts, f"B-{n}", "a", "completed", 1))
    for n in range(40):  # then forty weeks without a close
        day = datetime(2026, 4, 1, tzinfo=UTC).toordinal() + 7 * n
        ts = datetime.fromordinal(day).strftime("%Y-%m-%dT10:00:00Z")
        records.append(usage(ulid(100 + n), ts, None, "a", "m", 50, 0, 0.5))
    config = dataclasses.replace(CONFIG, raw={"thresholds": {"drift_periods": 4}})
    tail = weekly_tail(collect(records, config, window(None, None), every="week"), config, 3)
    assert sum(1 for row in tail if row["beads_closed"]) == 4
    full, cut = _judged(records, config)
    assert [a["name"] for a in full] == ["drift"]
    assert cut == [full, full]
