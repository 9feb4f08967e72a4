"""The spike alert (economics/spikes.py) fires exactly as the first way of writing it (kept
here: each day and session summed through counted(), statistics.median of each trailing
window), on random usage rows: every token basis, unsplit and unpriced rows, sessions that
start on one day and go on the next, and spikes of every size. Both ways of summing: the
compiled sums (economics/compiled/spikes.c) and Python's, which agree on any rows or the
compiled one declines."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bd_vpt.config import Config
from bd_vpt.economics import timeline
from bd_vpt.economics.spikes import above_trailing_median, spikes, sums
from bd_vpt.ledger.usage import FIRST, UNPRICED, UNSPLIT, Row, RowKey, counted

BASES = ["total", "input_output", "no_cache_read", "output"]


def _first_way(rows: dict[RowKey, Row], config: Config, limits: dict[str, Any]) -> list[Any]:
    fired: list[Any] = []

    def trailing(series: list[tuple[str, int]], lookback: int) -> list[tuple[str, int, float]]:
        found = []
        values = [v for _, v in series]
        for index in range(limits["spike_history"], len(series)):
            key, value = series[index]
            median = statistics.median(values[max(0, index - lookback) : index])
            if median and value >= limits["spike_factor"] * median:
                found.append((key, value, median))
        return found

    days: dict[str, int] = defaultdict(int)
    sessions: dict[str, tuple[str, int]] = {}
    for (_bead, _actor, _model, day, shape, _cut, session), row in rows.items():
        count = counted(row, shape, config.token_basis)
        days[day] += count
        if session:
            first, total = sessions.get(session, (row[FIRST], 0))
            sessions[session] = (min(first, row[FIRST]), total + count)
    for day, count, median in trailing(sorted(days.items()), 7):
        fired.append(("day", day, count, median, type(median)))
    runs = [(s, count) for s, (_, count) in sorted(sessions.items(), key=lambda kv: kv[1][0])]
    for session, count, median in trailing(runs, 20):
        fired.append(("session", session, count, median, type(median)))
    return fired


def _fired(rows: dict[RowKey, Row], config: Config, limits: dict[str, Any]) -> list[Any]:
    """What spikes fires, with the compiled sums and without (the same)."""
    found: list[Any] = []

    def fire(
        name: str, _p: str, _a: str, evidence: dict[str, Any], subject: str, said: str
    ) -> None:
        assert name == "spike" and said
        kind = "day" if "day" in evidence else "session"
        median = evidence["trailing_median"]
        found.append((kind, evidence[kind], evidence["tokens"], median, type(median)))

    spikes(rows, config, limits, fire)
    compiled, fired = timeline.COMPILED, list(found)
    found.clear()
    try:
        timeline.COMPILED = None
        spikes(rows, config, limits, fire)
    finally:
        timeline.COMPILED = compiled
    assert found == fired
    return fired


ROW = st.tuples(
    st.integers(1, 40),  # day of November
    st.one_of(st.none(), st.just(""), st.integers(1, 60).map(lambda n: f"s{n}")),  # session
    st.sampled_from([0, UNPRICED, UNSPLIT, UNPRICED | UNSPLIT]),  # shape
    st.integers(0, 23),  # hour of the row's first record
    st.lists(st.integers(0, 10**6), min_size=7, max_size=7),  # counts and token kinds
    st.sampled_from(["a", "b"]),  # actor
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(ROW, max_size=80),
    st.sampled_from(BASES),
    st.sampled_from([1.0, 1.5, 2.0, 10.0]),
    st.integers(1, 4),
)
def test_spikes_fire_as_the_first_way(
    drawn: list[Any], basis: str, factor: float, history: int
) -> None:
    rows: dict[RowKey, Row] = {}
    for day, session, shape, hour, numbers, actor in drawn:
        first = f"2026-{11 + (day > 30)}-{(day - 1) % 30 + 1:02d}T{hour:02d}:00:00.000Z"
        key = (None, actor, "m", first[:10], shape, 0, session)
        rows[key] = [*numbers[:7], 10**6, first]
    config = Config(token_basis=basis)
    limits = {"spike_factor": factor, "spike_history": history}
    expected = _first_way(rows, config, limits)
    assert _fired(rows, config, limits) == expected


def test_a_loop_fires_on_its_day_and_its_session() -> None:
    rows: dict[RowKey, Row] = {}
    for day in range(1, 9):
        tokens = 100 if day < 8 else 5_000
        for session in (f"s{day}a", f"s{day}b"):
            first = f"2026-11-{day:02d}T09:00:00.000Z"
            rows[(None, "a", "m", first[:10], 0, 0, session)] = [1, tokens, 0, 0, 0, 0, 0, 0, first]
    limits = {"spike_factor": 10.0, "spike_history": 3}
    found = _fired(rows, Config(), limits)
    assert [f[:3] for f in found] == [
        ("day", "2026-11-08", 10_000),
        ("session", "s8a", 5_000),
        ("session", "s8b", 5_000),
    ]
    assert found == _first_way(rows, Config(), limits)


COMPILED = timeline.COMPILED
needs_compiled = pytest.mark.skipif(COMPILED is None, reason="the compiled sums are not built here")
ODD = st.one_of(
    st.integers(0, 10**6),
    st.integers(2**51, 2**64),  # sums beyond 2^52 (64 bits): declined
    st.integers(-(2**63), -(2**62)),
    st.floats(0, 1e6, allow_nan=False),  # not an int: declined
    st.booleans(),
)


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 30),
            st.one_of(
                st.none(), st.just(""), st.integers(1, 40).map(lambda n: f"s{n}"), st.just(7)
            ),
            st.sampled_from([0, UNPRICED, UNSPLIT, UNPRICED | UNSPLIT]),
            st.one_of(st.integers(0, 23), st.none()),  # the first ts's hour (None: not a str)
            st.lists(ODD, min_size=7, max_size=7),
            st.booleans(),  # a key of another length
        ),
        max_size=60,
    ),
    st.sampled_from([10.0, 1.5, 1.0, 0.0, -2.0, float("inf"), float("nan"), 2, 3]),
    st.sampled_from([1, 3, 0, -4, 25, 2**70, 2.0, True]),
)
def test_the_compiled_finder_is_python_s_or_declines(
    drawn: list[Any], factor: Any, history: Any
) -> None:
    rows: dict[Any, Any] = {}
    plain = type(factor) is float and type(history) is int and history < 2**63
    for n, (day, session, shape, hour, numbers, odd_key) in enumerate(drawn):
        first = None if hour is None else f"2026-11-{day % 9 + 1:02d}T{hour:02d}:00:00.000Z"
        key: tuple[Any, ...] = (None, f"a{n % 3}", "m", f"2026-11-{day:02d}", shape, 0, session)
        if odd_key:
            key = key[:6]
        rows[key] = [*numbers, 10**6, first]
        plain = plain and not odd_key and session != 7 and not (session and hour is None)
        plain = plain and all(type(x) is int and 0 <= x <= 10**6 for x in numbers)
    assert COMPILED is not None
    got = COMPILED.spikes_found(rows, factor, history, 7, 20)
    if plain:
        assert got is not None
    if got is None:
        return
    limits = {"spike_factor": factor, "spike_history": history}
    days, firsts, sessions = sums(rows, "total")
    runs = [(s, sessions[s]) for s in sorted(firsts, key=firsts.__getitem__)]
    expected = (
        above_trailing_median(sorted(days.items()), 7, limits),
        above_trailing_median(runs, 20, limits),
    )
    assert repr(got) == repr(expected)  # medians int or float, as Python makes them
