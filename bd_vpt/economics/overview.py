"""The dashboard's document: every figure the page shows, as a pure function of records.

One JSON document (`bd-vpt dashboard --format json`) that the HTML page is drawn from, so a
test can check each chart's points against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bd_vpt.config import Config
from bd_vpt.ledger.records import Record, parse_ts

TOP_BEADS = 15
MIN_WEEKS = 6
PERIODIC = (
    "period",
    "tokens",
    "cost_usd",
    "beads_closed",
    "weighted_completions",
    "bc_mt",
    "cost_per_completion",
    "fully_loaded_cost_per_completion",
    "coverage",
    "unattributed_tokens",
)
SPENDERS = (
    "key",
    "tokens",
    "cost_usd",
    "beads_closed",
    "weighted_completions",
    "bc_mt",
    "cost_per_completion",
    "fully_loaded_cost_per_completion",
)
COST_PARTS = (
    ("model tokens", "cost_usd"),
    ("human attention", "human_usd"),
    ("delay", "delay_usd"),
    ("rework", "rework_usd"),
)


def compose(
    records: Iterable[Record],
    config: Config,
    *,
    since: str | None,
    until: str | None,
    every: str | None = None,
    top: int = TOP_BEADS,
) -> dict[str, Any]:
    """Fleet totals, weekly figures, agents, models, the fully loaded cost, coverage, alerts,
    the costliest beads with their outcome, and the comparison with the newest baseline."""
    from bd_vpt.economics.alerts import check
    from bd_vpt.economics.governance import BASELINE_FIGURES, compare
    from bd_vpt.economics.metrics import NO_BEAD, summarize, trend

    records = list(records)
    as_of = _as_of(records, until)
    window = {"since": since, "until": until}
    by_bead = summarize(records, config, by="bead", **window)
    fleet = by_bead["totals"]  # the same for any grouping: no fold of its own
    weeks = trend(records, config, every="week", **window)
    periods = weeks
    if every is None:  # a short ledger is drawn by day: a line needs more than two points
        every = "day" if len(weeks) < MIN_WEEKS else "week"
    if every != "week":
        periods = trend(records, config, every=every, **window)
    series = [{k: row.get(k) for k in PERIODIC} for row in periods]
    spenders = {
        by: [
            {k: g.get(k) for k in SPENDERS}
            for g in summarize(records, config, by=by, **window)["groups"]
        ]
        for by in ("agent", "model")
    }
    outcomes = _latest_outcomes(records)
    beads = [g for g in by_bead["groups"] if g["key"] != NO_BEAD and g["tokens"]]
    beads.sort(key=lambda g: (-(g["cost_usd"] or 0.0), -g["tokens"], g["key"]))
    top_beads = []
    for group in beads[:top]:
        latest = outcomes.get(group["key"])
        snapshot = (latest or {}).get("snapshot") or {}
        top_beads.append(
            {
                "bead": group["key"],
                "title": snapshot.get("title"),
                "priority": snapshot.get("priority"),
                "result": latest["result"] if latest else None,
                "tokens": group["tokens"],
                "cost_usd": group["cost_usd"],
                "weighted_completions": group["weighted_completions"],
            }
        )
    baseline = None
    stored = config.raw.get("baselines") or {}
    if stored:
        name = max(stored, key=lambda n: (str(stored[n].get("set_at", "")), n))
        current = {k: fleet.get(k) for k in BASELINE_FIGURES}
        baseline = {
            "name": name,
            "period": stored[name].get("period"),
            "figures": compare(dict(stored[name]), current),
        }
    judged = as_of or datetime.now(UTC)  # no record: nothing to judge, any moment will do
    alerts = check(records, config, judged, weeks if since is None and until is None else None)
    return {
        "window": window,
        "as_of": as_of.isoformat() if as_of else None,
        "totals": fleet,
        "every": every,
        "periods": series,
        "agents": spenders["agent"],
        "models": spenders["model"],
        "cost_breakdown": [{"part": label, "usd": fleet.get(key)} for label, key in COST_PARTS],
        "coverage": {
            "coverage": fleet.get("coverage"),
            "attributed_tokens": fleet["tokens"] - fleet["unattributed_tokens"],
            "unattributed_tokens": fleet["unattributed_tokens"],
        },
        "alerts": [a.as_dict() for a in alerts],
        "top_beads": top_beads,
        "baseline": baseline,
    }


def _as_of(records: list[Record], until: str | None) -> datetime | None:
    """The end of the window, else the newest record: the same ledger makes the same page."""
    if until:
        return parse_ts(until)
    return max((parse_ts(r["ts"]) for r in records), default=None)


def _latest_outcomes(records: list[Record]) -> dict[str, Record]:
    latest: dict[str, tuple[datetime, str, Record]] = {}
    for record in records:
        if record["kind"] != "outcome":
            continue
        key = (parse_ts(record["ts"]), record["id"])
        held = latest.get(record["bead"])
        if held is None or key > held[:2]:
            latest[record["bead"]] = (*key, record)
    return {bead: found[2] for bead, found in latest.items()}
