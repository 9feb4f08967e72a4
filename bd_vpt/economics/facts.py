"""The ledger folded for reporting (Facts): usage buckets per (bead, group), outcomes per
bead. Records and per-blob usage rows (ledger/usage.py) are folded the same way: records are
first summed into rows, so both routes give the same figures to the bit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from functools import partial
from typing import Any

from bd_vpt import gc_paused
from bd_vpt.config import Config
from bd_vpt.economics import timeline
from bd_vpt.economics.groups import (
    COST,
    RECORDS,
    UNPRICED,
    UNPRICED_TOKENS,
    Bucket,
    Group,
    new_bucket,
)
from bd_vpt.economics.keys import TIME_KEYS
from bd_vpt.economics.modelnames import canonical
from bd_vpt.economics.periods import Window, period
from bd_vpt.economics.timeline import BeadState
from bd_vpt.ledger.records import Record, format_ts
from bd_vpt.ledger.usage import COST as COST_SLOT
from bd_vpt.ledger.usage import INSIDE, PICO, UNSPLIT, Row, RowKey, counted, fold_records
from bd_vpt.ledger.usage import UNPRICED as ROW_UNPRICED


@dataclass
class Facts:
    """The ledger folded for reporting: usage buckets and outcomes per bead."""

    # usage folded by (bead, group): the group is what the report groups usage by (an actor,
    # a model, a period; "" when the bead decides), so a fleet summary keeps one bucket per bead
    buckets: dict[tuple[Any, ...], Bucket] = field(default_factory=dict)
    # every outcome, in the window or not: a bead's final state is read at the revision
    outcomes: dict[str, list[Record]] = field(default_factory=lambda: defaultdict(list))
    usage_records: int = 0
    outcome_records: int = 0  # outcomes inside the window
    states: dict[str, BeadState] | None = None
    # model cost per bead per UTC day over all usage (rework and delay are measured from it),
    # and the days with usage of no known price
    bead_days: dict[str, dict[str, float]] = field(default_factory=dict)
    unpriced_days: dict[str, set[str]] = field(default_factory=dict)
    source: object = None  # the outcome list folded (collect_rows): states are shared by it
    # outcomes per UTC day, when collect_rows counted them with no window (the compiled
    # group does it as it groups them): periodic.outcome_days' counts, order aside
    days: dict[str, int] | None = None


def _group_of(by: str | None) -> Callable[[str, str, str], str]:
    """What usage is grouped by, given its actor, model and UTC day ("" when the bead
    decides)."""
    if by == "agent":
        return lambda actor, model, day: actor
    if by == "model":
        return lambda actor, model, day: canonical(model)
    if by in TIME_KEYS:
        assert by is not None
        every = by
        periods: dict[str, str] = {}

        def in_period(actor: str, model: str, day: str) -> str:
            found = periods.get(day)
            if found is None:
                found = periods[day] = period(day, every)
            return found

        return in_period
    return lambda actor, model, day: ""


def day_aligned(win: Window | None) -> bool:
    """Whether the window's ends fall on UTC midnights (the day of a usage row decides)."""
    if win is None:
        return True
    return all(
        end is None or (end.hour, end.minute, end.second, end.microsecond) == (0, 0, 0, 0)
        for end in (win.since, win.until)
    )


def cut_days(win: Window | None) -> set[str]:
    """The UTC days a window's ends cut in two: their usage must be placed record by record."""
    if win is None:
        return set()
    return {
        end.date().isoformat()
        for end in (win.since, win.until)
        if end is not None and (end.hour, end.minute, end.second, end.microsecond) != (0, 0, 0, 0)
    }


def collect(
    records: Iterable[Record],
    config: Config,
    win: Window | None = None,
    *,
    by: str | None = None,
    every: str | None = None,
) -> Facts:
    """Fold records: usage in the window into buckets keyed (bead, group), or (bead, period,
    group) with every (for trend); every outcome kept per bead."""
    rows, outcomes = rows_of(records, win)
    return collect_rows(rows, outcomes, config, win, by=by, every=every)


def rows_of(
    records: Iterable[Record], win: Window | None
) -> tuple[dict[RowKey, Row], list[Record]]:
    """Records summed into usage rows for a report over win: the records of a day its ends
    cut are placed one by one (ledger/usage.py)."""
    return fold_records(records, win if cut_days(win) else None)


