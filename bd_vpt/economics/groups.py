"""A group's sums (usage buckets, credit, transitions, money) and the figures made of them.
Pure arithmetic: what goes into which group is decided in metrics.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce
from operator import add
from typing import Any

from bd_vpt.economics.timeline import Money
from bd_vpt.ledger.records import TOKEN_KINDS
from bd_vpt.ledger.usage import PICO

# A usage bucket is a flat list (cheap to make a million of):
# [tokens on the basis, input, output, cache_read, cache_write, reasoning, unsplit,
#  cost of priced records in picodollars (an exact integer: see ledger/rows.py), unpriced
#  records, records, tokens of unpriced records]
Bucket = list[int]
KIND_SLOTS = (*TOKEN_KINDS, "unsplit")
COST, UNPRICED, RECORDS, UNPRICED_TOKENS = 7, 8, 9, 10


def new_bucket() -> Bucket:
    return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]


@dataclass
class Group:
    sums: Bucket = field(default_factory=new_bucket)
    attributed_tokens: int = 0
    closed: set[str] = field(default_factory=set)
    weighted: float = 0.0
    completions: int = 0
    completed: set[str] = field(default_factory=set)  # beads with a completion transition
    reopens: int = 0
    escalations: int = 0
    money: list[float] = field(default_factory=lambda: [0.0] * 5)  # see Money.amounts
    rework_known: bool = True
    wasted_tokens: int = 0
    # beads counted in closed and completed but not named there (the compiled passes after
    # pr's fork count them: naming them would write to the pages of 40,000 ids)
    more_closed: int = 0
    more_completed: int = 0

    def add(self, bead: str | None, bucket: Bucket) -> None:
        sums = self.sums
        sums[:] = map(add, sums, bucket)  # slot by slot, in C
        if bead is not None:
            self.attributed_tokens += int(bucket[0])

    def credit(self, bead: str, share: float, weight: float) -> None:
        if share > 0:
            self.closed.add(bead)
            self.weighted += share * weight

    def count(self, bead: str, completions: int, reopens: int, escalations: int) -> None:
        self.completions += completions
        if completions:
            self.completed.add(bead)
        self.reopens += reopens
        self.escalations += escalations

    def charge(self, share: float, money: Money) -> None:
        """The bead's human attention, value, delay and rework, by share."""
        mine = self.money  # as Money.amounts orders them
        mine[0] += share * money.minutes
        mine[1] += share * money.human_usd
        mine[2] += share * money.value_usd
        mine[3] += share * money.delay_usd
        mine[4] += share * money.rework_usd
        self.rework_known = self.rework_known and (money.rework_known or share == 0)

    def figures(self) -> dict[str, Any]:
        tokens = int(self.sums[0])
        priced = self.sums[COST] / PICO
        unpriced_tokens = int(self.sums[UNPRICED_TOKENS])
        cost = priced if not self.sums[UNPRICED] else None
        n_closed = len(self.closed) + self.more_closed
        done = self.completions
        return {
            "tokens": tokens,
            "tokens_by_kind": {k: int(v) for k, v in zip(KIND_SLOTS, self.sums[1:7], strict=True)},
            "cost_usd": _r(cost),
            "priced_cost_usd": round(priced, 6),
            "priced_share": round((tokens - unpriced_tokens) / tokens, 6) if tokens else None,
            "unpriced_records": int(self.sums[UNPRICED]),
            "unpriced_tokens": unpriced_tokens,
            "usage_records": int(self.sums[RECORDS]),
            "beads_closed": n_closed,
            "weighted_completions": round(self.weighted, 6),
            "bc_mt": round(self.weighted / (tokens / 1e6), 6) if tokens else None,
            "weighted_per_usd": _r(self.weighted / cost if cost else None),
            "cost_per_completion": _r(cost / n_closed if cost is not None and n_closed else None),
            "completions": done,
            "beads_completed": len(self.completed) + self.more_completed,
            "reopens": self.reopens,
            "escalations": self.escalations,
            "reopen_rate": round(self.reopens / done, 6) if done else None,
            "escalation_rate": round(self.escalations / done, 6) if done else None,
            "coverage": round(self.attributed_tokens / tokens, 6) if tokens else None,
            "unattributed_tokens": tokens - self.attributed_tokens,
            **self.value_figures(cost, tokens, n_closed),
        }

    def value_figures(self, cost: float | None, tokens: int, n_closed: int) -> dict[str, Any]:
        minutes, human, value, delay, rework = self.money
        known = cost is not None and self.rework_known
        loaded = cost + human + delay + rework if known and cost is not None else None
        return {
            "human_minutes": round(minutes, 6),
            "human_usd": round(human, 6),
            "delay_usd": round(delay, 6),
            "rework_usd": round(rework, 6) if self.rework_known else None,
            "fully_loaded_cost_usd": _r(loaded),
            "fully_loaded_cost_per_completion": _r(
                loaded / n_closed if loaded is not None and n_closed else None
            ),
            "value_usd": round(value, 6),
            "value_per_mtok": round(value / (tokens / 1e6), 6) if tokens else None,
            "roi": _r(value / loaded if loaded else None),
            "waste_share": round(self.wasted_tokens / tokens, 6) if tokens else None,
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def zero_figures() -> dict[str, Any]:
    """The figures of a group with nothing in it (an empty period shows as zero)."""
    return Group().figures()


def add_all(
    group: Group, buckets: Mapping[tuple[str | None, str], Bucket], wasted: set[str]
) -> None:
    """group.add(bead, bucket) for every bucket, and the tokens of the wasted beads' buckets,
    column by column: a sum of ints does not depend on its order; a column holding a float
    is added in the buckets' order, as the loop did."""
    if not buckets:
        return
    sums = group.sums
    for slot, column in enumerate(zip(*buckets.values(), strict=True)):
        found = sum(column)
        held = sums[slot]
        if type(found) is int and type(held) is int:
            sums[slot] = held + found
        else:
            sums[slot] = reduce(add, column, held)
    group.attributed_tokens += sum(
        [int(bucket[0]) for (bead, _group), bucket in buckets.items() if bead is not None]
    )
    if wasted:
        group.wasted_tokens += sum(
            [int(bucket[0]) for (bead, _group), bucket in buckets.items() if bead in wasted]
        )
