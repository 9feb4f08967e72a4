"""Value Per Token figures: pure functions from records to numbers (no I/O).

Usage is folded into buckets of (bead, actor, model, UTC day) as it streams past, so the
ledger is never held twice; outcomes (few) are kept per bead. Every formula is in the README.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bd_vpt.config import Config
from bd_vpt.ledger.records import TOKEN_KINDS, Record, parse_ts, token_total

GROUP_KEYS = ("agent", "bead", "model", "priority", "type", "label", "day", "week", "month")
TIME_KEYS = ("day", "week", "month")
BEAD_KEYS = ("bead", "priority", "type", "label")
NO_BEAD = "(none)"
UNKNOWN = "(unknown)"
NO_OUTCOME = "(no outcome yet)"  # usage on a bead that no outcome record describes yet


# A usage bucket is a flat list (cheap to make a million of):
# [tokens on the basis, input, output, cache_read, cache_write, reasoning, unsplit,
#  cost_usd, unpriced records, records]
Bucket = list[float]
KIND_SLOTS = (*TOKEN_KINDS, "unsplit")
_COST, _UNPRICED, _RECORDS = 7, 8, 9


@dataclass
class BeadState:
    """A bead as its outcome records tell it (within the report window)."""

    bead: str
    snapshot: dict[str, Any]
    closed: bool  # the latest outcome is `completed`
    completion: float
    closed_ts: str | None
    closer: str | None
    ever_completed: bool
    reopened: bool  # a `reopened` came after a `completed`
    human_minutes: float
    value_usd: float
    last_ts: str | None = None  # the latest outcome in the window
    last_reopen: datetime | None = None  # the latest reopen in the window
    last_result: str | None = None

    @property
    def last_result_wasted(self) -> bool:
        """Tokens on a bead that came back or was given up are waste (so far)."""
        return self.last_result in ("reopened", "rejected", "abandoned")


@dataclass
class Window:
    since: datetime | None = None
    until: datetime | None = None  # exclusive

    def holds(self, ts: str) -> bool:
        if self.since is None and self.until is None:
            return True
        moment = parse_ts(ts)
        if self.since is not None and moment < self.since:
            return False
        return self.until is None or moment < self.until


def window(since: str | None, until: str | None) -> Window:
    """--since is inclusive; --until a date includes that whole day."""
    end = None
    if until:
        end = parse_ts(until)
        if len(until.strip()) == 10:
            end += timedelta(days=1)
    return Window(parse_ts(since) if since else None, end)


def utc_day(ts: str) -> str:
    if ts.endswith("Z"):
        return ts[:10]
    return parse_ts(ts).date().isoformat()  # strftime drops the zeros of a year < 1000


def period(day: str, every: str) -> str:
    if every == "day":
        return day
    if every == "month":
        return day[:7]
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Facts:
    """The ledger folded for reporting: usage buckets and outcomes per bead."""

    # usage folded by (bead, group): the group is what the report groups usage by (an actor,
    # a model, a period; "" when the bead decides), so a fleet summary keeps one bucket per bead
    buckets: dict[tuple[Any, ...], Bucket] = field(default_factory=dict)
    outcomes: dict[str, list[Record]] = field(default_factory=lambda: defaultdict(list))
    usage_records: int = 0
    outcome_records: int = 0
    ordered: dict[str, tuple[list[datetime], list[Record]]] | None = None
    # model cost per bead per UTC day: what rework and delay are measured from
    bead_days: dict[str, dict[str, float]] = field(default_factory=dict)


def _group_of(by: str | None) -> Callable[[Record, str], str]:
    """What a usage record is grouped by, given its UTC day ("" when the bead decides)."""
    if by == "agent":
        return lambda record, day: record["actor"]
    if by == "model":
        return lambda record, day: record["model"]
    if by in TIME_KEYS:
        assert by is not None
        every = by
        periods: dict[str, str] = {}

        def in_period(record: Record, day: str) -> str:
            found = periods.get(day)
            if found is None:
                found = periods[day] = period(day, every)
            return found

        return in_period
    return lambda record, day: ""


def collect(
    records: Iterable[Record],
    config: Config,
    win: Window | None = None,
    *,
    by: str | None = None,
    every: str | None = None,
) -> Facts:
    """Fold records: usage into buckets keyed (bead, group), or (bead, period, group) with
    every (for trend); outcomes kept per bead."""
    facts = Facts()
    basis = config.token_basis
    buckets = facts.buckets
    outcomes = facts.outcomes
    bead_days = facts.bead_days
    group_of = _group_of(by)
    period_of = _group_of(every) if every else None
    filtering = win is not None and (win.since is not None or win.until is not None)
    usage_records = outcome_records = 0
    for record in records:
        if filtering:
            assert win is not None
            if not win.holds(record["ts"]):
                if record["kind"] == "outcome" and (
                    win.until is None or parse_ts(record["ts"]) < win.until
                ):
                    outcomes[record["bead"]].append(record)  # history before the window
                continue
        if record["kind"] == "outcome":
            outcomes[record["bead"]].append(record)
            outcome_records += 1
            continue
        usage_records += 1
        ts = record["ts"]
        day = ts[:10] if ts[-1] == "Z" else utc_day(ts)
        if period_of is None:
            key: tuple[Any, ...] = (record["bead"], group_of(record, day))
        else:
            key = (record["bead"], period_of(record, day), group_of(record, day))
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = [0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0]
        tokens = record["tokens"]
        get = tokens.get
        inp, out = get("input", 0), get("output", 0)
        cread, cwrite = get("cache_read", 0), get("cache_write", 0)
        if "input" in tokens or "output" in tokens or "total" not in tokens:
            bucket[0] += (
                inp + out + cread + cwrite if basis == "total" else token_total(tokens, basis)
            )
        else:
            bucket[0] += tokens["total"]
            bucket[6] += tokens["total"]
        bucket[1] += inp
        bucket[2] += out
        bucket[3] += cread
        bucket[4] += cwrite
        bucket[5] += get("reasoning", 0)
        cost = record.get("cost_usd")
        if cost is None:
            bucket[_UNPRICED] += 1
        else:
            bucket[_COST] += cost
        bucket[_RECORDS] += 1
        bead = record["bead"]
        if bead is not None:
            days = bead_days.get(bead)
            if days is None:
                days = bead_days[bead] = {}
            days[day] = days.get(day, 0.0) + (cost or 0.0)
    facts.usage_records = usage_records
    facts.outcome_records = outcome_records
    return facts


def _ordered(facts: Facts) -> dict[str, tuple[list[datetime], list[Record]]]:
    """Each bead's outcomes in time order (then id), with their parsed times; computed once."""
    if facts.ordered is None:
        facts.ordered = {}
        for bead, outcomes in facts.outcomes.items():
            keyed = sorted(((parse_ts(o["ts"]), o["id"], o) for o in outcomes), key=lambda t: t[:2])
            facts.ordered[bead] = ([t[0] for t in keyed], [t[2] for t in keyed])
    return facts.ordered


