"""A bead's story from its outcome records: its transitions and its final state.

- A `completed` outcome on an open bead is a completion transition; on a bead already
  completed it restates that completion (a double close counts once; its value, minutes and
  completion, when given, replace the earlier ones).
- A `reopened` outcome on a completed bead is a reopen transition; `rejected` and
  `abandoned` revoke the completion too. On an open bead they change nothing but the
  latest result.
- The final state is the state after the last outcome the report reads (its revision).

Every outcome belongs to the moment of its transition; reports place figures in windows
and periods by those moments (see metrics.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import is_, itemgetter
from typing import Any

from bd_vpt import compiled, gc_paused
from bd_vpt.config import Config
from bd_vpt.ledger.records import Record, parse_ts


@dataclass(slots=True)
class Completion:
    """One completion transition (and any restatement of it before the next reopen)."""

    at: datetime
    ts: str
    actor: str
    completion: float
    minutes: float  # human minutes recorded on this completion
    value: float  # value_usd recorded on this completion


@dataclass(slots=True)
class BeadState:
    """A bead as its outcome records tell it."""

    bead: str
    snapshot: dict[str, Any]
    closed: bool  # the final state is completed
    completion: float  # the final completion's share (0 when not closed)
    closed_ts: str | None  # the final completion transition (None when not closed)
    closed_at: datetime | None
    closer: str | None
    ever_completed: bool
    reopened: bool  # at least one reopen transition
    human_minutes: float  # effort: minutes of every completion, counted once closed
    value_usd: float  # the final completion's value, counted once closed
    last_ts: str | None = None
    last_at: datetime | None = None
    last_reopen: datetime | None = None
    last_result: str | None = None
    completions: list[Completion] = field(default_factory=list)
    reopens: list[datetime] = field(default_factory=list)
    excluded: str | None = None  # the [outcomes] rule that keeps its last close from counting

    @property
    def last_result_wasted(self) -> bool:
        """Tokens on a bead that came back or was given up are waste (so far)."""
        return self.last_result in ("reopened", "rejected", "abandoned")

    @property
    def anchor(self) -> datetime | None:
        """Where the bead's money (value, human time, delay, rework) is placed in time: its
        final completion, else its latest outcome."""
        return self.closed_at if self.closed else self.last_at


def ordered(outcomes: list[Record]) -> tuple[list[datetime], list[Record]]:
    """Outcomes in time order (then id), with their parsed times. Times in the shape
    format_ts writes (what the validator takes as 24 characters ending in Z) sort as text
    in time order, and one text is one moment: those are sorted without parsing first."""
    if len(outcomes) == 1:
        return [parse_ts(outcomes[0]["ts"])], outcomes
    if all(map(_canonical, map(_TS, outcomes))):
        keyed = sorted(outcomes, key=_TS_ID)
        return list(map(_FROM_ISO, map(_TS, keyed))), keyed
    pairs = sorted(((parse_ts(o["ts"]), o["id"], o) for o in outcomes), key=_WHEN)
    return [t[0] for t in pairs], [t[2] for t in pairs]


def _canonical(ts: str) -> bool:
    """The shape format_ts writes (2026-11-24T10:00:00.000Z), which parse_ts reads with
    fromisoformat alone."""
    return len(ts) == 24 and ts[23] == "Z" and ts[10] == "T" and ts[19] == "." and ts[0].isdigit()


_WHEN = itemgetter(0, 1)
_TS = itemgetter("ts")
_TS_ID = itemgetter("ts", "id")
_FROM_ISO = datetime.fromisoformat


def state_of(bead: str, outcomes: list[Record]) -> BeadState:
    """fold() of the bead's outcomes; the same records (the same objects, as two views of one
    repository share their blobs' folds) give the state already folded: pr reads base and
    head, which differ in a few beads, and folds only those twice."""
    held = _HELD.get(bead)
    if held is not None and len(held[0]) == len(outcomes) and all(map(is_, held[0], outcomes)):
        return held[1]
    state = _alone(bead, outcomes[0]) if len(outcomes) == 1 else fold(bead, *ordered(outcomes))
    _HELD[bead] = (tuple(outcomes), state)  # held: the records stay alive, so are not reused
    return state


_HELD: dict[str, tuple[tuple[Record, ...], BeadState]] = {}


def states_of(grouped: dict[str, list[Record]], keep: bool = False) -> dict[str, BeadState]:
    """state_of of each bead with outcomes, in grouped's order: compiled (compiled/story.c) for
    the beads whose records are in the shape bd-vpt writes, in Python for the rest (the
    compiled fold declines what it cannot prove it folds as fold() does). Both reuse the
    states held (_HELD) of beads whose records are exactly those (state_of); keep: the
    compiled fold holds the states it folds too (pr, whose base reuses the head's: holding
    40,000 states costs a report made of one ledger 15 ms for nothing)."""
    with gc_paused():  # (40,000 states and their parts, no cycle among them)
        if COMPILED is None:
            return {b: state_of(b, outcomes) for b, outcomes in grouped.items() if outcomes}
        states: dict[str, BeadState] = COMPILED.states(
            grouped, BeadState, Completion, UTC, _HELD, keep
        )
        for bead, state in states.items():
            if state is None:
                states[bead] = state_of(bead, grouped[bead])
        return states


def forget_states() -> None:
    _HELD.clear()


COMPILED = compiled("bd_vpt.economics._compiled")  # (compiled/*.c)


def fold(bead: str, moments: list[datetime], outcomes: list[Record]) -> BeadState:
    """The bead's transitions and final state."""
    snapshot: dict[str, Any] = {}
    runs: list[Completion] = []
    reopens: list[datetime] = []
    completed = False
    last_reopen: datetime | None = None
    pending = 0.0  # minutes recorded on outcomes that were not completions
    for moment, outcome in zip(moments, outcomes, strict=True):
        get = outcome.get
        found = get("snapshot")
        if found:
            snapshot = found
        minutes = get("human_minutes")
        result = outcome["result"]
        if result != "completed":
            pending += float(minutes or 0.0)
            if completed:
                completed = False
                if result == "reopened":
                    reopens.append(moment)
                    last_reopen = moment
            continue
        if get("excluded"):
            # a close sync keeps but does not count (a wisp, a parent of counted children):
            # no transition; the rule shows when it is the bead's last word
            pending += float(minutes or 0.0)
            continue
        value = get("value_usd")
        if not completed:
            runs.append(
                Completion(
                    moment,
                    outcome["ts"],
                    outcome["actor"],
                    float(get("completion", 1.0)),
                    float(minutes or 0.0) + pending,
                    float(value or 0.0),
                )
            )
            pending = 0.0
            completed = True
            continue
        run = runs[-1]  # a second close without a reopen: the same completion
        if minutes is not None:
            run.minutes = float(minutes)
        if value is not None:
            run.value = float(value)
        share = get("completion")
        if share is not None:
            run.completion = float(share)
    final = runs[-1] if completed else None
    latest = outcomes[-1]
    # positional, in the order of BeadState's fields (quicker than keywords, 40,000 times)
    return BeadState(
        bead,
        snapshot,
        completed,
        final.completion if final else 0.0,  # completion
        final.ts if final else None,  # closed_ts
        final.at if final else None,  # closed_at
        (final or runs[-1]).actor if runs else None,  # closer
        bool(runs),  # ever_completed
        bool(reopens),  # reopened
        sum(r.minutes for r in runs) if final else 0.0,  # human_minutes
        final.value if final else 0.0,  # value_usd
        latest["ts"],  # last_ts
        moments[-1],  # last_at
        last_reopen,
        latest["result"],  # last_result
        runs,  # completions
        reopens,
        latest.get("excluded") or None,  # excluded
    )


