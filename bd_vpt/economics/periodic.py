"""A fleet trend (no --by) in one pass over the beads: each bead's story is read once and
its credit, transitions and money are placed in the periods its moments fall in.

metrics.trend_of makes each period's row as a report of that period alone would
(summarize_facts over the period's window, for the beads that move in it). That route asks
every moving bead for its part once per period; this one asks it once, and gives the same
rows to the bit: a moment is inside a period's window exactly when the period is that of
its UTC day (periods.py), and each period's group is handed its beads in the order of the
states, as summarize_facts hands them (float sums depend on it). tests/test_trend_pass.py
holds the two routes together.

collect_rows' usage and outcome halves never meet, so pr collects its head's outcomes (and
folds their stories) before its child process starts and the usage after (usage_of,
with_usage). fleet_facts makes pr's and check's whole-ledger facts from the same facts
collected by week.

After pr's fork every reference taken to a bead's state writes to its page, and the kernel
copies that page (ledger/parallel.beside): compiled_rows makes fleet_rows' rows in C, which
reads the states without taking one (compiled/fleet_tail.c).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from itertools import chain
from operator import add, itemgetter, methodcaller
from typing import Any

from bd_vpt.config import Config
from bd_vpt.economics import timeline
from bd_vpt.economics.facts import Facts, collect_rows
from bd_vpt.economics.groups import Bucket, Group
from bd_vpt.economics.periods import Window, period, period_window, utc_day
from bd_vpt.economics.timeline import BeadState, Completion, bead_money, states_of
from bd_vpt.ledger.records import Record
from bd_vpt.ledger.usage import Row, RowKey

_Move = list[Any]  # what a bead adds to one period
# buckets, model cost per bead per day, unpriced days per bead, usage records (Facts')
Usage = tuple[dict[tuple[Any, ...], Bucket], dict[str, dict[str, float]], dict[str, set[str]], int]


def fleet_rows(
    facts: Facts,
    states: dict[str, BeadState],
    keys: list[str],
    every: str,
    config: Config,
    outcome_counts: dict[str, int],
    waste: tuple[set[str], dict[str, int]],
) -> list[dict[str, Any]]:
    """One row per period in keys: {"period", "key": "fleet", **totals}. facts: collected
    by period with no --by; waste: the beads whose tokens are wasted, and the closes not
    counted (metrics._wasted)."""
    wasted, skipped = waste
    groups = {key: Group() for key in keys}
    for (bead, when, _group), bucket in facts.buckets.items():
        group = groups.get(when)
        if group is None:  # a period not listed (periods_between, for odd years): as a
            continue  # summary of each listed period, which never reads it
        group.add(bead, bucket)
        if bead in wasted:
            group.wasted_tokens += int(bucket[0])
    limit = config.escalation_minutes
    placed_at: dict[str, str] = {}  # UTC day -> its period ("" when it is not one of keys)

    def where(ts: str | None, at: datetime) -> str:
        day = ts[:10] if ts is not None and ts[-1] == "Z" else day_of(at)
        key = placed_at.get(day)
        if key is None:
            key = period(day, every)
            key = placed_at[day] = key if key in groups else ""
        return key

    bead_days, unpriced_days = facts.bead_days, facts.unpriced_days
    for bead, state in states.items():
        done = state.completions
        if state.closed and len(done) == 1 and not state.reopens:  # most beads: one close
            c = done[0]  # (its anchor too)
            key = placed_at.get(c.ts[:10]) if c.ts[-1] == "Z" else None
            if key is None:
                key = where(c.ts, c.at)
            if key:  # Group's credit, count and charge with a share of 1.0, inline
                group = groups[key]
                weight = config.weight(state.snapshot.get("priority")) * state.completion
                group.closed.add(bead)
                group.weighted += 1.0 * weight
                group.completions += 1
                group.completed.add(bead)
                group.escalations += c.minutes > limit
                money = bead_money(state, bead_days.get(bead), unpriced_days.get(bead), config)
                mine = group.money
                mine[0] += 1.0 * money.minutes
                mine[1] += 1.0 * money.human_usd
                mine[2] += 1.0 * money.value_usd
                mine[3] += 1.0 * money.delay_usd
                mine[4] += 1.0 * money.rework_usd
                group.rework_known = group.rework_known and money.rework_known
            continue
        # period -> credited, placed, completions, reopens, escalations
        moves: dict[str, _Move] = {}
        for c in done:
            move = moves.setdefault(where(c.ts, c.at), [False, False, 0, 0, 0])
            move[2] += 1
            move[4] += c.minutes > limit
        for moment in state.reopens:
            moves.setdefault(where(None, moment), [False, False, 0, 0, 0])[3] += 1
        ts, at = (
            (state.closed_ts, state.closed_at) if state.closed else (state.last_ts, state.last_at)
        )
        if at is not None:
            move = moves.setdefault(where(ts, at), [False, False, 0, 0, 0])
            move[0] = state.closed  # the anchor of a closed bead is its final close
            move[1] = True
        moves.pop("", None)  # outside the periods listed
        if not moves:
            continue
        weight = config.weight(state.snapshot.get("priority")) * state.completion
        for key, (credited, placed, n_done, back, escalated) in moves.items():
            group = groups[key]
            group.credit(bead, 1.0 if credited else 0.0, weight)
            group.count(bead, n_done, back, escalated)
            if placed:  # (in one period: its anchor's)
                days = bead_days.get(bead)
                group.charge(1.0, bead_money(state, days, unpriced_days.get(bead), config))
    return _fleet_rows(groups.items(), outcome_counts, skipped)


def _fleet_rows(
    groups: Iterable[tuple[str, Group]], outcome_counts: dict[str, int], skipped: dict[str, int]
) -> list[dict[str, Any]]:
    """A fleet row per period, made of its group's figures."""
    rows = []
    for key, group in groups:
        totals = group.figures()
        totals["outcome_records"] = outcome_counts.get(key, 0)
        if skipped:
            totals["not_counted"] = dict(skipped)
        rows.append({"period": key, "key": "fleet", **totals})
    return rows


