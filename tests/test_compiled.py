"""economics' compiled parts (economics/compiled/*.c) give what Python gives.

The compiled story folds each bead's outcomes exactly as timeline.fold does: the same BeadState, field by field, floats to the bit, the same objects
where fold keeps an object (the snapshot, the texts), and the same error where fold raises
(it declines such a bead and Python folds it). Explored with random outcome lists in the
shape bd-vpt writes and in every shape a hand-written or older ledger may hold.

The compiled collect sums a fleet summary's usage rows per bead exactly as
facts.collect_rows does, or declines (a sum beyond 64 bits, a value that is not an int).

By hand, after a change to the C (not in CI), with the sanitizers (see tests/test_lane.py):

    gcc -shared -fPIC -g -O1 -fsanitize=address,undefined -I/usr/include/python3.11 \
        bd_vpt/economics/compiled/*.c -o /tmp/asan/_compiled.cpython-311-x86_64-linux-gnu.so
    ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD="$(gcc -print-file-name=libasan.so) \
        $(gcc -print-file-name=libubsan.so)" .venv/bin/python -m tests.asan compiled /tmp/asan
"""

from __future__ import annotations

import math
import shutil
import struct
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt.config import Config
from bd_vpt.economics import facts, timeline
from bd_vpt.economics.timeline import BeadState, Completion

COMPILED = timeline.COMPILED
needs_story = pytest.mark.skipif(COMPILED is None, reason="the compiled story is not built here")


def test_the_compiled_story_is_built_where_a_c_compiler_is() -> None:
    if shutil.which("cc") or shutil.which("gcc"):
        assert COMPILED is not None


def _exact(value: Any, given: dict[int, int]) -> Any:
    """A value as fold made it, comparable to the bit: floats by their bytes, datetimes with
    their zone, completions field by field, the type of every leaf, and for a dict, which of
    the records' snapshots it is (given: their ids), or a new one's contents."""
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), value.tzinfo)
    if isinstance(value, Completion):
        return ("run", *(_exact(getattr(value, f), given) for f in Completion.__slots__))
    if isinstance(value, list):
        return ("list", *(_exact(v, given) for v in value))
    if isinstance(value, dict):
        return ("dict", given.get(id(value), -1), value)
    return (type(value).__name__, value)


def _state(state: BeadState, records: list[Any]) -> tuple[Any, ...]:
    given = {id(r["snapshot"]): i for i, r in enumerate(records) if "snapshot" in r}
    return tuple(_exact(getattr(state, f), given) for f in BeadState.__slots__)


def _python(bead: str, outcomes: list[Any]) -> BeadState | BaseException:
    timeline.forget_states()
    try:
        return timeline.state_of(bead, outcomes)
    except Exception as error:  # the error itself is what is compared
        return error


def _both_agree(grouped: dict[str, list[Any]]) -> dict[str, Any] | None:
    expected = {bead: _python(bead, outcomes) for bead, outcomes in grouped.items() if outcomes}
    errors = [e for e in expected.values() if isinstance(e, BaseException)]
    if errors:
        with pytest.raises(type(errors[0])):
            timeline.states_of(grouped)
        return None
    timeline.forget_states()  # (else the last bead's state is Python's, held)
    got = timeline.states_of(grouped)
    assert list(got) == list(expected)
    for bead, state in expected.items():
        assert isinstance(state, BeadState)
        records = grouped[bead]
        assert _state(got[bead], records) == _state(state, records), (bead, records)
    return got