def _alone(bead: str, outcome: Record) -> BeadState:
    """fold() of a bead's one outcome (most beads have one): the same state, without the
    loop."""
    moment = parse_ts(outcome["ts"])
    get = outcome.get
    snapshot = get("snapshot") or {}
    minutes = float(get("human_minutes") or 0.0)
    result = outcome["result"]
    excluded = get("excluded")
    if result != "completed" or excluded:
        return BeadState(
            bead, snapshot, False, 0.0, None, None, None, False, False, 0.0, 0.0,
            outcome["ts"], moment, None, result, [], [], excluded or None,
        )  # fmt: skip
    ts = outcome["ts"]
    run = Completion(
        moment,
        ts,
        outcome["actor"],
        float(get("completion", 1.0)),
        minutes + 0.0,  # as fold adds the (no) minutes pending before it
        float(get("value_usd") or 0.0),
    )
    return BeadState(
        bead, snapshot, True, run.completion, ts, moment, run.actor, True, False,
        0 + run.minutes, run.value, ts, moment, None, result, [run], [], None,
    )  # fmt: skip


@dataclass(slots=True)
class Money:
    """What a bead cost beyond its tokens, and what it was worth."""

    minutes: float = 0.0
    human_usd: float = 0.0
    value_usd: float = 0.0
    delay_usd: float = 0.0
    rework_usd: float = 0.0
    rework_known: bool = True  # False: some usage counted as rework has no known price

    @property
    def amounts(self) -> tuple[float, float, float, float, float]:
        return (self.minutes, self.human_usd, self.value_usd, self.delay_usd, self.rework_usd)


def bead_money(
    state: BeadState,
    days: dict[str, float] | None,
    unpriced: set[str] | None,
    config: Config,
) -> Money:
    """human_usd = minutes / 60 x rate; delay = the bead's cost of delay per day x days from
    its first usage to its final close; rework = model cost spent on it up to its last
    reopen (at day granularity: usage on the day of the reopen counts as rework).
    days: the bead's model cost per UTC day over all its usage (not only the window's), so
    the figure does not depend on the window it is placed in; unpriced: days with usage of
    no known price."""
    minutes = state.human_minutes
    money = Money(minutes, minutes / 60 * config.human_usd_per_hour, state.value_usd)
    if days and state.last_reopen is not None:
        cutoff = state.last_reopen.date().isoformat()
        money.rework_usd = sum(cost for day, cost in days.items() if day <= cutoff)
        money.rework_known = not any(day <= cutoff for day in unpriced or ())
    rate = config.delay_rate(state.snapshot) if state.closed else 0.0
    if rate and days and state.closed_at is not None:
        start = datetime.fromisoformat(min(days) + "T00:00:00+00:00")
        money.delay_usd = rate * max(0.0, (state.closed_at - start).total_seconds() / 86400)
    return money
