"""A bead's state is folded once per set of records (timeline._HELD): pr folds the stories of
head, then base's, which are the same record objects but for the beads the pull request
changed. On both routes (the compiled story and Python's), the states of a second grouping
that shares some beads' records with the first, changes others (a record more, one fewer,
one replaced by an equal copy, the order changed) and adds new beads are exactly those a
fresh fold gives, field by field, floats to the bit; a bead whose records are the same
objects gets the state already folded, and no other does."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt.economics import timeline
from bd_vpt.economics.timeline import BeadState
from tests.test_compiled import _state, outcomes

Change = tuple[int, int]  # (what: 0 same, 1 one more, 2 one fewer, 3 a copy, 4 reversed), which


def _changed(records: list[dict[str, Any]], change: Change, extra: dict[str, Any]) -> list[Any]:
    what, which = change
    records = list(records)
    if what == 1:
        records.insert(which % (len(records) + 1), extra)
    elif what == 2 and len(records) > 1:
        del records[which % len(records)]
    elif what == 3:
        records[which % len(records)] = copy.deepcopy(records[which % len(records)])
    elif what == 4:
        records.reverse()
    return records


def _foldable(record: dict[str, Any]) -> None:
    """Without the amounts fold raises on (test_compiled compares those errors)."""
    for name in ("human_minutes", "value_usd", "completion"):
        value = record.get(name, 0)
        if (value is None and name == "completion") or (value is not None and abs(value) > 1e300):
            del record[name]


@pytest.mark.parametrize("compiled", [True, False])
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    lists=st.lists(st.lists(outcomes(odd=False), min_size=1, max_size=6), min_size=1, max_size=6),
    changes=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 9)), min_size=6, max_size=6),
    extra=outcomes(odd=False),
    new=st.lists(st.lists(outcomes(odd=True), min_size=1, max_size=3), max_size=2),
)
def test_states_held_are_the_states_folded_afresh(
    monkeypatch: pytest.MonkeyPatch,
    compiled: bool,
    lists: list[list[dict[str, Any]]],
    changes: list[Change],
    extra: dict[str, Any],
    new: list[list[dict[str, Any]]],
) -> None:
    if compiled and timeline.COMPILED is None:
        pytest.skip("the compiled story is not built here")
    if not compiled:
        monkeypatch.setattr(timeline, "COMPILED", None)
    for record in [extra, *(r for records in lists for r in records)]:
        _foldable(record)
    timeline.forget_states()
    first = {f"b{i}": records for i, records in enumerate(lists)}
    before = timeline.states_of(first, keep=True)
    second = {
        bead: _changed(records, change, extra)
        for (bead, records), change in zip(first.items(), changes, strict=False)
    }
    second.update({f"n{i}": records for i, records in enumerate(new)})
    second["b0"], second["empty"] = second.pop("b0"), []  # another order
    try:
        got = timeline.states_of(second)
    except Exception as error:  # a new bead's odd records: the same error afresh
        timeline.forget_states()
        with pytest.raises(type(error)):
            timeline.states_of(second)
        return
    timeline.forget_states()
    fresh = timeline.states_of(second)
    assert list(got) == list(fresh) == [b for b, records in second.items() if records]
    for bead, state in fresh.items():
        assert isinstance(got[bead], BeadState)
        assert _state(got[bead], second[bead]) == _state(state, second[bead]), bead
        same = bead in first and len(first[bead]) == len(second[bead])
        same = same and all(map(lambda a, b: a is b, first[bead], second[bead]))
        assert (got[bead] is before.get(bead)) == same, bead


def test_the_compiled_story_holds_states_only_when_asked() -> None:
    """A report made of one ledger does not pay for holding 40,000 states (keep=False): none
    is held, and the next fold folds afresh."""
    if timeline.COMPILED is None:
        pytest.skip("the compiled story is not built here")
    records = [{"id": "1", "ts": "2026-03-01T10:00:00.000Z", "actor": "a", "result": "completed"}]
    timeline.forget_states()
    first = timeline.states_of({"b": records})
    assert not timeline._HELD and timeline.states_of({"b": records})["b"] is not first["b"]
    kept = timeline.states_of({"b": records}, keep=True)
    assert timeline.states_of({"b": records})["b"] is kept["b"]
