"""`summary`'s report: the document as one table and the lines after it. Click-free: the
click command and the plain form launch.py answers without click (integrations/again.py)
render it alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bd_vpt.render.report import Report

# what fits 100 columns; --wide adds the rest
SUMMARY_COLUMNS = (
    "key",
    "tokens",
    "cost_usd",
    "beads_closed",
    "bc_mt",
    "cost_per_completion",
    "fully_loaded_cost_usd",
    "reopen_rate",
    "coverage",
)
WIDE_COLUMNS = (
    "key",
    "tokens",
    "cost_usd",
    "priced_share",
    "beads_closed",
    "completions",
    "weighted_completions",
    "bc_mt",
    "cost_per_completion",
    "fully_loaded_cost_usd",
    "fully_loaded_cost_per_completion",
    "value_usd",
    "roi",
    "reopen_rate",
    "escalation_rate",
    "coverage",
)


def summary_report(document: dict[str, Any], wide: bool = False) -> Report:
    """The summary document as a table (with --wide, every figure) and its closing lines."""
    from bd_vpt.render.figures import headers, styles
    from bd_vpt.render.output import cost_line, not_counted_line
    from bd_vpt.render.report import Report, Table

    figures = {k: v for k, v in document["totals"].items() if k != "not_counted"}
    totals = {"key": "TOTAL" if document["by"] else "fleet", **figures}
    rows = [*document["groups"], totals] if document["by"] else [totals]
    columns = WIDE_COLUMNS if wide else SUMMARY_COLUMNS
    table = Table(rows, columns, headers(columns), styles(columns))
    after = [cost_line(document["totals"])]
    skipped = document["totals"].get("not_counted")
    if skipped:
        after.append(not_counted_line(skipped))
    return Report(document, [table], after=after)