STAMPS = st.sampled_from(
    [
        "2026-03-01T10:00:00.000Z",
        "2026-03-01T10:00:00.000Z",
        "2026-03-01T10:00:00.001Z",
        "2026-03-02T00:00:00.000Z",
        "2024-02-29T23:59:59.999Z",
    ]
)
ODD_STAMPS = st.sampled_from(
    [
        "2026-03-01T11:00:00.000+01:00",  # the same moment as the first
        "2026-03-01",
        "2026-03-01T10:00:00Z",
        "2026-03-01t10:00:00.000Z",
        "2023-02-29T10:00:00.000Z",  # no such day: fold raises
        "2026-03-01T24:00:00.000Z",
        "0000-01-01T00:00:00.000Z",
        " 2026-03-01T10:00:00.000Z",
    ]
)
AMOUNTS = st.one_of(
    st.none(),
    st.integers(0, 10**6),
    st.floats(0, 1e6, allow_nan=False),
    st.sampled_from([0, 0.0, -0.0, 0.1, 1, 2**70, 10**400, 1e308]),
)
ODD_AMOUNTS = st.sampled_from([True, False, "5", "", [], "x"])
RESULTS = st.sampled_from(["completed", "completed", "reopened", "rejected", "abandoned"])
ODD_RESULTS = st.sampled_from(["other", "", 1, None])


@st.composite
def outcomes(draw: st.DrawFn, odd: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "v": 1,
        "id": draw(st.sampled_from(["01A", "01B", "01C", "01D"])),
        "ts": draw(st.one_of(STAMPS, ODD_STAMPS) if odd else STAMPS),
        "actor": draw(st.sampled_from(["a", "b"])),
        "kind": "outcome",
        "result": draw(st.one_of(RESULTS, ODD_RESULTS) if odd else RESULTS),
    }
    amounts = st.one_of(AMOUNTS, ODD_AMOUNTS) if odd else AMOUNTS
    for name in ("human_minutes", "value_usd", "completion"):
        if draw(st.booleans()):
            record[name] = draw(amounts)
    if draw(st.booleans()):
        record["snapshot"] = draw(
            st.sampled_from([{}, {"priority": 1}, {"priority": 0, "labels": ["x"]}])
        )
    if draw(st.booleans()):
        record["excluded"] = draw(st.sampled_from(["wisp", "", None, "parent"]))
    if odd and draw(st.integers(0, 9)) == 0:
        del record[draw(st.sampled_from(["ts", "id", "actor", "result"]))]
    if odd and draw(st.integers(0, 19)) == 0:
        record["id"] = 7
    return record


def _grouped(lists: list[list[dict[str, Any]]]) -> dict[str, list[Any]]:
    return {f"b{i}": records for i, records in enumerate(lists)}


@needs_story
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(outcomes(odd=False), min_size=1, max_size=7), min_size=1, max_size=6))
def test_the_shape_bd_vpt_writes_is_folded_alike(lists: list[list[dict[str, Any]]]) -> None:
    _both_agree(_grouped(lists))


@needs_story
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(outcomes(odd=True), min_size=1, max_size=5), min_size=1, max_size=4))
def test_any_shape_is_folded_alike_or_fails_alike(lists: list[list[dict[str, Any]]]) -> None:
    _both_agree(_grouped(lists))


@needs_story
def test_what_it_declines_python_folds() -> None:
    """A bead whose records fold() reads in its own way (a time with an offset) is declined:
    None, then folded in Python, in its place in the order."""
    plain = [{"id": "1", "ts": "2026-03-01T10:00:00.000Z", "actor": "a", "result": "completed"}]
    offset = [{"id": "2", "ts": "2026-03-01T11:00:00+01:00", "actor": "a", "result": "completed"}]
    grouped = {"x": plain, "y": offset, "z": plain}
    assert COMPILED is not None
    raw = COMPILED.states(grouped, BeadState, Completion, UTC)
    assert list(raw) == ["x", "y", "z"] and raw["y"] is None and raw["x"] is not None
    got = _both_agree(grouped)
    assert got is not None and got["y"].closed_at == got["x"].closed_at