def collect_rows(
    rows: dict[RowKey, Row],
    outcomes: Iterable[Record],
    config: Config,
    win: Window | None = None,
    *,
    by: str | None = None,
    every: str | None = None,
) -> Facts:
    """collect() over usage rows (ledger/rows.py): the folded route and the record route
    meet here, so both give the same figures to the bit."""
    facts = Facts()
    basis = config.token_basis
    buckets = facts.buckets
    bead_days: dict[str, dict[str, int]] = {}
    unpriced_days = facts.unpriced_days
    group_of = _group_of(by)
    every = every or None
    if every is not None and every not in TIME_KEYS:
        raise ValueError(f"unknown period {every!r}")
    filtering = win is not None and (win.since is not None or win.until is not None)
    since = win.since if win is not None and win.since is not None else None
    until = win.until if win is not None and win.until is not None else None
    low = since.date().isoformat() if since is not None else None
    low_cut = since is not None and not day_aligned(Window(since, None))
    high = until.date().isoformat() if until is not None else None
    halves = cut_days(win)
    usage_records = outcome_records = 0
    total_basis = basis == "total"  # the common basis, summed here (else counted())
    plain = by is None and not every  # one bucket per bead
    periods: dict[str, str] = {}  # UTC day -> its period (every)
    summed = None
    compiled = timeline.COMPILED
    if by is None and total_basis and compiled is not None:
        of = None if every is None else partial(period, every=every)
        within = (frozenset(halves), low, low_cut, high, INSIDE) if filtering else None
        summed = compiled.collect(rows, of, within)  # (None: declined, a sum beyond 64 bits)
    if summed is not None:
        facts.buckets, facts.bead_days, facts.unpriced_days, usage_records = summed
        rows = {}  # summed
    for (bead, actor, model, day, shape, cut, _session), row in rows.items():
        cost = row[COST_SLOT]
        if bead is not None:
            days = bead_days.get(bead)
            if days is None:
                bead_days[bead] = {day: cost}
            else:
                days[day] = days.get(day, 0) + cost
            if shape & ROW_UNPRICED:
                unpriced_days.setdefault(bead, set()).add(day)
        if filtering:
            if day in halves:  # the window's end cuts this day: its records were placed
                if not cut:
                    raise ValueError(f"usage on {day} is cut by the window: fold it per record")
                if cut != INSIDE:
                    continue
            elif (low is not None and (day < low or (day == low and low_cut))) or (
                high is not None and day >= high
            ):
                continue
        count = row[0]
        usage_records += count
        if plain:
            key: tuple[Any, ...] = (bead, "")
        elif every is None:
            key = (bead, group_of(actor, model, day))
        else:
            when = periods.get(day)
            if when is None:
                when = periods[day] = period(day, every)
            key = (bead, when, "" if by is None else group_of(actor, model, day))
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = new_bucket()
        if shape & UNSPLIT:
            tokens = int(row[6])
            bucket[6] += tokens
        elif total_basis:
            tokens = int(row[1] + row[2] + row[3] + row[4])
        else:
            tokens = counted(row, shape, basis)
        bucket[0] += tokens
        bucket[1] += row[1]
        bucket[2] += row[2]
        bucket[3] += row[3]
        bucket[4] += row[4]
        bucket[5] += row[5]
        if shape & ROW_UNPRICED:
            bucket[UNPRICED] += count
            bucket[UNPRICED_TOKENS] += tokens
        else:
            bucket[COST] += cost
        bucket[RECORDS] += count
    holds = win.holds if filtering and win is not None else None
    if isinstance(outcomes, list):
        facts.source = outcomes
    grouped = facts.outcomes
    ends = (None, None) if holds is None else stamp_ends(win)
    found = None
    per_day: dict[str, int] | None = {} if holds is None else None
    if compiled is not None and ends is not None:
        with gc_paused():  # (a list per bead)
            found = compiled.group(outcomes, grouped, *ends, holds is not None, per_day)
    if found is not None:
        outcome_records = found
        facts.days = per_day
    else:
        for record in outcomes:
            grouped[record["bead"]].append(record)
            outcome_records += 1 if holds is None else holds(record["ts"])
    if summed is None:
        facts.bead_days = {
            bead: {day: cost / PICO for day, cost in days.items()}
            for bead, days in bead_days.items()
        }
    facts.usage_records = usage_records
    facts.outcome_records = outcome_records
    return facts


def stamp_ends(win: Window | None) -> tuple[str | None, str | None] | None:
    """The window's ends as the format_ts texts of the first millisecond at or after each
    (None: no end). A time in format_ts's shape is a whole millisecond t, and t >= end when
    t >= that millisecond (t < end likewise), and such texts sort as their moments: the
    compiled collect compares texts. None: an end it cannot place so (no zone; beyond
    year 9999)."""
    texts: list[str | None] = []
    for end in (win.since, win.until) if win is not None else (None, None):
        if end is None:
            texts.append(None)
            continue
        if end.tzinfo is None or end.utcoffset() is None:
            return None
        try:
            moment = end.astimezone(UTC)
            if moment.microsecond % 1000:
                moment += timedelta(microseconds=1000 - moment.microsecond % 1000)
        except OverflowError:
            return None
        text = format_ts(moment)
        if len(text) != 24:
            return None
        texts.append(text)
    return texts[0], texts[1]


def transitions(facts: Facts, states: dict[str, BeadState], limit: float) -> Group:
    """The whole ledger's usage (facts collected with no window) and every transition of
    its beads (completions, reopens, escalations: completions of more than limit human
    minutes), as summarize_facts counts them with no window, where every bead moves and
    all of its transitions are inside; no credit and no money are placed. What check reads
    of the fleet's figures (rates, counts, coverage, priced share) is then the same."""
    total = Group()
    for (bead, _group), bucket in facts.buckets.items():
        total.add(bead, bucket)
    for bead, state in states.items():
        done = state.completions
        escalated = sum(1 for c in done if c.minutes > limit) if done else 0
        total.count(bead, len(done), len(state.reopens), escalated)
    return total
