"""Budgets and red-flag alerts (../shared/seeds/002's table), as pure functions over records.

Each alert names the pattern, the evidence and the action. Which alerts are hard (fail
`bd-vpt check` with exit 1) is configured: `[thresholds] hard = [...]`; a budget is hard or
soft by its own `kind`.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bd_vpt.config import Config
from bd_vpt.economics.facts import Facts
from bd_vpt.economics.fleetwide import fleetwide
from bd_vpt.economics.metrics import (
    Window,
    bead_states,
    collect_rows,
    cut_days,
    period,
    period_window,
    summarize_rows,
    trend_of,
    window,
)
from bd_vpt.economics.spikes import spikes
from bd_vpt.ledger.records import Record
from bd_vpt.ledger.usage import (
    COST,
    INSIDE,
    PICO,
    UNPRICED,
    Row,
    RowKey,
    counted,
    fold_records,
)

DEFAULTS: dict[str, Any] = {
    "bc_mt_floor": 0.0,  # per agent; 0 disables
    "spike_factor": 10.0,
    "spike_history": 3,  # periods of history needed before a spike can be judged
    "drift_periods": 4,  # weeks of rising tokens per completed bead
    "variation_cv": 1.0,
    "variation_min_beads": 5,
    "cost_rise": 0.25,  # cost up by more than this share ...
    "outcomes_flat": 0.05,  # ... while weighted completions move less than this share
    "reopen_rate": 0.10,
    "escalation_rate": 0.05,
    "coverage_floor": 0.0,  # 0 disables
    "priced_share_floor": 0.0,  # share of tokens with a known price; 0 disables
    "hard": [],
}


@dataclass
class Alert:
    name: str
    pattern: str
    action: str
    evidence: dict[str, Any]
    hard: bool = False
    subject: str = "fleet"
    figure: str = ""  # what was measured against what: "reopen rate 12.5% > 10.0%"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """One line: level, name, subject, the figure against its threshold, the action."""
        level = "HARD" if self.hard else "soft"
        return f"{level} {self.name} ({self.subject}): {self.figure} -> {self.action}"


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


@dataclass
class Budget:
    name: str
    scope: str  # fleet, actor, label or team
    match: str | None
    period: str  # day, week or month
    limit_usd: float | None
    limit_tokens: int | None
    hard: bool
    actors: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)


def thresholds(config: Config) -> dict[str, Any]:
    return {**DEFAULTS, **config.raw.get("thresholds", {})}


def budgets(config: Config) -> list[Budget]:
    teams = config.raw.get("teams", {})
    found = []
    for item in config.raw.get("budgets", []):
        scope, match = item.get("scope", "fleet"), item.get("match")
        team = teams.get(match, {}) if scope == "team" else {}
        found.append(
            Budget(
                name=item.get("name") or f"{scope}:{match or 'all'}:{item.get('period', 'month')}",
                scope=scope,
                match=match,
                period=item.get("period", "month"),
                limit_usd=item.get("limit_usd"),
                limit_tokens=item.get("limit_tokens"),
                hard=item.get("kind", "soft") == "hard",
                actors=set(team.get("actors", []))
                | ({match} if scope == "actor" and match else set()),
                labels=set(team.get("labels", []))
                | ({match} if scope == "label" and match else set()),
            )
        )
    return found


def judged_at(now: datetime) -> Window:
    """The window of what a judgement at `now` sees: every record up to now. Rows handed to
    the *_rows functions below are folded with it (its flags place the records of now's day)."""
    return Window(None, now + timedelta(microseconds=1))


def budget_status(records: Iterable[Record], config: Config, now: datetime) -> list[dict[str, Any]]:
    """Spend against each cap in the period that holds `now`, with the projected spend at
    the period's end (spend / elapsed share). Over means strictly above the limit."""
    rows, outcomes = fold_records(records, judged_at(now))
    return budget_rows(rows, outcomes, config, now)


def budget_rows(
    rows: dict[RowKey, Row], outcomes: Iterable[Record], config: Config, now: datetime
) -> list[dict[str, Any]]:
    """budget_status over usage rows folded with judged_at(now)."""
    caps = budgets(config)
    if not caps:
        return []
    labels_of: dict[str, set[str]] = {}
    for record in outcomes:
        if record.get("snapshot"):
            labels_of[record["bead"]] = set(record["snapshot"].get("labels") or [])
    today = now.astimezone(UTC).date().isoformat()
    placed = today in cut_days(judged_at(now))  # now's day: its records placed one by one
    found = []
    for budget in caps:
        key = period(now.date().isoformat(), budget.period)
        win = period_window(key, budget.period)
        assert win.since is not None and win.until is not None
        low, high = win.since.date().isoformat(), win.until.date().isoformat()
        spent_pico = tokens = 0
        unpriced = 0  # usage with no known price: spend in USD is a lower bound
        for (bead, actor, _model, day, shape, cut, _session), row in rows.items():
            if (
                day < low
                or day >= high
                or day > today
                or (placed and day == today and cut != INSIDE)
            ):
                continue
            if budget.scope != "fleet":
                by_actor = actor in budget.actors
                by_label = bool(labels_of.get(bead or "", set()) & budget.labels)
                if not (by_actor or by_label):
                    continue
            if shape & UNPRICED:
                unpriced += row[0]
            else:
                spent_pico += row[COST]
            tokens += counted(row, shape, config.token_basis)
        usd = spent_pico / PICO
        elapsed = (now - win.since) / (win.until - win.since)
        spent, limit = (
            (usd, budget.limit_usd)
            if budget.limit_usd is not None
            else (float(tokens), budget.limit_tokens)
        )
        projected = spent / elapsed if elapsed > 0 else spent
        found.append(
            {
                "name": budget.name,
                "scope": budget.scope,
                "match": budget.match,
                "period": key,
                "unit": "usd" if budget.limit_usd is not None else "tokens",
                "spent": round(spent, 6),
                "limit": limit,
                "used": round(spent / limit, 6) if limit else None,
                "projected": round(projected, 6),
                "status": "over"
                if limit is not None and spent > limit
                else "projected over"
                if limit is not None and projected > limit
                else "ok",
                "kind": "hard" if budget.hard else "soft",
                "unpriced_records": unpriced,
            }
        )
    return found


def check(
    records: Iterable[Record],
    config: Config,
    now: datetime,
    weekly: list[dict[str, Any]] | None = None,
) -> list[Alert]:
    """Every alert that fires. weekly: `trend --every week` of the same records, when the
    caller has it already (it is the costliest part)."""
    rows, outcomes = fold_records(records, judged_at(now))
    return check_rows(rows, outcomes, config, now, weekly)


def check_rows(
    rows: dict[RowKey, Row],
    outcomes: list[Record],
    config: Config,
    now: datetime,
    weekly: list[dict[str, Any]] | None = None,
    everything: Facts | None = None,
) -> list[Alert]:
    """check() over usage rows folded with judged_at(now) (ledger/usage.py). weekly: the
    weekly trend, or its last rows as weekly_tail gives them (all the alerts read);
    everything: the rows and outcomes collected with no window and no --by (by period or
    not: what is read of it, fleetwide's, is the same), when the caller has them. With
    neither, the rows are collected by week once for both."""
    if weekly is None:
        whole = window(None, None)
        by_week = collect_rows(rows, outcomes, config, whole, every="week")
        weekly = weekly_tail(by_week, config)
        if everything is None:
            everything = by_week
    limits = thresholds(config)
    alerts: list[Alert] = []
    fire = _firing(limits, alerts)
    if everything is None:  # the fleet's and _variation's
        everything = collect_rows(rows, outcomes, config)
    # the rates, counts and shares read below, without placing every bead's credit and money
    states = bead_states(everything)
    totals, by_type = fleetwide(everything, states, config.escalation_minutes)
    fleet = totals.figures()
    if limits["bc_mt_floor"]:
        for row in summarize_rows(rows, outcomes, config, by="agent")["groups"]:
            if row["tokens"] and (row["bc_mt"] or 0) < limits["bc_mt_floor"]:
                fire(
                    "vpt_floor",
                    "spending tokens without closing beads",
                    "look at what this agent works on; stop it or give it clearer beads",
                    {
                        "bc_mt": row["bc_mt"],
                        "floor": limits["bc_mt_floor"],
                        "tokens": row["tokens"],
                    },
                    row["key"],
                    f"BC/MT {row['bc_mt'] or 0:.2f} < floor {limits['bc_mt_floor']:.2f} "
                    f"over {row['tokens']:,} tokens",
                )
    spikes(rows, config, limits, fire)
    _drift(weekly, limits, fire)
    _variation(by_type, limits, fire)
    _cost_up_outcomes_flat(weekly, limits, fire)
    rate_lines = (
        ("reopen_rate", "retries above the line", "find why work comes back; tighten acceptance"),
        ("escalation_rate", "humans pulled in too often", "give agents the context they lacked"),
    )
    counts = {"reopen_rate": "reopens", "escalation_rate": "escalations"}
    for name, pattern, action in rate_lines:
        value = fleet[name]
        if value is not None and value > limits[name]:
            said = (
                f"{pct(value)} > {pct(limits[name])} "
                f"({fleet[counts[name]]} of {fleet['completions']} completions)"
            )
            fire(name, pattern, action, {name: value, "limit": limits[name]}, "fleet", said)
    if (
        limits["coverage_floor"]
        and fleet["coverage"] is not None
        and fleet["coverage"] < limits["coverage_floor"]
    ):
        fire(
            "coverage",
            "tokens no bead claims",
            "make agents claim beads (bd update ID --claim)",
            {"coverage": fleet["coverage"], "floor": limits["coverage_floor"]},
            "fleet",
            f"coverage {pct(fleet['coverage'])} < floor {pct(limits['coverage_floor'])}",
        )
    share = fleet["priced_share"]
    if limits["priced_share_floor"] and share is not None and share < limits["priced_share_floor"]:
        fire(
            "priced_share",
            "usage on models with no known price: cost figures are unknown",
            "add the price (bd-vpt prices set MODEL --input USD --output USD)",
            {
                "priced_share": share,
                "floor": limits["priced_share_floor"],
                "unpriced_records": fleet["unpriced_records"],
            },
            "fleet",
            f"priced share {pct(share)} < floor {pct(limits['priced_share_floor'])} "
            f"({fleet['unpriced_tokens']:,} tokens unpriced)",
        )
    for row in budget_rows(rows, outcomes, config, now):
        if row["status"] == "over":
            alerts.append(
                Alert(
                    "budget",
                    "budget exceeded",
                    "stop or re-plan the spend in this scope",
                    row,
                    row["kind"] == "hard",
                    row["name"],
                    _budget_figure(row),
                )
            )
        elif row["status"] == "projected over":
            alerts.append(
                Alert(
                    "budget_projection",
                    "on course to exceed a budget",
                    "slow the spend or raise the cap deliberately",
                    row,
                    False,
                    row["name"],
                    _budget_figure(row),
                )
            )
    return alerts


def weekly_tail(facts: Facts, config: Config, charted: int = 0) -> list[dict[str, Any]]:
    """The last rows of the weekly trend of facts (collected by week, no window, no --by):
    at least `charted` of them, and all that check's alerts read of it (_drift: the last
    drift_periods weeks with a bead closed; _cost_up_outcomes_flat: the last two). A row
    reads nothing of the periods around it (metrics.trend_of's last), so the rows are the
    last of the whole trend; when the ones made hold too few weeks with a bead closed, more
    are made, up to the whole trend."""
    need = thresholds(config)["drift_periods"]
    whole = window(None, None)
    if type(need) is not int or need < 1:  # (_drift would read every week)
        return trend_of(facts, config, whole, "week", None)
    last = max(charted, need, 2)
    while True:
        rows = trend_of(facts, config, whole, "week", None, last=last)
        if len(rows) < last or sum(1 for row in rows if row["beads_closed"]) >= need:
            return rows  # (fewer than asked: the whole trend)
        last *= 4


def _firing(limits: dict[str, Any], alerts: list[Alert]) -> Callable[..., None]:
    """fire(name, pattern, action, evidence, subject, figure): an alert added to alerts,
    hard when limits name it so."""
    hard = set(limits["hard"])

    def fire(
        name: str,
        pattern: str,
        action: str,
        evidence: dict[str, Any],
        subject: str = "fleet",
        figure: str = "",
    ) -> None:
        alerts.append(Alert(name, pattern, action, evidence, name in hard, subject, figure))

    return fire


def _budget_figure(row: dict[str, Any]) -> str:
    def amount(value: float) -> str:
        return f"${value:,.2f}" if row["unit"] == "usd" else f"{value:,.0f} tokens"

    said = (
        f"spent {amount(row['spent'])} of {amount(row['limit'])} in {row['period']}, "
        f"projected {amount(row['projected'])}"
    )
    if row.get("unpriced_records"):
        said += f" (at least: {row['unpriced_records']} usage record(s) unpriced)"
    return said


def _drift(weekly: list[dict[str, Any]], limits: dict[str, Any], fire: Any) -> None:
    """Tokens per completed bead rising week over week for drift_periods weeks."""
    rows = [r for r in weekly if r["beads_closed"]]
    per = [(r["period"], r["tokens"] / r["beads_closed"]) for r in rows]
    n = limits["drift_periods"]
    if len(per) >= n and all(per[i][1] < per[i + 1][1] for i in range(len(per) - n, len(per) - 1)):
        fire(
            "drift",
            "gradual increase: context bloat",
            "review prompts and the context agents load",
            {"tokens_per_completed_bead": [[p, round(v)] for p, v in per[-n:]]},
            "fleet",
            f"tokens per closed bead rose {n - 1} weeks running: "
            + " -> ".join(f"{v:,.0f}" for _, v in per[-n:]),
        )


def _variation(by_type: dict[str, list[int]], limits: dict[str, Any], fire: Any) -> None:
    """Coefficient of variation of tokens per closed bead, per bead type (by_type: the
    tokens of the whole ledger's closed beads, as fleetwide gives them)."""
    for kind, values in sorted(by_type.items()):
        if len(values) < limits["variation_min_beads"]:
            continue
        mean = statistics.fmean(values)
        cv = statistics.pstdev(values) / mean if mean else 0.0
        if cv > limits["variation_cv"]:
            fire(
                "variation",
                "high variation between runs: inconsistent inputs",
                "standardize how beads of this type are written and scoped",
                {
                    "type": kind,
                    "beads": len(values),
                    "cv": round(cv, 3),
                    "limit": limits["variation_cv"],
                },
                kind,
                f"coefficient of variation {cv:.2f} > {limits['variation_cv']:g} over "
                f"{len(values)} closed beads",
            )


def _cost_up_outcomes_flat(weekly: list[dict[str, Any]], limits: dict[str, Any], fire: Any) -> None:
    """The last week against the one before: cost up, weighted completions flat."""
    rows = weekly
    if len(rows) < 2:
        return
    before, after = rows[-2], rows[-1]
    if not before["cost_usd"] or after["cost_usd"] is None:  # unknown cost: no judgement
        return
    rise = (after["cost_usd"] - before["cost_usd"]) / before["cost_usd"]
    base = before["weighted_completions"]
    moved = (
        abs(after["weighted_completions"] - base) / base
        if base
        else float(after["weighted_completions"] > 0)
    )
    if rise > limits["cost_rise"] and moved <= limits["outcomes_flat"]:
        fire(
            "cost_up_outcomes_flat",
            "cost increasing, outcomes flat: model inefficiency",
            "re-evaluate the model choice (bd-vpt models)",
            {
                "weeks": [before["period"], after["period"]],
                "cost_usd": [before["cost_usd"], after["cost_usd"]],
                "weighted_completions": [base, after["weighted_completions"]],
            },
            "fleet",
            f"cost {pct(rise)} (> {pct(limits['cost_rise'])}) from {before['period']} to "
            f"{after['period']} while weighted completions moved {pct(moved)} "
            f"(<= {pct(limits['outcomes_flat'])})",
        )


def now_or(at: str | None) -> datetime:
    """The moment a check is judged at: --at's moment, a day's (week's, month's) last
    moment, or now."""
    from bd_vpt.when import as_of

    return as_of(at)