@needs_story
def test_a_long_story_sorts_stably() -> None:
    """Hundreds of outcomes, many at one moment with one id: the order of the list breaks
    the tie, as Python's stable sort does; the sums add in the same order."""
    records = [
        {
            "id": "01X" if i % 3 else f"01{i:04d}",
            "ts": f"2026-03-{1 + i % 5:02d}T10:00:00.000Z",
            "actor": f"a{i}",
            "result": ["completed", "reopened", "completed", "rejected"][i % 4],
            "human_minutes": 0.1 * i,
            "value_usd": i / 7,
            "completion": 1 / (1 + i % 3),
        }
        for i in range(600)
    ]
    records.append(
        {"id": "01Z", "ts": "2026-03-09T10:00:00.000Z", "actor": "z", "result": "completed"}
    )
    got = _both_agree({"long": records})
    assert got is not None and len(got["long"].completions) > 50
    assert not math.isclose(got["long"].human_minutes, 0)


def test_without_the_compiled_story_python_folds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeline, "COMPILED", None)
    records = [{"id": "1", "ts": "2026-03-01T10:00:00.000Z", "actor": "a", "result": "completed"}]
    state = timeline.states_of({"b": records, "empty": []})
    assert list(state) == ["b"] and state["b"].closed and state["b"].closer == "a"


DAYS = st.sampled_from(["2026-03-01", "2026-03-02", "2026-04-01"])
BIG = st.sampled_from([0, 1, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64 + 3, 10**30])
VALUES = st.one_of(st.integers(0, 10**6), BIG)
ODD_VALUES = st.sampled_from([1.0, True, -1, "3", None])


@st.composite
def usage_rows(draw: st.DrawFn, odd: bool) -> dict[tuple[Any, ...], list[Any]]:
    rows: dict[tuple[Any, ...], list[Any]] = {}
    values = st.one_of(VALUES, ODD_VALUES) if odd else VALUES
    for _ in range(draw(st.integers(0, 12))):
        key = (
            draw(st.sampled_from([None, "b1", "b2", "b3"])),
            draw(st.sampled_from(["a", "b"])),
            "m",
            draw(DAYS),
            draw(st.integers(0, 3)),
            0,
            draw(st.sampled_from([None, "s"])),
        )
        small = st.integers(0, 10**6)
        row = [draw(small if i != 7 and not odd else values) for i in range(8)]
        row[7] = draw(values) if draw(st.booleans()) else draw(st.integers(0, 10**15))
        rows[key] = [*row, "2026-03-01T00:00:00.000Z"]
    return rows


def _facts(found: facts.Facts) -> tuple[Any, ...]:
    return (
        [(k, [(type(x).__name__, x) for x in v]) for k, v in found.buckets.items()],
        [(b, [(d, _exact(c, {})) for d, c in days.items()]) for b, days in found.bead_days.items()],
        list(found.unpriced_days.items()),
        (type(found.usage_records).__name__, found.usage_records),
    )


def _collected_alike(rows: dict[tuple[Any, ...], list[Any]]) -> None:
    """collect_rows with the compiled collect and without it, by bead and by every period."""
    config = Config()
    for every in (None, "day", "week", "month"):
        try:
            expected: Any = _facts(facts.collect_rows(rows, [], config, every=every))
        except Exception as error:  # the error itself is what is compared
            expected = type(error)
        compiled, timeline.COMPILED = timeline.COMPILED, None
        try:
            python: Any = _facts(facts.collect_rows(rows, [], config, every=every))
        except Exception as error:  # the error itself is what is compared
            python = type(error)
        finally:
            timeline.COMPILED = compiled
        assert expected == python, (every, rows)


@needs_story
@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(rows=usage_rows(odd=False))
def test_usage_rows_are_summed_alike(rows: dict[tuple[Any, ...], list[Any]]) -> None:
    _collected_alike(rows)


@needs_story
@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(rows=usage_rows(odd=True))
def test_odd_usage_rows_are_summed_alike_or_declined(
    rows: dict[tuple[Any, ...], list[Any]],
) -> None:
    _collected_alike(rows)


@needs_story
def test_a_sum_beyond_64_bits_is_declined() -> None:
    key = ("b", "a", "m", "2026-03-01", 0, 0, None)
    rows = {key: [1, 2**62, 2**62, 0, 0, 0, 0, 5, "t"]}
    assert COMPILED is not None and COMPILED.collect(rows) is None
    found = facts.collect_rows(rows, [], Config())
    assert found.buckets[("b", "")][0] == 2**63


