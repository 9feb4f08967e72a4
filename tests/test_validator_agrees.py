"""One validator: the fast check every read applies accepts exactly what the JSON Schema
accepts (hypothesis explores near-valid records: one valid record, a few fields changed to
edge values)."""

from __future__ import annotations

import copy
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt.ledger.records import check
from bd_vpt.ledger.schemas import record_errors

ULID = "01JD0000000000000000000000"
USAGE: dict[str, Any] = {
    "v": 1,
    "id": ULID,
    "kind": "usage",
    "ts": "2026-11-24T10:00:00.000Z",
    "bead": "bd-1",
    "actor": "a",
    "source": "manual",
    "source_ref": None,
    "model": "m",
    "provider": None,
    "session": None,
    "tokens": {"input": 1, "output": 2},
    "cost_usd": 0.5,
    "price_ref": None,
}
OUTCOME: dict[str, Any] = {
    "v": 1,
    "id": ULID,
    "kind": "outcome",
    "ts": "2026-11-24T10:00:00+02:00",
    "bead": "bd-1",
    "actor": "a",
    "source": "sync",
    "source_ref": "bd:bd-1:closed:x",
    "result": "completed",
    "completion": 1.0,
    "snapshot": {"priority": 2, "type": "task", "labels": ["x"], "title": "t"},
    "value_usd": 10,
    "human_minutes": 5.5,
    "quality": 0.5,
    "confidence": None,
    "reason": None,
    "evidence": None,
    "commit": None,
}
RETRACTION: dict[str, Any] = {
    "v": 1,
    "id": ULID,
    "kind": "retraction",
    "ts": "2026-11-24T10:00:00Z",
    "bead": None,
    "actor": "a",
    "source": "manual",
    "source_ref": None,
    "retracts": "01JD0000000000000000000001",
    "reason": None,
}
EDGES: list[Any] = [
    None,
    "",
    "x",
    " ",
    "bd-1",
    0,
    1,
    -1,
    2,
    5,
    0.0,
    0.5,
    1.5,
    -0.5,
    True,
    False,
    10**15,
    10**15 + 1,
    1e15,
    1.0000001e15,
    math.nan,
    math.inf,
    -math.inf,
    [],
    ["a"],
    [1],
    {},
    {"input": 1},
    {"input": -1},
    {"input": 1.0},
    {"input": True},
    {"total": 10**15 + 1},
    {"priority": 5},
    {"priority": None, "labels": "x"},
    "usage",
    "outcome",
    "retraction",
    "completed",
    "bogus",
    ULID,
    ULID.lower(),
    ULID + "\n",
    ULID[:-1] + "U",
    "2026-11-24T10:00:00Z",
    "2026-11-24T10:00:00.123456789Z",
    "2026-02-30T10:00:00Z",
    "2026-11-24T24:00:00Z",
    "2026-11-24T10:00:60.000Z",
    "2026-13-24T10:00:00.000Z",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00-01:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:00:00-02:00",
    "0000-01-01T00:00:00Z",
    "2026-11-24T10:00:00z",
    "2026-11-24 10:00:00Z",
    "2026-11-24T10:00:00Z\n",
    "\uff12\uff10\uff12\uff16-11-24T10:00:00Z",  # fullwidth digits: \\d matches them
    "2026-11-24T10:00:00+25:00",
    "2026-11-24",
]
FIELDS = sorted(
    {
        *USAGE,
        *OUTCOME,
        *RETRACTION,
        "messages",
        "requests",
        "retracts",
        "reported_cost_usd",
        "gt_session",
    }
)
NESTED = [f"snapshot.{k}" for k in ("priority", "type", "labels", "title", "extra")] + [
    f"tokens.{k}" for k in ("input", "output", "cache_read", "total", "weird")
]
MISSING = object()


def change(record: dict[str, Any], name: str, value: Any) -> None:
    """Set (or remove, for MISSING) a field; `a.b` reaches into an object field."""
    target: Any = record
    if "." in name:
        outer, name = name.split(".", 1)
        target = record.get(outer)
        if not isinstance(target, dict):
            return
    if value is MISSING:
        target.pop(name, None)
    else:
        target[name] = copy.deepcopy(value)


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = copy.deepcopy(draw(st.sampled_from([USAGE, OUTCOME, RETRACTION])))
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from([*FIELDS, *NESTED]))
        change(record, name, draw(st.sampled_from([MISSING, *EDGES])))
    return record


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid())
def test_fast_check_and_schema_agree(record: dict[str, Any]) -> None:
    fast = check(record)
    full = record_errors(record)
    assert (fast is None) == (not full), (record, fast, full)


def test_the_edges_are_really_exercised() -> None:
    """The base records are valid, and each kind of edge is rejected by both."""
    for base in (USAGE, OUTCOME, RETRACTION):
        assert check(base) is None and record_errors(base) == []
    for field, value in [
        ("ts", "2026-02-30T10:00:00Z"),
        ("ts", "0001-01-01T00:00:00+01:00"),
        ("cost_usd", math.nan),
        ("cost_usd", math.inf),
        ("tokens", {"input": 10**15 + 1}),
        ("model", ""),
        ("id", ULID + "\n"),
        ("v", True),
    ]:
        bad = {**USAGE, field: value}
        assert check(bad) is not None and record_errors(bad), (field, value)


def test_every_single_change_agrees() -> None:
    """Exhaustively: each base record with each field removed or set to each edge value."""
    cases = 0
    for base in (USAGE, OUTCOME, RETRACTION):
        for name in [*FIELDS, *NESTED]:
            for value in [MISSING, *EDGES]:
                record = copy.deepcopy(base)
                change(record, name, value)
                fast, full = check(record), record_errors(record)
                assert (fast is None) == (not full), (record, fast, full)
                cases += 1
    assert cases == 3 * (len(FIELDS) + len(NESTED)) * (len(EDGES) + 1)
