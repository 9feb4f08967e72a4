"""Value Per Token figures: pure functions from records to numbers (no I/O).

Usage is folded into buckets of (bead, group) as it streams past, so the ledger is never held
twice; outcomes (few) are kept per bead and folded into each bead's story (timeline.py).

Windows and periods, one rule for both (the README's "Windows" section):
- usage belongs to the moment it was spent; an outcome to the moment of its transition;
- a bead counts as closed (beads_closed, weighted completions, BC/MT) where its final
  completion lies, when its final state (at the report's revision) is completed; its value,
  human time, delay and rework are placed there too (an open bead's rework at its latest
  outcome);
- completion, reopen and escalation transitions count where they happen; rates are
  transitions in the window over completion transitions in the window.
So a `--by week` row and a `--since/--until` report of that week compute the same figures,
and the additive ones (README) sum over periods to the whole range.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import partial
from operator import is_not
from typing import Any

from bd_vpt.config import Config
from bd_vpt.economics.facts import (
    Facts,
    collect,
    collect_rows,
    cut_days,
    day_aligned,
    rows_of,
)
from bd_vpt.economics.groups import (
    Bucket,
    Group,
    add_all,
    zero_figures,
)
from bd_vpt.economics.keys import BEAD_KEYS, GROUP_KEYS, TIME_KEYS
from bd_vpt.economics.parts import Part, bead_part, compiled_fleet
from bd_vpt.economics.periodic import (
    compiled_rows,
    fleet_facts,
    fleet_rows,
    outcome_days,
    sparkline,
)
from bd_vpt.economics.periodic import day_of as _day
from bd_vpt.economics.periods import (
    Window,
    period,
    period_of,
    period_window,
    periods_between,
    utc_day,
    window,
)
from bd_vpt.economics.timeline import BeadState, states_of
from bd_vpt.ledger.records import Record
from bd_vpt.ledger.usage import Row, RowKey

__all__ = [  # the periods' names are re-exported: callers name them from metrics
    "ADDITIVE",
    "GROUP_KEYS",
    "NO_BEAD",
    "BeadState",
    "Facts",
    "Window",
    "bead_keys",
    "bead_states",
    "collect",
    "collect_rows",
    "cut_days",
    "day_aligned",
    "fleet_facts",
    "period",
    "period_of",
    "period_window",
    "periods_between",
    "sparkline",
    "summarize",
    "summarize_facts",
    "summarize_rows",
    "trend",
    "trend_of",
    "trend_rows",
    "utc_day",
    "window",
    "zero_figures",
]

NO_BEAD = "(none)"
UNKNOWN = "(unknown)"
NO_OUTCOME = "(no outcome yet)"  # usage on a bead that no outcome record describes yet

# Figures that add up over periods: the sum of `--by week` rows is the whole range's total.
ADDITIVE = (
    "tokens",
    "priced_cost_usd",
    "unpriced_records",
    "unpriced_tokens",
    "usage_records",
    "beads_closed",
    "weighted_completions",
    "completions",
    "reopens",
    "escalations",
    "human_minutes",
    "human_usd",
    "value_usd",
    "delay_usd",
    "unattributed_tokens",
)


def bead_states(
    facts: Facts, win: Window | None = None, keep: bool = False
) -> dict[str, BeadState]:
    """Each bead's transitions and final state (at the report's revision: every outcome it
    reads, whatever the window). Computed once per Facts. keep: hold each bead's state for
    another ledger of the same records (timeline.states_of)."""
    del win  # the window places transitions; it does not cut a bead's story
    if facts.states is None:
        source = facts.source
        for held, states in _STATES:
            if source is not None and held is source:
                facts.states = states
                return states
        facts.states = states_of(facts.outcomes, keep)
        if source is not None:
            _STATES.insert(0, (source, facts.states))
            del _STATES[2:]
    return facts.states


# The states of the last outcome lists folded (held, so an identity is never reused): one
# ledger's states serve every report made of it in a process (check's summaries, pr's
# chart and alerts). A state is a pure function of its bead's outcomes; lists handed to
# collect_rows are not changed afterwards.
_STATES: list[tuple[object, dict[str, BeadState]]] = []


_PRESENT = partial(is_not, None)


def _inside(win: Window) -> Callable[[datetime | None], bool]:
    """win.contains, quicker (it is asked 100,000 times a report): with no end, whether
    there is a moment (a C call); with both, one comparison chain."""
    since, until = win.since, win.until
    if since is None and until is None:
        return _PRESENT
    if since is None or until is None:
        return win.contains
    return lambda moment: moment is not None and since <= moment < until


def bead_keys(by: str, bead: str | None, state: BeadState | None) -> list[str]:
    if bead is None:
        return [NO_BEAD]
    if by == "bead":
        return [bead]
    if state is None:
        return [NO_OUTCOME]
    snap = state.snapshot
    if by == "priority":
        p = snap.get("priority")
        return [f"P{p}"] if p is not None else [UNKNOWN]
    if by == "type":
        return [snap.get("type") or UNKNOWN]
    labels = snap.get("labels") or []
    return list(labels) or ["(no label)"]


def _placements(
    by: str, bead: str, state: BeadState, shares: dict[str, dict[str, int]]
) -> list[tuple[str, float]]:
    """Where a bead's completion and money go (not by time): the group(s) of its facts;
    or, by agent or model, a split in proportion to the tokens each spent on it (no usage:
    the closing agent, or no model)."""
    if by in BEAD_KEYS:
        return [(key, 1.0) for key in bead_keys(by, bead, state)]
    split = shares.get(bead)
    spent = sum(split.values()) if split else 0
    if split and spent:
        return [(key, tokens / spent) for key, tokens in split.items()]
    return [((state.closer or UNKNOWN) if by == "agent" else NO_BEAD, 1.0)]


def _wasted(states: dict[str, BeadState]) -> tuple[set[str], dict[str, int]]:
    """The beads whose last result wasted their tokens, and not_counted(states): once per
    states (a trend asks them for every period)."""
    for held, found in _WASTED:
        if held is states:
            return found
    wasted = {b for b, st in states.items() if st.last_result_wasted}
    found = (wasted, not_counted(states))
    _WASTED.insert(0, (states, found))
    del _WASTED[2:]
    return found


# held, so an identity is never reused
_WASTED: list[tuple[object, tuple[set[str], dict[str, int]]]] = []


def _meeting(states: dict[str, BeadState], win: Window) -> Iterator[tuple[str, BeadState]]:
    """The beads whose story may meet the window: a bead adds nothing to a report (its part
    is None) when its first completion (or, with none, its latest outcome) and its latest
    outcome, between which all its moves lie, are both before it or both after it."""
    since, until = win.since, win.until
    for bead, state in states.items():
        last = state.last_at
        if last is not None:
            if since is not None and last < since:
                continue
            first = state.completions[0].at if state.completions else last
            if until is not None and first >= until:
                continue
        yield bead, state


def not_counted(states: dict[str, BeadState]) -> dict[str, int]:
    """Closes kept in the ledger but not counted, by rule (duplicate, wisp, parent, ...)."""
    counts: dict[str, int] = {}
    for state in states.values():
        if state.excluded:
            counts[state.excluded] = counts.get(state.excluded, 0) + 1
    return dict(sorted(counts.items()))


def summarize(
    records: Iterable[Record],
    config: Config,
    *,
    by: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """{"totals": {...}, "groups": [{"key": ..., ...}]} for the records in the window."""
    rows, outcomes = rows_of(records, window(since, until))
    return summarize_rows(rows, outcomes, config, by=by, since=since, until=until)


def summarize_rows(
    rows: dict[RowKey, Row],
    outcomes: Iterable[Record],
    config: Config,
    *,
    by: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """summarize() over a ledger already folded into usage rows (ledger/rows.py); the rows
    must place the usage of days the window cuts record by record (cut_days)."""
    win = window(since, until)
    facts = collect_rows(rows, outcomes, config, win, by=by)
    return summarize_facts(facts, config, by=by, win=win)


def summarize_facts(
    facts: Facts,
    config: Config,
    *,
    by: str | None = None,
    win: Window | None = None,
    movers: Iterable[str] | None = None,
    parts: dict[str, Part | None] | None = None,
) -> dict[str, Any]:
    """movers: the beads whose transitions may fall in the window (default: every bead);
    trend passes each period's, so a period does not walk every bead of the ledger.
    parts: filled with each moving bead's part (economics/parts.py)."""
    if by is not None and by not in GROUP_KEYS:
        raise ValueError(f"unknown grouping {by!r}")
    win = win or Window()
    inside = _inside(win)
    states = bead_states(facts)
    total = Group()
    groups: dict[str, Group] = defaultdict(Group)
    # token share of each bead per usage-derived group, for splitting completion credit
    shares: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    wasted, skipped = _wasted(states)
    add_all(total, facts.buckets, wasted)
    for (bead, group), bucket in facts.buckets.items() if by is not None else ():
        if by in TIME_KEYS:
            keys = [group]
        elif by in BEAD_KEYS:
            keys = bead_keys(by, bead, states.get(bead) if bead else None)
        else:
            keys = [group]
            if bead is not None:
                shares[bead][group] += int(bucket[0])
        for key in keys:
            groups[key].add(bead, bucket)
            if bead in wasted:
                groups[key].wasted_tokens += int(bucket[0])
    limit = config.escalation_minutes
    moving: Iterable[tuple[str, BeadState]]
    if movers is not None:
        moving = ((b, states[b]) for b in movers)
    elif parts is None and (win.since is not None or win.until is not None):
        moving = _meeting(states, win)  # (parts are kept of every bead)
    else:
        moving = states.items()
    if by is None and parts is None:
        moving = compiled_fleet(total, moving, facts, config, win)
    for bead, state in moving:
        part = bead_part(bead, state, facts, config, inside, limit)
        if parts is not None:
            parts[bead] = part
        if part is None:
            continue
        credited, weight, placed, done, back, escalated, money = part
        total.credit(bead, 1.0 if credited else 0.0, weight)
        total.count(bead, len(done), len(back), escalated)
        if placed:
            total.charge(1.0, money)
        if by is None:
            continue
        if by in TIME_KEYS:
            if credited and state.closed_at is not None:
                groups[period_of(state.closed_at, by)].credit(bead, 1.0, weight)
            if placed and state.anchor is not None:
                groups[period_of(state.anchor, by)].charge(1.0, money)
            for c in done:
                groups[period_of(c.at, by)].count(bead, 1, 0, int(c.minutes > limit))
            for moment in back:
                groups[period_of(moment, by)].count(bead, 0, 1, 0)
            continue
        for key, share in _placements(by, bead, state, shares):
            groups[key].credit(bead, share if credited else 0.0, weight)
            groups[key].count(bead, len(done), len(back), escalated)
            if placed:
                groups[key].charge(share, money)
    totals = total.figures()
    totals["outcome_records"] = facts.outcome_records
    if skipped:  # closes kept but not counted (sync's [outcomes] rules), by rule
        totals["not_counted"] = dict(skipped)
    rows = [{"key": key, **group.figures()} for key, group in groups.items()]
    if by in TIME_KEYS and rows:
        assert by is not None
        have = {r["key"] for r in rows}
        keys = periods_between(min(have), max(have), by, have)
        rows += [{"key": k, **zero_figures()} for k in keys if k not in have]
    if by in TIME_KEYS or by == "priority":
        rows.sort(key=lambda r: r["key"])
    else:
        rows.sort(key=lambda r: (-r["tokens"], -r["weighted_completions"], r["key"]))
    return {"by": by, "totals": totals, "groups": rows}


