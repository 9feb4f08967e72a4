"""A fleet summary (no --by) as what each bead adds to it, kept per bead so that a ledger
that changed in a few beads is summed again without folding every bead's story.

summarize_facts (metrics.py) takes each bead's part from bead_part; Parts keeps those parts
in columns (one slot per bead) with the bead's tokens and final state's flags, and
fleet_document adds them up in the order summarize_facts does (the order of the beads'
first outcomes: float sums depend on it), so both give the same document to the bit.
"""

from __future__ import annotations

from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import reduce
from itertools import compress
from operator import add
from typing import Any

from bd_vpt.config import Config
from bd_vpt.economics import timeline
from bd_vpt.economics.facts import Facts
from bd_vpt.economics.groups import Group, add_all
from bd_vpt.economics.periods import Window
from bd_vpt.economics.timeline import BeadState, Completion, Money, bead_money

# credited, weight, placed, completions in the window, reopens in the window, escalations,
# money: what one bead adds to the groups it is placed in
Part = tuple[bool, float, bool, list[Completion], list[datetime], int, Money]


def bead_part(
    bead: str,
    state: BeadState,
    facts: Facts,
    config: Config,
    inside: Callable[[datetime | None], bool],
    limit: float,
) -> Part | None:
    """What the bead adds to a report over the window inside() tells; None: nothing."""
    closed = state.closed
    closed_at = state.closed_at
    credited = closed and inside(closed_at)
    placed = inside(closed_at if closed else state.last_at)  # its anchor
    completions, reopens = state.completions, state.reopens
    done = [c for c in completions if inside(c.at)] if completions else []
    back = [m for m in reopens if inside(m)] if reopens else []
    if not (credited or placed or done or back):
        return None
    weight = config.weight(state.snapshot.get("priority")) * state.completion
    escalated = sum(1 for c in done if c.minutes > limit) if done else 0
    money = bead_money(state, facts.bead_days.get(bead), facts.unpriced_days.get(bead), config)
    return credited, weight, placed, done, back, escalated, money


def compiled_fleet(
    total: Group,
    moving: Iterable[tuple[str, BeadState]],
    facts: Facts,
    config: Config,
    win: Window,
) -> Iterable[tuple[str, BeadState]]:
    """The beads' parts (bead_part's) added into total by the compiled fleet (compiled/fleet.c)
    as summarize_facts' loop adds them: nothing is left to add (); else what the loop adds (not
    built, a cost of delay configured, or declined)."""
    compiled, limit = timeline.COMPILED, config.escalation_minutes
    if compiled is None or config.delay_usd_per_day or config.delay_by_label:
        return moving
    if config.delay_by_type or type(limit) not in (int, float) or float(limit) != limit:
        return moving
    pairs: Iterable[tuple[str, BeadState]] = (
        moving if isinstance(moving, (list, type({}.items()))) else list(moving)
    )
    added = compiled.fleet(
        pairs,
        facts.bead_days,
        facts.unpriced_days,
        config.weights,
        config.human_usd_per_hour,
        win.since,
        win.until,
        float(limit),
        BeadState,
        Completion,
    )
    if added is None:
        return pairs
    closed, total.weighted, done, completed, back, escalated, total.money, known = added
    total.closed.update(closed)
    total.completed.update(completed)
    total.completions, total.reopens, total.escalations = done, back, escalated
    total.rework_known = known
    return ()


_FLAGS = ("active", "credited", "placed", "rework_known", "wasted", "stated")
_COUNTS = ("done", "back", "escalated", "excluded")
_FLOATS = ("weight", "minutes", "human_usd", "value_usd", "delay_usd", "rework_usd")


