"""Report commands: summary, trend, models, export, bead. Each reads through the one route
(bd_vpt.reports) and renders one Report through the one output layer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from bd_vpt.cli.options import (
    REPORT_FORMATS,
    F,
    cli,
    format_option,
    open_repo,
    show,
    source_options,
    strict_option,
    warn_all,
    window_options,
)

if TYPE_CHECKING:
    from bd_vpt.ledger.view import LedgerView
    from bd_vpt.render.report import Report
    from bd_vpt.repo import RepoInfo

SUMMARY_COLUMNS = (
    "key",
    "tokens",
    "cost_usd",
    "beads_closed",
    "weighted_completions",
    "bc_mt",
    "cost_per_completion",
    "fully_loaded_cost_usd",
    "reopen_rate",
    "coverage",
)
TREND_METRICS = (
    "bc_mt",
    "tokens",
    "cost_usd",
    "beads_closed",
    "weighted_completions",
    "cost_per_completion",
    "reopen_rate",
    "coverage",
    "usage_records",
    "fully_loaded_cost_usd",
    "fully_loaded_cost_per_completion",
    "value_usd",
    "value_per_mtok",
    "roi",
    "escalation_rate",
    "waste_share",
    "human_minutes",
)


def summary_options(func: F) -> F:
    from bd_vpt.economics.keys import GROUP_KEYS

    func = click.option("--by", type=click.Choice(GROUP_KEYS), help="Group rows by this key.")(func)
    return window_options(func)


def open_view(
    info: RepoInfo, rev: str | None, range_: str | None, no_cache: bool, fmt: str
) -> LedgerView:
    from bd_vpt.ledger.view import open_view as open_

    return open_(
        info, rev=rev, range_=range_, use_cache=not no_cache, progress=fmt not in ("json", "csv")
    )


def summary_report(document: dict[str, Any]) -> Report:
    from bd_vpt.render.figures import headers, styles
    from bd_vpt.render.report import Report, Table

    totals = {"key": "TOTAL" if document["by"] else "fleet", **document["totals"]}
    rows = [*document["groups"], totals] if document["by"] else [totals]
    table = Table(rows, SUMMARY_COLUMNS, headers(SUMMARY_COLUMNS), styles(SUMMARY_COLUMNS))
    return Report(document, [table])


@cli.command()
@summary_options
@source_options
@strict_option
@format_option(*REPORT_FORMATS)
def summary(
    by: str | None,
    since: str | None,
    until: str | None,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
    fmt: str,
) -> None:
    """Value Per Token of the ledger: tokens, cost, beads closed, BC/MT, reopen rate.

    BC/MT = sum(priority weight x completion of closed beads) / (tokens / 1e6).
    Bad ledger lines are skipped with a warning each (path:line); --strict fails instead.

    \b
    Examples:
      bd-vpt summary
      bd-vpt summary --by agent --since 2026-11-01
      bd-vpt summary --by week --since 4w --format json | jq .totals.bc_mt
      bd-vpt summary --rev v1.0                        # as the repo said at v1.0
      bd-vpt summary --range main...HEAD --by bead     # what this branch added
    """
    from bd_vpt import reports

    info, config = open_repo()
    view = open_view(info, rev, range_, no_cache, fmt)
    document = reports.summary(view, config, by=by, since=since, until=until, strict=strict)
    show(summary_report(document), fmt)


@cli.command()
@click.option(
    "--every",
    type=click.Choice(("day", "week", "month")),
    default="week",
    show_default=True,
    help="Period of each row.",
)
@click.option(
    "--by",
    type=click.Choice(("agent", "bead", "model", "priority", "type", "label")),
    help="One series per group.",
)
@click.option(
    "--metric",
    type=click.Choice(TREND_METRICS),
    default="bc_mt",
    show_default=True,
    help="The figure the sparkline shows.",
)
@window_options
@source_options
@strict_option
@format_option(*REPORT_FORMATS)
def trend(
    every: str,
    by: str | None,
    metric: str,
    since: str | None,
    until: str | None,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
    fmt: str,
) -> None:
    """Figures per day, week or month; in a terminal, a sparkline per group.

    Each period counts the tokens spent in it and the beads closed in it (as of the end of
    the period). The table shows one line per group with a sparkline of --metric; json and
    csv give one row per period (and group) with every figure.

    \b
    Examples:
      bd-vpt trend --every week
      bd-vpt trend --every month --by agent --metric cost_usd
      bd-vpt trend --every day --since 2026-11-01 --format csv > daily.csv
    """
    from bd_vpt import reports
    from bd_vpt.render.report import Report, Table

    info, config = open_repo()
    view = open_view(info, rev, range_, no_cache, fmt)
    rows = reports.trend(view, config, every=every, by=by, since=since, until=until, strict=strict)
    table, periods = reports.trend_table(rows, metric)
    before = (
        [f"{metric} per {every}, {periods[0]} .. {periods[-1]} ({len(periods)} periods)"]
        if periods
        else []
    )
    view_table = Table(
        table,
        ("key", "spark", "first", "last", "min", "max"),
        ("group", metric, "first", "last", "min", "max"),
    )
    report = Report(rows, [view_table], before=before, jsonl_rows=rows)
    if fmt == "csv":
        report.tables = [Table(rows, [])]
    show(report, fmt)


@cli.command()
@click.option(
    "--facet",
    type=click.Choice(("type", "label")),
    default="type",
    show_default=True,
    help="Compare models within each bead type or label.",
)
@window_options
@source_options
@strict_option
@format_option(*REPORT_FORMATS)
def models(
    facet: str,
    since: str | None,
    until: str | None,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
    fmt: str,
) -> None:
    """Compared to what: each model's completions, cost and human time, fully loaded.

    For each bead type (or label) it names the model that was cheapest fully loaded per
    completion (model cost + human attention + delay + rework) and the one cheapest by
    token price, and says when they differ.

    \b
    Examples:
      bd-vpt models
      bd-vpt models --facet label --format json
    """
    from bd_vpt import reports
    from bd_vpt.render.figures import headers, styles
    from bd_vpt.render.report import Report, Table

    info, config = open_repo()
    view = open_view(info, rev, range_, no_cache, fmt)
    document = reports.models(view, config, facet=facet, since=since, until=until, strict=strict)
    columns = (
        "key",
        "beads_closed",
        "weighted_completions",
        "tokens",
        "cost_usd",
        "cost_per_mtok",
        "human_minutes",
        "fully_loaded_cost_per_completion",
    )
    table = Table(document["models"], columns, ("model", *headers(columns)[1:]), styles(columns))
    after = [""] + [
        f"{facet} {choice[facet]}: cheapest fully loaded: "
        f"{choice['cheapest_fully_loaded'] or '-'}; cheapest by token price: "
        f"{choice['cheapest_by_token_price'] or '-'}"
        + ("  <- differs" if choice["differs"] else "")
        for choice in document["choices"]
    ]
    show(Report(document, [table], after=after), fmt)


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("focus", "csv", "jsonl")),
    default="focus",
    show_default=True,
    help="FOCUS CSV, or the raw records as CSV or JSON lines.",
)
@window_options
@source_options
@strict_option
def export(
    fmt: str,
    since: str | None,
    until: str | None,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
) -> None:
    """Export the ledger: FinOps FOCUS CSV (one row per usage record), or raw records.

    \b
    Examples:
      bd-vpt export --format focus --since 2026-11-01 --until 2026-11-30 > focus.csv
      bd-vpt export --format jsonl --range main...HEAD
    """
    from bd_vpt import reports
    from bd_vpt.render.output import flatten
    from bd_vpt.render.report import Report, Table

    info, config = open_repo()
    view = open_view(info, rev, range_, no_cache, "csv")
    records = reports.records_in(view, since=since, until=until, strict=strict)
    if fmt == "focus":
        from bd_vpt.economics.focus import COLUMNS, rows

        unknown = sum(1 for r in records if r["kind"] == "usage" and r.get("cost_usd") is None)
        if unknown:
            warn_all(
                [
                    f"{unknown} usage record(s) have no known price: exported with cost 0 "
                    "and x_CostKnown false"
                ]
            )
        table = Table(list(rows(records, config, info.root.name)), COLUMNS, fields=COLUMNS)
        show(Report(None, [table]), "csv")
        return
    columns = list(dict.fromkeys(k for r in records for k in flatten(r)))  # every field seen
    show(Report(records, [Table(records, [], fields=columns)], jsonl_rows=records), fmt)


@cli.command()
@click.argument("bead_id", metavar="ID")
@click.option("--rev", help="The ledger as committed at REV (default: the working tree).")
@click.option("--no-cache", is_flag=True, help="Parse every blob again (ignore the local cache).")
@strict_option
@format_option(*REPORT_FORMATS)
def bead(bead_id: str, rev: str | None, no_cache: bool, strict: bool, fmt: str) -> None:
    """One bead's story: every usage segment and outcome, and the commit that brought it.

    \b
    Examples:
      bd-vpt bead bd-42
      bd-vpt bead bd-42 --format json | jq '.records[] | {kind, actor, brought_by}'
    """
    from bd_vpt import reports
    from bd_vpt.render.report import Report, Table

    info, config = open_repo()
    view = open_view(info, rev, None, no_cache, fmt)
    story = reports.bead_story(info, view, config, bead_id, rev=rev, strict=strict)
    table = Table(
        reports.bead_rows(story, config),
        ("ts", "kind", "actor", "what", "tokens", "cost_usd", "commit"),
        styles={"cost_usd": "usd"},
    )
    heading = [reports.bead_heading(story)] if fmt == "table" else []
    footer = [reports.bead_footer(story)] if fmt == "table" else []
    show(Report(story, [table], before=heading, after=footer), fmt)
