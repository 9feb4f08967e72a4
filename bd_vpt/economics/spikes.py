"""The spike alert: a day of the fleet's tokens, or one session's, at spike_factor times the
median of the ones before it (an agent loop). From usage rows (ledger/usage.py): days and
sessions summed once, each median of a short sorted window. On the total basis the compiled
part finds them (compiled/spikes.c: the same, or it declines and Python finds them)."""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Any

from bd_vpt.config import Config
from bd_vpt.economics import timeline
from bd_vpt.ledger.usage import FIRST, UNSPLIT, Row, RowKey, counted

DAYS_BACK, SESSIONS_BACK = 7, 20  # the days and sessions a median is taken of


def spikes(rows: dict[RowKey, Row], config: Config, limits: dict[str, Any], fire: Any) -> None:
    """A day (fleet) or a session at >= spike_factor x the median of the ones before it."""
    basis = config.token_basis
    found, compiled = None, timeline.COMPILED
    if basis == "total" and compiled is not None:  # (compiled/spikes.c)
        factor, history = limits["spike_factor"], limits["spike_history"]
        found = compiled.spikes_found(rows, factor, history, DAYS_BACK, SESSIONS_BACK)
    if found is None:  # (declined: a sum beyond 2^52, a factor that is not a float, ...)
        days, firsts, sessions = sums(rows, basis)
        runs = [(s, sessions[s]) for s in sorted(firsts, key=firsts.__getitem__)]
        found = (
            above_trailing_median(sorted(days.items()), DAYS_BACK, limits),
            above_trailing_median(runs, SESSIONS_BACK, limits),
        )
    day_spikes, session_spikes = found
    for day, count, median in day_spikes:
        fire(
            "spike",
            "sudden 10x spike: agent loop",
            "kill and investigate",
            {"day": day, "tokens": count, "trailing_median": median},
            "fleet",
            f"{count:,} tokens on {day} >= {limits['spike_factor']:g}x the trailing median "
            f"{median:,.0f}",
        )
    for session, count, median in session_spikes:
        fire(
            "spike",
            "sudden 10x spike: agent loop",
            "kill and investigate",
            {"session": session, "tokens": count, "trailing_median": median},
            session,
            f"{count:,} tokens in one session >= {limits['spike_factor']:g}x the trailing "
            f"median {median:,.0f}",
        )


def sums(
    rows: dict[RowKey, Row], basis: str
) -> tuple[dict[str, int], dict[str, str], dict[str, int]]:
    """Tokens per UTC day; each session's first ts and tokens (each dict in the order its
    keys are first met)."""
    days: dict[str, int] = {}
    firsts: dict[str, str] = {}  # session -> its first ts
    sessions: dict[str, int] = {}  # session -> its tokens
    total = basis == "total"  # the common basis, summed here (else counted())
    for key, row in rows.items():
        shape = key[4]
        if shape & UNSPLIT:
            count = int(row[6])
        elif total:
            count = int(row[1] + row[2] + row[3] + row[4])
        else:
            count = counted(row, shape, basis)
        day = key[3]
        days[day] = days.get(day, 0) + count
        session = key[6]
        if session:
            first = firsts.get(session)
            if first is None or row[FIRST] < first:
                firsts[session] = row[FIRST]
            sessions[session] = sessions.get(session, 0) + count
    return days, firsts, sessions


def above_trailing_median(
    series: list[tuple[str, int]], lookback: int, limits: dict[str, Any]
) -> list[tuple[str, int, float]]:
    """(key, value, trailing median) where value >= spike_factor x the median of up to
    `lookback` values before it (once spike_history values exist)."""
    found: list[tuple[str, int, float]] = []
    values = [v for _, v in series]
    factor = limits["spike_factor"]
    judged = range(max(1, limits["spike_history"]), len(series))  # (none: no median)
    if not judged:
        return found
    start = judged.start
    # the values before index, sorted: kept as the index moves (one in, one out), not
    # sorted again each time; a value taken out is one equal to the one that leaves
    before = sorted(values[max(0, start - lookback) : start])
    for index in judged:
        if index > start:
            insort(before, values[index - 1])
            if index - 1 - lookback >= 0:
                del before[bisect_left(before, values[index - 1 - lookback])]
        key, value = series[index]
        half = len(before) // 2  # statistics.median's arithmetic, without its checks
        median = before[half] if len(before) % 2 else (before[half - 1] + before[half]) / 2
        if median and value >= factor * median:
            found.append((key, value, median))
    return found
