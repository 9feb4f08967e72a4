"""Compared to what: which model was cheapest, fully loaded and by token price, per kind of
work. Only priced models are ranked; a model with usage of no known price is listed apart
as unpriced (its cost is unknown, not zero, so it can be neither cheapest nor dearest)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from bd_vpt.config import Config
from bd_vpt.economics.metrics import (
    Facts,
    bead_keys,
    bead_states,
    collect,
    summarize_facts,
    window,
)
from bd_vpt.ledger.records import Record


def _per_mtok(row: dict[str, Any]) -> float | None:
    if row["cost_usd"] is None or not row["tokens"]:
        return None
    cost: float = row["cost_usd"]
    tokens: int = row["tokens"]
    return round(cost / (tokens / 1e6), 6)


def _unpriced(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": row["key"],
        "tokens": row["tokens"],
        "unpriced_tokens": row["unpriced_tokens"],
        "priced_share": row["priced_share"],
        "beads_closed": row["beads_closed"],
    }


def compare_models(
    records: Iterable[Record],
    config: Config,
    *,
    facet: str = "type",
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """Per model, the figures; per bead type (or label), which priced model was cheapest
    fully loaded (per completion) and which was cheapest by token price (per Mtok)."""
    if facet not in ("type", "label"):
        raise ValueError(f"unknown facet {facet!r}")
    win = window(since, until)
    facts = collect(records, config, win, by="model")
    models = summarize_facts(facts, config, by="model", win=win)
    states = bead_states(facts)
    by_facet: dict[str, set[str]] = defaultdict(set)
    for bead, state in states.items():
        for key in bead_keys(facet, bead, state):
            by_facet[key].add(bead)
    choices = []
    for key in sorted(by_facet):
        beads = by_facet[key]
        sub = Facts(
            buckets={k: v for k, v in facts.buckets.items() if k[0] in beads},
            outcomes=defaultdict(list, {b: facts.outcomes[b] for b in beads}),
            bead_days=facts.bead_days,
            unpriced_days=facts.unpriced_days,
        )
        rows = [
            r for r in summarize_facts(sub, config, by="model", win=win)["groups"] if r["tokens"]
        ]
        for row in rows:
            row["cost_per_mtok"] = _per_mtok(row)
        priced = [r for r in rows if r["cost_usd"] is not None]
        loaded = [r for r in priced if r["fully_loaded_cost_per_completion"] is not None]
        cheapest = min(loaded, key=lambda r: r["fully_loaded_cost_per_completion"], default=None)
        by_price = min(priced, key=lambda r: r["cost_per_mtok"], default=None)
        choices.append(
            {
                facet: key,
                "cheapest_fully_loaded": cheapest["key"] if cheapest else None,
                "cheapest_by_token_price": by_price["key"] if by_price else None,
                "differs": bool(cheapest and by_price and cheapest["key"] != by_price["key"]),
                "models": priced,
                "unpriced_models": [_unpriced(r) for r in rows if r["cost_usd"] is None],
            }
        )
    ranked: list[dict[str, Any]] = []
    unpriced: list[dict[str, Any]] = []
    for row in models["groups"]:
        row["cost_per_mtok"] = _per_mtok(row)
        (ranked if row["cost_usd"] is not None else unpriced).append(row)
    return {
        "facet": facet,
        "totals": models["totals"],
        "models": ranked,
        "unpriced_models": unpriced,
        "choices": choices,
    }
