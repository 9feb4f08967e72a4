"""Value Per Token figures: pure functions from records to numbers (no I/O).

Usage is folded into buckets of (bead, actor, model, UTC day) as it streams past, so the
ledger is never held twice; outcomes (few) are kept per bead. Every formula is in the README.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bd_vpt.config import Config
from bd_vpt.records import TOKEN_KINDS, Record, parse_ts, token_total

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
    return parse_ts(ts).strftime("%Y-%m-%d")


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

    buckets: dict[tuple[str | None, str, str, str], Bucket] = field(default_factory=dict)
    outcomes: dict[str, list[Record]] = field(default_factory=lambda: defaultdict(list))
    usage_records: int = 0
    outcome_records: int = 0


def collect(records: Iterable[Record], config: Config, win: Window | None = None) -> Facts:
    facts = Facts()
    basis = config.token_basis
    buckets = facts.buckets
    outcomes = facts.outcomes
    filtering = win is not None and (win.since is not None or win.until is not None)
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
            facts.outcome_records += 1
            continue
        facts.usage_records += 1
        ts = record["ts"]
        key = (
            record["bead"],
            record["actor"],
            record["model"],
            ts[:10] if ts[-1] == "Z" else utc_day(ts),
        )
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
    return facts


def _order(record: Record) -> tuple[datetime, str]:
    return parse_ts(record["ts"]), record["id"]


def bead_states(facts: Facts, win: Window | None = None) -> dict[str, BeadState]:
    states = {}
    for bead, outcomes in facts.outcomes.items():
        outcomes.sort(key=_order)
        snapshot: dict[str, Any] = {}
        ever_completed = reopened = False
        completion, closer, closed_ts = 0.0, None, None
        minutes = value = 0.0
        for outcome in outcomes:
            if outcome.get("snapshot"):
                snapshot = outcome["snapshot"]
            in_window = win is None or win.holds(outcome["ts"])
            if outcome["result"] == "completed":
                ever_completed = True
                completion = float(outcome.get("completion", 1.0))
                closer, closed_ts = outcome["actor"], outcome["ts"]
            elif outcome["result"] == "reopened" and ever_completed and in_window:
                reopened = True
            if in_window:
                minutes += outcome.get("human_minutes") or 0.0
                value += outcome.get("value_usd") or 0.0
        latest = outcomes[-1]
        closed = latest["result"] == "completed" and (win is None or win.holds(latest["ts"]))
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
class Group:
    sums: list[float] = field(default_factory=lambda: [0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0])
    attributed_tokens: int = 0
    closed: set[str] = field(default_factory=set)
    weighted: float = 0.0
    touched: set[str] = field(default_factory=set)

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
            "cost_per_completion": round(cost / n_closed, 6) if n_closed else None,
            "reopen_rate": round(reopened / len(completed), 6) if completed else None,
            "coverage": round(self.attributed_tokens / tokens, 6) if tokens else None,
        }


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
    facts = collect(records, config, win)
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
    for (bead, actor, model, day), bucket in facts.buckets.items():
        total.add(bead, bucket)
        if by is None:
            continue
        if by in TIME_KEYS:
            keys = [period(day, by)]
        elif by in BEAD_KEYS:
            keys = _bead_keys(by, bead, states.get(bead) if bead else None)
        else:
            keys = [actor if by == "agent" else model]
            if bead is not None:
                shares[bead][keys[0]] += int(bucket[0])
        for key in keys:
            groups[key].add(bead, bucket)
    for bead, state in states.items():
        weight = config.weight(state.snapshot.get("priority")) * state.completion
        total.credit(bead, 1.0 if state.closed else 0.0, weight)
        if by is None or not state.closed:
            if by in BEAD_KEYS and by is not None:
                for key in _bead_keys(by, bead, state):
                    groups[key].touched.add(bead)
            continue
        if by in TIME_KEYS:
            assert state.closed_ts is not None
            groups[period(utc_day(state.closed_ts), by)].credit(bead, 1.0, weight)
        elif by in BEAD_KEYS:
            for key in _bead_keys(by, bead, state):
                groups[key].credit(bead, 1.0, weight)
        else:
            split = shares.get(bead)
            spent = sum(split.values()) if split else 0
            if split and spent:
                for key, tokens in split.items():
                    groups[key].credit(bead, tokens / spent, weight)
            else:
                fallback = (state.closer or UNKNOWN) if by == "agent" else NO_BEAD
                groups[fallback].credit(bead, 1.0, weight)
    totals = total.figures(states)
    totals["outcome_records"] = facts.outcome_records
    rows = [{"key": key, **group.figures(states)} for key, group in groups.items()]
    if by in TIME_KEYS or by == "priority":
        rows.sort(key=lambda r: r["key"])
    else:
        rows.sort(key=lambda r: (-r["tokens"], -r["weighted_completions"], r["key"]))
    return {"by": by, "totals": totals, "groups": rows}