class Parts:
    """Each bead's part, by bead number (ledger/delta.py numbers beads): flags, counts, the
    money amounts, the tokens of its usage in the window (waste is counted from them) and
    the [outcomes] rule its last close fell under (excluded: an index into reasons, -1)."""

    def __init__(self) -> None:
        self.flags = {name: array("b") for name in _FLAGS}
        self.counts = {name: array("q") for name in _COUNTS}
        self.floats = {name: array("d") for name in _FLOATS}
        self.tokens = array("q")
        self.reasons: list[str] = []

    def __len__(self) -> int:
        return len(self.tokens)

    def grow(self, size: int) -> None:
        """Slots up to size, empty (a bead with no outcome)."""
        more = size - len(self.tokens)
        if more <= 0:
            return
        every: list[array[Any]] = [*self.flags.values(), *self.counts.values()]
        for column in [*every, *self.floats.values()]:
            column.frombytes(bytes(more * column.itemsize))  # zeros: 0 and 0.0
        self.tokens.frombytes(bytes(more * self.tokens.itemsize))
        self.counts["excluded"][-more:] = array("q", [-1]) * more

    def put(self, beads: Iterable[tuple[int, BeadState | None, Part | None, int]]) -> None:
        """Each bead's slot: (slot, its final state (None: no outcome), its part, its
        tokens). A column at a time (map in C): a ledger's 40,000 beads in milliseconds."""
        items = list(beads)
        slots = [i[0] for i in items]
        states = [i[1] for i in items]
        live = [i[2] if i[1] is not None else None for i in items]
        money = [p[6] for p in live if p is not None]
        amounts = iter(zip(*(m.amounts for m in money), strict=True))
        flags = {
            "active": [p is not None for p in live],
            "credited": [p is not None and p[0] for p in live],
            "placed": [p is not None and p[2] for p in live],
            "rework_known": [p is not None and p[6].rework_known for p in live],
            "wasted": [s is not None and s.last_result_wasted for s in states],
            "stated": [s is not None for s in states],
        }
        counts = {
            "done": [len(p[3]) if p is not None else 0 for p in live],
            "back": [len(p[4]) if p is not None else 0 for p in live],
            "escalated": [p[5] if p is not None else 0 for p in live],
            "excluded": [self._reason(s) for s in states],
        }
        weights = [p[1] if p is not None else 0.0 for p in live]
        floats = {"weight": weights}
        for name in _FLOATS[1:]:  # the money amounts, where a bead has a part
            got = iter(next(amounts, ()))
            floats[name] = [next(got) if p is not None else 0.0 for p in live]
        columns: list[tuple[array[Any], list[Any]]] = [
            *((self.flags[n], v) for n, v in flags.items()),
            *((self.counts[n], v) for n, v in counts.items()),
            *((self.floats[n], v) for n, v in floats.items()),
            (self.tokens, [i[3] if i[1] is not None else 0 for i in items]),
        ]
        for column, values in columns:
            deque(map(column.__setitem__, slots, values), maxlen=0)

    def _reason(self, state: BeadState | None) -> int:
        """The number of the [outcomes] rule the bead's last close fell under; -1: none."""
        if state is None or not state.excluded:
            return -1
        if state.excluded not in self.reasons:
            self.reasons.append(state.excluded)
        return self.reasons.index(state.excluded)

    def dump(self) -> tuple[Any, ...]:
        return (
            [self.flags[n].tobytes() for n in _FLAGS],
            [self.counts[n].tobytes() for n in _COUNTS],
            [self.floats[n].tobytes() for n in _FLOATS],
            self.tokens.tobytes(),
            self.reasons,
        )

    @classmethod
    def load(cls, data: tuple[Any, ...]) -> Parts:
        flags, counts, floats, tokens, reasons = data
        parts = cls()
        for name, raw in zip(_FLAGS, flags, strict=True):
            parts.flags[name].frombytes(raw)
        for name, raw in zip(_COUNTS, counts, strict=True):
            parts.counts[name].frombytes(raw)
        for name, raw in zip(_FLOATS, floats, strict=True):
            parts.floats[name].frombytes(raw)
        parts.tokens.frombytes(tokens)
        parts.reasons = list(reasons)
        size = len(parts.tokens)
        lengths = [len(a) for a in (*parts.flags.values(), *parts.counts.values())]
        lengths += [len(a) for a in parts.floats.values()]
        if any(length != size for length in lengths):
            raise ValueError("columns of different lengths")
        return parts


def fleet_document(
    parts: Parts,
    order: list[int],
    names: list[str],
    sums: list[int],
    attributed: int,
    outcome_records: int,
) -> dict[str, Any]:
    """summarize_facts(by=None) from the beads' parts; sums and attributed: the usage in the
    window (Group.sums, attributed_tokens); names: bead number -> bead; order: the beads
    with an outcome, in the order of their first one. A slot of a bead with no outcome, or
    none in the window, is all zeros (Parts.put), so whole-column integer sums count only
    the beads summarize_facts counts; the float sums add in order, one by one, as
    Group.credit and Group.charge do with a share of 1.0 (sum() would round otherwise)."""
    f, c, x = parts.flags, parts.counts, parts.floats
    credited, placed, done = f["credited"], f["placed"], c["done"]
    total = Group(sums=list(sums), attributed_tokens=attributed)
    total.wasted_tokens = sum(compress(parts.tokens, f["wasted"]))
    total.closed = set(compress(names, credited))
    total.weighted = reduce(
        add, compress(map(x["weight"].__getitem__, order), _at(credited, order)), 0.0
    )
    total.completions = sum(done)
    total.completed = set(compress(names, done))
    total.reopens, total.escalations = sum(c["back"]), sum(c["escalated"])
    for i, name in enumerate(_FLOATS[1:]):
        if not any(x[name]):  # zeros add up to 0.0 in any order (no delay rate, say)
            continue
        amounts = map(x[name].__getitem__, order)
        total.money[i] = reduce(add, compress(amounts, _at(placed, order)), 0.0)
    total.rework_known = all(compress(f["rework_known"], placed))
    totals = total.figures()
    totals["outcome_records"] = outcome_records
    counted = Counter(c["excluded"])
    counted.pop(-1, None)
    if counted:
        skipped = {parts.reasons[i]: n for i, n in counted.items()}
        totals["not_counted"] = dict(sorted(skipped.items()))
    return {"by": None, "totals": totals, "groups": []}


def _at(column: array[int], order: list[int]) -> Iterator[int]:
    return map(column.__getitem__, order)


def usage_sums(facts: Facts) -> tuple[list[int], int]:
    """The usage of facts (collected by=None) as Group.sums and attributed_tokens: exact
    integers, so the sums of two ledgers' facts are the facts of both."""
    total = Group()
    add_all(total, facts.buckets, set())
    return total.sums, total.attributed_tokens