def bead_states(facts: Facts, win: Window | None = None) -> dict[str, BeadState]:
    """Each bead's state as of the end of the window (outcomes after it are ignored)."""
    states = {}
    since = win.since if win else None
    until = win.until if win else None
    for bead, (moments, outcomes) in _ordered(facts).items():
        if until is not None:
            cut = bisect_left(moments, until)
            moments, outcomes = moments[:cut], outcomes[:cut]
        if not outcomes:
            continue
        snapshot: dict[str, Any] = {}
        ever_completed = reopened = False
        completion, closer, closed_ts = 0.0, None, None
        minutes = value = 0.0
        last_reopen: datetime | None = None
        for moment, outcome in zip(moments, outcomes, strict=True):
            if outcome.get("snapshot"):
                snapshot = outcome["snapshot"]
            in_window = since is None or moment >= since
            if outcome["result"] == "completed":
                ever_completed = True
                completion = float(outcome.get("completion", 1.0))
                closer, closed_ts = outcome["actor"], outcome["ts"]
            elif outcome["result"] == "reopened" and ever_completed and in_window:
                reopened = True
                last_reopen = moment
            if in_window:
                minutes += outcome.get("human_minutes") or 0.0
                value += outcome.get("value_usd") or 0.0
        latest = outcomes[-1]
        closed = latest["result"] == "completed" and (since is None or moments[-1] >= since)
        states[bead] = BeadState(
            bead=bead,
            snapshot=snapshot,
            closed=closed,
            completion=completion if closed else 0.0,
            closed_ts=closed_ts if closed else None,
            closer=closer,
            ever_completed=ever_completed,
            reopened=reopened,
            human_minutes=minutes,
            value_usd=value,
            last_ts=latest["ts"],
            last_reopen=last_reopen,
            last_result=latest["result"],
        )
    return states


