"""fleetwide (check's whole-ledger figures in one pass) gives facts.transitions' Group and
the variation alert's tokens per closed bead by type as the first way of writing it (kept
here), on random ledgers (closes, reopens, excluded closes, human minutes around the limit,
beads with no usage, usage on no bead) and on buckets of floats (the order they add in)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt.economics.facts import Facts, transitions
from bd_vpt.economics.fleetwide import fleetwide
from bd_vpt.economics.groups import Group
from bd_vpt.economics.metrics import bead_states, collect
from tests.test_trend_pass import CONFIG, EVENT, _records


def _first_way(facts: Facts, states: dict[str, Any]) -> dict[str, list[int]]:
    """alerts._variation's tokens per closed bead by type, as it first summed them."""
    spent: dict[str, int] = defaultdict(int)
    for (bead, _group), bucket in facts.buckets.items():
        if bead is not None:
            spent[bead] += int(bucket[0])
    by_type: dict[str, list[int]] = defaultdict(list)
    for bead, state in states.items():
        if state.closed and spent.get(bead):
            by_type[state.snapshot.get("type") or "(unknown)"].append(spent[bead])
    return dict(by_type)


def counted(group: Group) -> dict[str, Any]:
    """A group's fields, its beads closed and completed counted (the compiled passes count
    them without naming them)."""
    fields = dataclasses.asdict(group)
    fields["closed"] = len(group.closed) + fields.pop("more_closed")
    fields["completed"] = len(group.completed) + fields.pop("more_completed")
    return fields


def _same(facts: Facts, limit: float) -> None:
    states = bead_states(facts)
    total, by_type = fleetwide(facts, states, limit)
    expected = transitions(facts, states, limit)
    assert counted(total) == counted(expected)
    assert repr(counted(total)) == repr(counted(expected))  # floats to the bit
    assert total.figures() == expected.figures()
    assert by_type == _first_way(facts, states)
    assert sorted(by_type) == sorted(_first_way(facts, states))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENT, min_size=1, max_size=60), st.sampled_from([0.0, 3.5, 20.0, 30.0]))
def test_fleetwide_is_transitions_and_the_first_way(events: list[Any], limit: float) -> None:
    facts = collect(_records(events), CONFIG)
    _same(facts, limit)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(EVENT, min_size=1, max_size=40),
    st.lists(st.floats(-1e12, 1e12, allow_nan=False), min_size=11, max_size=11),
)
def test_floats_add_up_in_the_same_order(events: list[Any], numbers: list[float]) -> None:
    facts = collect(_records(events), CONFIG)
    beads = [*{key[0] for key in facts.buckets}, None, "B-9"]
    buckets: dict[Any, Any] = {  # (Bucket is typed list[int]: these hold floats)
        (bead, ""): [int(numbers[0] * n) + n, *(x * (n + 0.3) for x in numbers[1:])]
        for n, bead in enumerate(beads)
    }
    facts.buckets = buckets
    _same(facts, 20.0)
