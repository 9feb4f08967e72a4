"""What check reads of the whole ledger, in one pass over its buckets and one over its beads:
the fleet's usage and transitions (facts.transitions' Group) and the tokens of each closed
bead by type (the variation alert's). The compiled part (compiled/fleet_tail.c) does both
without taking a reference to any bead's state: after pr's fork each one taken copies a
page."""

from __future__ import annotations

from operator import add

from bd_vpt.economics import timeline
from bd_vpt.economics.facts import Facts
from bd_vpt.economics.groups import Group
from bd_vpt.economics.timeline import BeadState, Completion

UNTYPED = "(unknown)"


def fleetwide(
    facts: Facts, states: dict[str, BeadState], limit: float
) -> tuple[Group, dict[str, list[int]]]:
    """facts.transitions(facts, states, limit), and {bead type: the tokens of each closed
    bead that spent any, in the order of states} (facts: the whole ledger's, collected with
    no window and no --by, by period or not: the sums are exact integers)."""
    compiled = timeline.COMPILED
    if compiled is not None and type(limit) in (int, float) and float(limit) == limit:
        found = compiled.tail_wide(facts.buckets, states, float(limit), BeadState, Completion)
        if found is not None:
            sums, attributed, completions, completed, reopens, escalations, kinds = found
            total = Group(sums, attributed, completions=completions, reopens=reopens)
            total.escalations, total.more_completed = escalations, completed
            return total, kinds
    total = Group()
    sums = total.sums
    attributed = 0
    spent: dict[str, int] = {}
    for key, bucket in facts.buckets.items():
        sums[:] = map(add, sums, bucket)  # Group.add's order: floats add up the same
        bead = key[0]
        if bead is not None:
            tokens = int(bucket[0])
            attributed += tokens
            spent[bead] = spent.get(bead, 0) + tokens
    total.attributed_tokens = attributed
    completions = reopens = escalations = 0
    completed = total.completed
    by_type: dict[str, list[int]] = {}
    for bead, state in states.items():
        done = state.completions
        if done:
            completions += len(done)
            completed.add(bead)
            for completion in done:
                if completion.minutes > limit:
                    escalations += 1
        reopens += len(state.reopens)
        if state.closed:
            tokens = spent.get(bead, 0)
            if tokens:
                kind = state.snapshot.get("type") or UNTYPED
                found = by_type.get(kind)
                if found is None:
                    by_type[kind] = [tokens]
                else:
                    found.append(tokens)
    total.completions, total.reopens, total.escalations = completions, reopens, escalations
    return total, by_type