@needs_story
def test_many_rows_in_64_bits_are_summed_here_and_alike() -> None:
    """Rows as a ledger folds them (costs in picodollars, unpriced and unsplit shapes, usage
    on no bead): the compiled collect takes them all, and gives collect_rows' facts."""
    import random

    rnd = random.Random(7)
    rows: dict[tuple[Any, ...], list[Any]] = {}
    for i in range(3000):
        bead = None if i % 11 == 0 else f"b{rnd.randrange(400)}"
        key = (bead, f"a{i % 3}", "m", f"2026-03-{1 + rnd.randrange(28):02d}", i % 4, 0, "s")
        row = [rnd.randrange(1, 9), *(rnd.randrange(10**6) for _ in range(6))]
        rows[key] = [*row, rnd.randrange(10**12), "2026-03-01T00:00:00.000Z"]
    assert COMPILED is not None and COMPILED.collect(rows) is not None
    assert COMPILED.collect(rows, lambda day: day[:7]) is not None
    _collected_alike(rows)


WINDOWS = st.sampled_from(
    [
        (None, None),
        ("2026-03-01", None),
        ("2026-03-02", "2026-03-02"),
        (None, "2026-03-01"),
        ("2024-01-01", "2024-03-01"),
    ]
)


@st.composite
def configs(draw: st.DrawFn) -> Config:
    config = Config()
    weights = {"P0": 5, "P1": 3.0, "P2": 2.0, "P3": 1, "unknown": 0.5}
    for name in draw(st.lists(st.sampled_from(sorted(weights)), max_size=3, unique=True)):
        del weights[name]
    config.weights = weights
    config.human_usd_per_hour = draw(st.sampled_from([90.0, 120, 0.0, 77.7]))
    config.escalation_minutes = draw(st.sampled_from([30.0, 0, 45, 0.5]))
    if draw(st.integers(0, 4)) == 0:
        config.delay_usd_per_day = 10.0  # (the compiled fleet declines: Python adds it up)
    return config


@st.composite
def stories(draw: st.DrawFn) -> list[dict[str, Any]]:
    records = draw(st.lists(outcomes(odd=False), min_size=1, max_size=5))
    bead = draw(st.sampled_from(["b1", "b2", "b3", "b4"]))
    priority = draw(st.sampled_from([None, 0, 1, 3, 7, "high"]))
    for record in records:
        record["bead"] = bead
        if "snapshot" in record and priority != "high":
            record["snapshot"] = {**record["snapshot"], "priority": priority}
    return records


@needs_story
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=usage_rows(odd=False),
    told=st.lists(stories(), max_size=6),
    config=configs(),
    ends=WINDOWS,
)
def test_a_report_with_no_by_is_added_up_alike(
    rows: dict[tuple[Any, ...], list[Any]],
    told: list[list[dict[str, Any]]],
    config: Config,
    ends: tuple[str | None, str | None],
) -> None:
    """summarize_facts and a weekly trend with the compiled parts (collect, states, fleet) and
    without them: the same documents, byte for byte, over random usage, stories, configs and
    windows."""
    import orjson

    from bd_vpt.economics.metrics import summarize_facts, trend_rows, window

    win = window(*ends)
    records = [r for story in told for r in story]

    def document() -> bytes | type:
        timeline.forget_states()
        try:
            found = facts.collect_rows(rows, list(records), config, win)
            weeks = trend_rows(
                rows, list(records), config, every="week", since=ends[0], until=ends[1]
            )
            return orjson.dumps([summarize_facts(found, config, win=win), weeks])
        except Exception as error:  # the error itself is what is compared
            return type(error)

    compiled_doc = document()
    compiled, timeline.COMPILED = timeline.COMPILED, None
    try:
        python_doc = document()
    finally:
        timeline.COMPILED = compiled
    assert compiled_doc == python_doc
