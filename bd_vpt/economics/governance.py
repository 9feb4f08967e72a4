"""Baselines, before/after comparisons and marginal VPT: pure functions over records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bd_vpt.config import Config
from bd_vpt.economics.metrics import summarize
from bd_vpt.ledger.records import Record, format_ts

BASELINE_FIGURES = (
    "tokens",
    "cost_usd",
    "priced_cost_usd",
    "priced_share",
    "unpriced_records",
    "unpriced_tokens",
    "beads_closed",
    "completions",
    "weighted_completions",
    "bc_mt",
    "cost_per_completion",
    "fully_loaded_cost_usd",
    "fully_loaded_cost_per_completion",
    "reopen_rate",
    "escalation_rate",
    "coverage",
    "waste_share",
    "value_per_mtok",
    "roi",
)


def period_bounds(spec: str) -> tuple[str, str]:
    """since/until (exclusive) of a period in the one date grammar (bd_vpt.when): a month
    (2026-10), an ISO week (2026-W44), a day, or FROM..TO (TO included whole)."""
    from bd_vpt.when import period, stamp

    found = period(spec, what="period")
    return stamp(found.start), stamp(found.end)


def figures(records: Iterable[Record], config: Config, spec: str) -> dict[str, Any]:
    since, until = period_bounds(spec)
    totals = summarize(records, config, since=since, until=until)["totals"]
    return {name: totals.get(name) for name in BASELINE_FIGURES}


def baseline_entry(found: dict[str, Any], spec: str, now: datetime) -> dict[str, Any]:
    """What `baseline set` stores, from a period's figures (TOML has no null: figures that
    are undefined are left out)."""
    entry: dict[str, Any] = {"period": spec, "set_at": format_ts(now)}
    entry.update({k: v for k, v in found.items() if v is not None})
    return entry


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name in BASELINE_FIGURES:
        old, new = before.get(name), after.get(name)
        change = None if old is None or new is None else round(new - old, 6)
        pct = round(change / old * 100, 2) if change is not None and old else None
        rows.append(
            {"figure": name, "before": old, "after": new, "change": change, "change_pct": pct}
        )
    return rows


def marginal(
    records: Iterable[Record],
    config: Config,
    *,
    by: str,
    since: str | None = None,
    until: str | None = None,
    orchestrators: Iterable[str] = (),
) -> dict[str, Any]:
    """Each agent's (or model's) own BC/MT, and the fleet's BC/MT without it:
    (W - W_g) / (T - T_g) in Mtok. Marginal VPT = fleet BC/MT - fleet BC/MT without g:
    positive means g raises the fleet's VPT."""
    if by not in ("agent", "model"):
        raise ValueError(by)
    document = summarize(records, config, by=by, since=since, until=until)
    totals = document["totals"]
    tokens, weighted = totals["tokens"], totals["weighted_completions"]
    fleet = totals["bc_mt"]
    leaders = set(orchestrators)
    rows = []
    for group in document["groups"]:
        rest_tokens = tokens - group["tokens"]
        rest = (
            (weighted - group["weighted_completions"]) / (rest_tokens / 1e6)
            if rest_tokens
            else None
        )
        rows.append(
            {
                "key": group["key"],
                "role": "orchestrator" if group["key"] in leaders else "worker",
                "tokens": group["tokens"],
                "token_share": round(group["tokens"] / tokens, 6) if tokens else None,
                "coordination_tokens": group["tokens"]
                if group["key"] in leaders
                else group["unattributed_tokens"],
                "weighted_completions": group["weighted_completions"],
                "bc_mt": group["bc_mt"],
                "fleet_bc_mt_without": round(rest, 6) if rest is not None else None,
                "marginal_bc_mt": round(fleet - rest, 6)
                if fleet is not None and rest is not None
                else None,
            }
        )
    coordination = sum(r["coordination_tokens"] for r in rows)
    return {
        "by": by,
        "fleet_bc_mt": fleet,
        "tokens": tokens,
        "coordination_tokens": coordination,
        "groups": rows,
    }