def compiled_rows(
    facts: Facts,
    states: dict[str, BeadState],
    keys: list[str],
    every: str,
    config: Config,
    outcome_counts: dict[str, int],
) -> list[dict[str, Any]] | None:
    """fleet_rows(facts, states, keys, every, config, outcome_counts, metrics._wasted(states))
    by the compiled part, or None: declined (a cost of delay configured, periods that do not
    follow one another, the compiled part's own reasons), and fleet_rows makes them."""
    bounds: list[int] = []  # each period's start, then the last one's end
    for key in keys:
        win = period_window(key, every)
        if win.since is None or win.until is None or (bounds and _micros(win.since) != bounds[-1]):
            return None
        bounds[-1:] = [_micros(win.since), _micros(win.until)]
    index = {key: i for i, key in enumerate(keys)}
    found = _tail(facts, states, index, bounds, config)
    if found is None:
        return None
    per_period, skipped = found
    return _fleet_rows(zip(keys, per_period, strict=True), outcome_counts, skipped)


# The beads' states as the compiled tail reads them: bead -> state, or (grouped, like,
# like_states, fresh): another ledger's (states_like)
States = (
    dict[str, BeadState] | tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]
)


def states_like(facts: Facts, like: Facts) -> States | None:
    """The states of facts' beads, read from like's (another ledger's facts, its states
    folded) for the beads whose outcomes are like's, the same records, and folded here for
    the others (a state is a function of its bead's records: timeline.state_of); what
    compiled_totals reads in place of metrics.bead_states(facts), which makes a dict of
    every bead's state (after pr's fork, each reference taken copies a page). None: no
    compiled part, or like's states not folded."""
    compiled = timeline.COMPILED
    if compiled is None or like.states is None:
        return None
    grouped = facts.outcomes
    differing = compiled.tail_differing(grouped, like.outcomes)
    fresh = states_of({bead: grouped[bead] for bead in differing})
    return grouped, like.outcomes, like.states, fresh


def compiled_totals(
    facts: Facts, states: States, config: Config, win: Window
) -> dict[str, Any] | None:
    """summarize_facts(facts, config, win=win)["totals"] (facts collected with win, no --by,
    no period; states: metrics.bead_states(facts), or states_like's) by the compiled part, or
    None: declined (a window open at an end, a cost of delay configured, the compiled part's
    own reasons)."""
    if win.since is None or win.until is None or win.since >= win.until:
        return None
    found = _tail(facts, states, None, [_micros(win.since), _micros(win.until)], config)
    if found is None:
        return None
    (total,), skipped = found
    totals = total.figures()
    totals["outcome_records"] = facts.outcome_records
    if skipped:  # (as summarize_facts adds them)
        totals["not_counted"] = dict(skipped)
    return totals