def trend(
    records: Iterable[Record],
    config: Config,
    *,
    every: str,
    by: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """One row per period (and group, with by): the figures a report of that period alone
    gives. Every period from the first to the last is listed; an empty one shows zeros."""
    rows, outcomes = rows_of(records, window(since, until))
    return trend_rows(rows, outcomes, config, every=every, by=by, since=since, until=until)


def trend_rows(
    rows: dict[RowKey, Row],
    outcomes: Iterable[Record],
    config: Config,
    *,
    every: str,
    by: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """trend() over a ledger already folded into usage rows (see summarize_rows)."""
    if every not in TIME_KEYS:
        raise ValueError(f"unknown period {every!r}")
    win = window(since, until)
    facts = collect_rows(rows, outcomes, config, win, by=by, every=every)
    return trend_of(facts, config, win, every, by)


def trend_of(
    facts: Facts,
    config: Config,
    win: Window,
    every: str,
    by: str | None,
    *,
    by_summaries: bool = False,
    last: int | None = None,
) -> list[dict[str, Any]]:
    """trend_rows() of facts collected with win, by and every. by_summaries: each period
    summarized alone even with no --by (what the one pass is tested against). last: only
    the last rows of a fleet trend (no --by), that many: each is made as in the whole
    trend, where a period's row reads nothing of another period (alerts.weekly_tail)."""
    holds = win.holds if win.since is not None or win.until is not None else None
    per_day = (  # outcomes in the window by day
        facts.days
        if facts.days is not None and holds is None
        else outcome_days(facts.outcomes.values(), holds)
    )
    placed: dict[str, str] = {}  # UTC day -> its period
    outcome_counts: dict[str, int] = defaultdict(int)
    for day, count in per_day.items():
        key = placed[day] = period(day, every)
        outcome_counts[key] += count
    seen = {key[1] for key in facts.buckets} | set(outcome_counts)
    if not seen:
        return []
    states = bead_states(facts)
    keys = periods_between(min(seen), max(seen), every, seen)
    if by is None and not by_summaries:  # (economics/periodic.py: the same rows, quicker)
        if last is not None:
            keys = keys[-last:] if last > 0 else []
        found = compiled_rows(facts, states, keys, every, config, outcome_counts)
        if found is not None:
            return found
        waste = _wasted(states)
        return fleet_rows(facts, states, keys, every, config, outcome_counts, waste)
    if last is not None:
        raise ValueError("only a fleet trend is made of its last rows alone")
    by_period: dict[str, dict[tuple[Any, ...], Bucket]] = defaultdict(dict)
    for (bead, when, group), bucket in facts.buckets.items():
        by_period[when][(bead, group)] = bucket
    rows = []
    groups_seen: set[str] = set()
    # period -> beads with something in it (a completion, a reopen, the anchor), in the
    # order of states: each period's sums add in the order a report of that period does
    movers: dict[str, dict[str, None]] = defaultdict(dict)
    for bead, state in states.items():
        days = [c.ts[:10] if c.ts[-1] == "Z" else _day(c.at) for c in state.completions]
        days.extend(map(_day, state.reopens))
        if not state.closed and state.last_at is not None:  # else the anchor is a completion
            latest = state.last_ts
            days.append(latest[:10] if latest and latest[-1] == "Z" else _day(state.last_at))
        for day in days:
            when = placed.get(day)
            if when is None:
                when = placed[day] = period(day, every)
            movers[when][bead] = None
    for key in keys:
        sub = Facts(
            buckets=by_period.get(key, {}),
            outcomes=facts.outcomes,
            states=states,
            outcome_records=outcome_counts[key],
            bead_days=facts.bead_days,
            unpriced_days=facts.unpriced_days,
        )
        document = summarize_facts(
            sub, config, by=by, win=period_window(key, every), movers=movers.get(key, ())
        )
        if by is None:
            rows.append({"period": key, "key": "fleet", **document["totals"]})
        else:
            rows.extend({"period": key, **group} for group in document["groups"])
            groups_seen.update(g["key"] for g in document["groups"])
    if by is not None:  # every group in every period: a quiet week is a zero, not a gap
        have = {(r["period"], r["key"]) for r in rows}
        rows += [
            {"period": p, "key": g, **zero_figures()}
            for p in keys
            for g in sorted(groups_seen)
            if (p, g) not in have
        ]
        rows.sort(key=lambda r: (r["period"], -r["tokens"], r["key"]))
    return rows
