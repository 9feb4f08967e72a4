"""The one registry of figure names: the JSON key, the column header, the style its cells
are formatted in, and what it means (the README's formulas say the same in full)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    key: str
    header: str
    style: str | None  # usd, pct or None (numbers as they are)
    doc: str


FIGURES: dict[str, Figure] = {
    f.key: f
    for f in (
        Figure("key", "group", None, "The group a row stands for."),
        Figure("tokens", "tokens", None, "Tokens on the configured basis (default: total)."),
        Figure("cost_usd", "cost $", "usd", "Model cost, priced at capture; ? when unpriced."),
        Figure("priced_cost_usd", "priced $", "usd", "Model cost of the priced usage."),
        Figure("priced_share", "priced", "pct", "Share of tokens with a known price."),
        Figure("unpriced_tokens", "unpriced", None, "Tokens on models with no known price."),
        Figure("beads_closed", "closed", None, "Beads whose final completion is in the window."),
        Figure("completions", "completions", None, "Completion transitions in the window."),
        Figure("beads_completed", "beads done", None, "Distinct beads completed in the window."),
        Figure("reopens", "reopens", None, "Reopen transitions in the window."),
        Figure("weighted_completions", "weighted", None, "sum of priority weight x completion."),
        Figure("bc_mt", "BC/MT", None, "Weighted completions per million tokens."),
        Figure("cost_per_completion", "$/closed", "usd", "Model cost ÷ beads closed."),
        Figure(
            "fully_loaded_cost_usd",
            "loaded $",
            "usd",
            "Model cost + human time + delay + rework.",
        ),
        Figure(
            "fully_loaded_cost_per_completion",
            "loaded $/closed",
            "usd",
            "Fully loaded cost ÷ beads closed.",
        ),
        Figure("reopen_rate", "reopen", "pct", "Reopens ÷ completions in the window."),
        Figure("coverage", "coverage", "pct", "Share of tokens attributed to a bead."),
        Figure(
            "escalation_rate",
            "escalation",
            "pct",
            "Completions over the human limit ÷ completions.",
        ),
        Figure("waste_share", "waste", "pct", "Tokens on beads reopened or abandoned."),
        Figure("value_usd", "value $", "usd", "Business value of completed beads."),
        Figure("value_per_mtok", "value $/Mtok", "usd", "Value per million tokens."),
        Figure("roi", "ROI", None, "Value ÷ fully loaded cost."),
        Figure("human_minutes", "human min", None, "Human attention, minutes."),
        Figure("usage_records", "usage records", None, "Usage records read."),
        Figure("cost_per_mtok", "$/Mtok", "usd", "Model cost per million tokens."),
        Figure("token_share", "share", "pct", "Share of the fleet's tokens."),
        Figure("used", "used", "pct", "Share of a budget spent."),
    )
}


def headers(columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(FIGURES[c].header if c in FIGURES else c for c in columns)


def styles(columns: tuple[str, ...]) -> dict[str, str]:
    return {c: s for c in columns if c in FIGURES and (s := FIGURES[c].style) is not None}