def _tail(
    facts: Facts,
    states: States,
    index: dict[str, int] | None,
    bounds: list[int],
    config: Config,
) -> tuple[list[Group], dict[str, int]] | None:
    """compiled.tail_rows' Groups (compiled/fleet_tail.c) and the closes not counted, by rule
    (metrics.not_counted); None: declined."""
    compiled, limit = timeline.COMPILED, config.escalation_minutes
    if compiled is None or len(bounds) < 2 or config.delay_usd_per_day or config.delay_by_label:
        return None
    if config.delay_by_type or type(limit) not in (int, float) or float(limit) != limit:
        return None
    found = compiled.tail_rows(
        states,
        facts.buckets,
        index,
        bounds,
        facts.bead_days,
        facts.unpriced_days,
        config.weights,
        config.human_usd_per_hour,
        float(limit),
        BeadState,
        Completion,
    )
    if found is None:
        return None
    groups = []
    for sums, attributed, wasted, closed, weighted, done, completed, back, escalated, money, known in found[0]:  # fmt: skip
        group = Group(sums, attributed, weighted=weighted, completions=done, reopens=back)
        group.escalations, group.money, group.rework_known = escalated, money, known
        group.wasted_tokens, group.more_closed, group.more_completed = wasted, closed, completed
        groups.append(group)
    return groups, dict(sorted(found[1].items()))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    """A moment's microseconds since 1970 (UTC), as compiled/fleet_tail.c counts them."""
    return (moment - _EPOCH) // _MICROSECOND


def usage_of(rows: dict[RowKey, Row], config: Config, win: Window, every: str) -> Usage:
    """collect_rows' usage half (the outcomes are collected apart: the two do not meet)."""
    facts = collect_rows(rows, [], config, win, every=every)
    return facts.buckets, facts.bead_days, facts.unpriced_days, facts.usage_records


def with_usage(facts: Facts, usage: Usage) -> Facts:
    """facts (collected from the outcomes alone) with usage_of's sums: what collect_rows gives
    of both at once."""
    facts.buckets, facts.bead_days, facts.unpriced_days, facts.usage_records = usage
    return facts


def outcome_days(
    outcomes: Iterable[list[Record]], holds: Callable[[str], bool] | None
) -> dict[str, int]:
    """How many of the outcomes (lists of them) each UTC day holds; holds: the window's
    test of a time (None: every outcome)."""
    stamps: Iterable[str] = map(_TS, chain.from_iterable(outcomes))
    if holds is not None:
        stamps = filter(holds, stamps)
    stamps = list(stamps)
    if all(map(_ENDS_Z, stamps)):  # the shape bd-vpt writes: the day is the first ten
        return Counter(map(_DAY, stamps))
    return Counter(map(utc_day, stamps))


_TS = itemgetter("ts")
_ENDS_Z = methodcaller("endswith", "Z")
_DAY = itemgetter(slice(0, 10))


def day_of(moment: datetime) -> str:
    """The UTC day of a moment (a bead's story keeps moments; its records' times are text)."""
    return moment.astimezone(UTC).date().isoformat()


def fleet_facts(facts: Facts) -> Facts:
    """The facts collect_rows gives with no --by and no period, from facts collected by
    period (no --by) with the same window: each bead's buckets summed over the periods
    (exact integers, and in the order of the beads' first rows, as collect_rows makes
    them); the outcomes, days and bead states are the same objects."""
    buckets: dict[tuple[Any, ...], Bucket] = {}
    for (bead, _when, group), bucket in facts.buckets.items():
        if group != "":
            raise ValueError("facts collected --by a group")
        have = buckets.get((bead, ""))
        if have is None:
            buckets[(bead, "")] = list(bucket)
        else:
            have[:] = map(add, have, bucket)
    return Facts(
        buckets=buckets,
        outcomes=facts.outcomes,
        usage_records=facts.usage_records,
        outcome_records=facts.outcome_records,
        states=facts.states,
        bead_days=facts.bead_days,
        unpriced_days=facts.unpriced_days,
        source=facts.source,
    )


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    """A unicode sparkline; a gap (no value) is a space."""
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    low, high = min(present), max(present)
    span = (high - low) or 1.0
    return "".join(
        " " if v is None else SPARKS[min(7, int((v - low) / span * 7.999))] for v in values
    )