def _bead_keys(by: str, bead: str | None, state: BeadState | None) -> list[str]:
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


@dataclass
class Money:
    """What a bead cost beyond its tokens, and what it was worth (one report window)."""

    minutes: float = 0.0
    human_usd: float = 0.0
    value_usd: float = 0.0
    delay_usd: float = 0.0
    rework_usd: float = 0.0
    escalated: bool = False

    @property
    def amounts(self) -> tuple[float, float, float, float, float]:
        return (self.minutes, self.human_usd, self.value_usd, self.delay_usd, self.rework_usd)


def bead_money(state: BeadState, days: dict[str, float] | None, config: Config) -> Money:
    """human_usd = minutes / 60 x rate; delay = the bead's cost of delay per day x days from
    its first usage to its close; rework = model cost spent on it up to its last reopen (at
    day granularity: usage on the day of the reopen counts as rework)."""
    money = Money(
        minutes=state.human_minutes,
        human_usd=state.human_minutes / 60 * config.human_usd_per_hour,
        value_usd=state.value_usd,
        escalated=state.human_minutes > config.escalation_minutes,
    )
    if days and state.last_reopen is not None:
        cutoff = state.last_reopen.date().isoformat()
        money.rework_usd = sum(cost for day, cost in days.items() if day <= cutoff)
    rate = config.delay_rate(state.snapshot) if state.closed else 0.0
    if rate and days and state.closed_ts:
        start = datetime.fromisoformat(min(days) + "T00:00:00+00:00")
        money.delay_usd = rate * max(
            0.0, (parse_ts(state.closed_ts) - start).total_seconds() / 86400
        )
    return money


@dataclass
class Group:
    sums: list[float] = field(default_factory=lambda: [0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0])
    attributed_tokens: int = 0
    closed: set[str] = field(default_factory=set)
    weighted: float = 0.0
    touched: set[str] = field(default_factory=set)
    money: list[float] = field(default_factory=lambda: [0.0] * 5)  # see Money
    escalated: set[str] = field(default_factory=set)
    wasted_tokens: int = 0

    def add(self, bead: str | None, bucket: Bucket) -> None:
        sums = self.sums
        for i, value in enumerate(bucket):
            sums[i] += value
        if bead is not None:
            self.attributed_tokens += int(bucket[0])
            self.touched.add(bead)

    def credit(self, bead: str, share: float, weight: float) -> None:
        if share > 0:
            self.closed.add(bead)
            self.weighted += share * weight
        self.touched.add(bead)

    def charge(self, bead: str, share: float, money: Money) -> None:
        """The bead's human attention, value, delay and rework, by share."""
        for i, amount in enumerate(money.amounts):
            self.money[i] += share * amount
        if money.escalated and share > 0:
            self.escalated.add(bead)

    def figures(self, states: dict[str, BeadState]) -> dict[str, Any]:
        completed = [b for b in self.touched if b in states and states[b].ever_completed]
        reopened = sum(1 for b in completed if states[b].reopened)
        n_closed = len(self.closed)
        tokens = int(self.sums[0])
        cost = self.sums[_COST]
        return {
            "tokens": tokens,
            "tokens_by_kind": {k: int(v) for k, v in zip(KIND_SLOTS, self.sums[1:7], strict=True)},
            "cost_usd": round(cost, 6),
            "unpriced_records": int(self.sums[_UNPRICED]),
            "usage_records": int(self.sums[_RECORDS]),
            "beads_closed": n_closed,
            "weighted_completions": round(self.weighted, 6),
            "bc_mt": round(self.weighted / (tokens / 1e6), 6) if tokens else None,
            "weighted_per_usd": round(self.weighted / cost, 6) if cost else None,
            "cost_per_completion": round(cost / n_closed, 6) if n_closed else None,
            "reopen_rate": round(reopened / len(completed), 6) if completed else None,
            "coverage": round(self.attributed_tokens / tokens, 6) if tokens else None,
            "unattributed_tokens": tokens - self.attributed_tokens,
            **self.value_figures(cost, tokens, n_closed, len(completed)),
        }

    def value_figures(
        self, cost: float, tokens: int, n_closed: int, completed: int
    ) -> dict[str, Any]:
        minutes, human, value, delay, rework = self.money
        loaded = cost + human + delay + rework
        return {
            "human_minutes": round(minutes, 6),
            "human_usd": round(human, 6),
            "delay_usd": round(delay, 6),
            "rework_usd": round(rework, 6),
            "fully_loaded_cost_usd": round(loaded, 6),
            "fully_loaded_cost_per_completion": round(loaded / n_closed, 6) if n_closed else None,
            "value_usd": round(value, 6),
            "value_per_mtok": round(value / (tokens / 1e6), 6) if tokens else None,
            "roi": round(value / loaded, 6) if loaded else None,
            "escalation_rate": round(len(self.escalated) / completed, 6) if completed else None,
            "waste_share": round(self.wasted_tokens / tokens, 6) if tokens else None,
        }


def _placements(
    by: str, bead: str, state: BeadState, shares: dict[str, dict[str, int]]
) -> list[tuple[str, float]]:
    """Where a bead's completion and money go: the group(s) of its facts; the period of its
    close (else of its latest outcome); or, by agent or model, a split in proportion to the
    tokens each spent on it (no usage: the closing agent, or no model)."""
    if by in TIME_KEYS:
        when = state.closed_ts or state.last_ts
        return [(period(utc_day(when), by), 1.0)] if when else []
    if by in BEAD_KEYS:
        return [(key, 1.0) for key in _bead_keys(by, bead, state)]
    split = shares.get(bead)
    spent = sum(split.values()) if split else 0
    if split and spent:
        return [(key, tokens / spent) for key, tokens in split.items()]
    return [((state.closer or UNKNOWN) if by == "agent" else NO_BEAD, 1.0)]


def summarize(
    records: Iterable[Record],
    config: Config,
    *,
    by: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """{"totals": {...}, "groups": [{"key": ..., ...}]} for the records in the window."""
    win = window(since, until)
    facts = collect(records, config, win, by=by)
    return summarize_facts(facts, config, by=by, win=win)


def summarize_facts(
    facts: Facts, config: Config, *, by: str | None = None, win: Window | None = None
) -> dict[str, Any]:
    if by is not None and by not in GROUP_KEYS:
        raise ValueError(f"unknown grouping {by!r}")
    states = bead_states(facts, win)
    total = Group()
    groups: dict[str, Group] = defaultdict(Group)
    # token share of each bead per usage-derived group, for splitting completion credit
    shares: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    wasted = {b for b, st in states.items() if st.last_result_wasted}
    for (bead, group), bucket in facts.buckets.items():
        total.add(bead, bucket)
        if bead in wasted:
            total.wasted_tokens += int(bucket[0])
        if by is None:
            continue
        if by in TIME_KEYS:
            keys = [group]
        elif by in BEAD_KEYS:
            keys = _bead_keys(by, bead, states.get(bead) if bead else None)
        else:
            keys = [group]
            if bead is not None:
                shares[bead][group] += int(bucket[0])
        for key in keys:
            groups[key].add(bead, bucket)
            if bead in wasted:
                groups[key].wasted_tokens += int(bucket[0])
    for bead, state in states.items():
        weight = config.weight(state.snapshot.get("priority")) * state.completion
        money = bead_money(state, facts.bead_days.get(bead), config)
        share_closed = 1.0 if state.closed else 0.0
        total.credit(bead, share_closed, weight)
        total.charge(bead, 1.0, money)
        if by is None:
            continue
        for key, share in _placements(by, bead, state, shares):
            groups[key].credit(bead, share if state.closed else 0.0, weight)
            groups[key].charge(bead, share, money)
    totals = total.figures(states)
    totals["outcome_records"] = facts.outcome_records
    rows = [{"key": key, **group.figures(states)} for key, group in groups.items()]
    if by in TIME_KEYS or by == "priority":
        rows.sort(key=lambda r: r["key"])
    else:
        rows.sort(key=lambda r: (-r["tokens"], -r["weighted_completions"], r["key"]))
    return {"by": by, "totals": totals, "groups": rows}


def period_window(key: str, every: str) -> Window:
    """[start, end) of a day (2026-11-24), ISO week (2026-W48) or month (2026-11), UTC."""
    if every == "day":
        start = datetime.fromisoformat(key + "T00:00:00+00:00")
        return Window(start, start + timedelta(days=1))
    if every == "week":
        year, week = key.split("-W")
        start = datetime.fromisocalendar(int(year), int(week), 1).replace(tzinfo=UTC)
        return Window(start, start + timedelta(days=7))
    start = datetime.fromisoformat(key + "-01T00:00:00+00:00")
    month_end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Window(start, month_end)


def trend(
    records: Iterable[Record],
    config: Config,
    *,
    every: str,
    by: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """One row per period (and group, with by): the summary figures of that period alone.

    Usage counts in the period it happened; a bead counts as closed in the period of its
    closing outcome, if no later outcome in that period revoked it.
    """
    if every not in TIME_KEYS:
        raise ValueError(f"unknown period {every!r}")
    win = window(since, until)
    facts = collect(records, config, win, by=by, every=every)
    by_period: dict[str, dict[tuple[Any, ...], Bucket]] = defaultdict(dict)
    for (bead, when, group), bucket in facts.buckets.items():
        by_period[when][(bead, group)] = bucket
    outcome_counts: dict[str, int] = defaultdict(int)
    for moments, outcomes in _ordered(facts).values():
        for moment, outcome in zip(moments, outcomes, strict=True):
            if win.since is None or moment >= win.since:
                key = period(utc_day(outcome["ts"]), every)
                outcome_counts[key] += 1
                by_period.setdefault(key, {})
    rows = []
    for key in sorted(by_period):
        sub = Facts(
            buckets=by_period[key],
            outcomes=facts.outcomes,
            ordered=facts.ordered,
            outcome_records=outcome_counts[key],
            bead_days=facts.bead_days,
        )
        document = summarize_facts(sub, config, by=by, win=period_window(key, every))
        if by is None:
            rows.append({"period": key, "key": "fleet", **document["totals"]})
        else:
            rows.extend({"period": key, **group} for group in document["groups"])
    return rows


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


def compare_models(
    records: Iterable[Record],
    config: Config,
    *,
    facet: str = "type",
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """Per model, the figures; per bead type (or label), which model was cheapest fully
    loaded (per completion) and which was cheapest by token price (per Mtok)."""
    if facet not in ("type", "label"):
        raise ValueError(f"unknown facet {facet!r}")
    win = window(since, until)
    facts = collect(records, config, win, by="model")
    models = summarize_facts(facts, config, by="model", win=win)
    states = bead_states(facts, win)
    by_facet: dict[str, set[str]] = defaultdict(set)
    for bead, state in states.items():
        for key in _bead_keys(facet, bead, state):
            by_facet[key].add(bead)
    choices = []
    for key in sorted(by_facet):
        beads = by_facet[key]
        sub = Facts(
            buckets={k: v for k, v in facts.buckets.items() if k[0] in beads},
            outcomes=defaultdict(list, {b: facts.outcomes[b] for b in beads}),
            bead_days=facts.bead_days,
        )
        rows = [
            r for r in summarize_facts(sub, config, by="model", win=win)["groups"] if r["tokens"]
        ]
        for row in rows:
            row["cost_per_mtok"] = round(row["cost_usd"] / (row["tokens"] / 1e6), 6)
        loaded = [r for r in rows if r["fully_loaded_cost_per_completion"] is not None]
        cheapest = min(loaded, key=lambda r: r["fully_loaded_cost_per_completion"], default=None)
        by_price = min(rows, key=lambda r: r["cost_per_mtok"], default=None)
        choices.append(
            {
                facet: key,
                "cheapest_fully_loaded": cheapest["key"] if cheapest else None,
                "cheapest_by_token_price": by_price["key"] if by_price else None,
                "differs": bool(cheapest and by_price and cheapest["key"] != by_price["key"]),
                "models": rows,
            }
        )
    for row in models["groups"]:
        row["cost_per_mtok"] = (
            round(row["cost_usd"] / (row["tokens"] / 1e6), 6) if row["tokens"] else None
        )
    return {"facet": facet, "models": models["groups"], "choices": choices}
