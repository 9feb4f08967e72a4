"""Report commands: summary, trend, models, export, bead. Each reads through the one route
(bd_vpt.reports) and renders one Report through the one output layer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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
    from bd_vpt.config import Config
    from bd_vpt.ledger.view import LedgerView
    from bd_vpt.repo import RepoInfo

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


def wide_option(func: F) -> F:
    return click.option(
        "--wide", is_flag=True, help="Every figure in the table (wider than 100 columns)."
    )(func)


@cli.command()
@summary_options
@source_options
@strict_option
@wide_option
@format_option(*REPORT_FORMATS)
def summary(
    by: str | None,
    since: str | None,
    until: str | None,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
    wide: bool,
    fmt: str,
) -> None:
    """Value Per Token of the ledger: tokens, cost, beads closed, BC/MT, reopen rate.

    BC/MT = sum(priority weight x completion of closed beads) / (tokens / 1e6). A bead counts
    as closed where its final completion lies (a reopened bead only once closed again);
    rates are transitions in the window over completions in the window. A cost with any
    unpriced usage in it is ? (null in JSON), and the table ends with the priced share.
    Bad ledger lines are skipped with a warning each (path:line); --strict fails instead.

    \b
    Examples:
      bd-vpt summary
      bd-vpt summary --by agent --since 2026-11-01
      bd-vpt summary --by week --since 4w --format json | jq .totals.bc_mt
      bd-vpt summary --rev v1.0                        # as the repo said at v1.0
      bd-vpt summary --range main...HEAD --by bead     # what this branch added
    """
    from bd_vpt.integrations.again import run_summary

    info, config = open_repo()
    view = open_view(info, rev, range_, no_cache, fmt)
    asked_again = rev is None and range_ is None and since is None and until is None
    run_summary(info, config, view, by, since, until, strict, wide, fmt, asked_again)


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

    Each period holds the tokens spent in it, the transitions (completions, reopens) that
    happened in it and the beads whose final completion lies in it: the figures a report of
    that period alone gives. Every period from the first to the last is listed, a quiet one
    as zeros. The table shows one line per group with a sparkline of --metric; json and
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
    report = Report(rows, [view_table], before=before, jsonl_rows=rows, csv_table=Table(rows, []))
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
    token price, and says when they differ. Only priced models are ranked: a model with
    usage of no known price is listed apart (its cost is unknown, not $0).

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
    choices = Table(
        [
            {
                facet: choice[facet],
                "loaded": choice["cheapest_fully_loaded"],
                "price": choice["cheapest_by_token_price"],
                "differs": "differs" if choice["differs"] else "",
                "unpriced": [m["key"] for m in choice["unpriced_models"]],
            }
            for choice in document["choices"]
        ],
        (facet, "loaded", "price", "differs", "unpriced"),
        (facet, "cheapest fully loaded", "cheapest by token price", "", "not ranked (no price)"),
    )
    from bd_vpt.render.output import cost_line

    after = [cost_line(document["totals"])]
    if document["unpriced_models"]:
        after.append(
            "not ranked, no known price (cost unknown, not $0): "
            + ", ".join(f"{m['key']} ({m['tokens']:,} tokens)" for m in document["unpriced_models"])
            + "; `bd-vpt prices set MODEL --input USD --output USD`"
        )
    show(Report(document, [table, choices], after=after), fmt)


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("focus", "csv", "jsonl", "parquet")),
    default="focus",
    show_default=True,
    help="FOCUS CSV, the raw records as CSV or JSON lines, or Parquet datasets (-o DIR).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="--format parquet: the folder to write usage/ and outcomes/ under.",
)
@click.option(
    "--focus-version",
    type=click.Choice(("1.2", "1.3")),
    default="1.3",
    show_default=True,
    help="FOCUS version of the columns (1.3 adds ServiceProviderName and HostProviderName).",
)
@window_options
@source_options
@strict_option
def export(
    fmt: str,
    output: Path | None,
    focus_version: str,
    since: str | None,
    until: str | None,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
) -> None:
    """Export the ledger: FinOps FOCUS CSV (one row per usage record), or raw records.

    FOCUS 1.3 by default (ServiceProviderName, HostProviderName, and the ProviderName and
    PublisherName it deprecates but still requires); --focus-version 1.2 for older tools.
    A record with no known price is exported at cost 0 with x_CostKnown false (FOCUS costs
    cannot be null).

    \b
    Examples:
      bd-vpt export --format focus --since 2026-11-01 --until 2026-12-01 > focus.csv
      bd-vpt export --focus-version 1.2 > focus-1.2.csv
      bd-vpt export --format jsonl --range main...HEAD
      bd-vpt export --format parquet -o exports/ --rev main    # needs bd-vpt[parquet]
    """
    from bd_vpt import reports
    from bd_vpt.render.output import flatten
    from bd_vpt.render.report import Report, Table

    info, config = open_repo()
    view = open_view(info, rev, range_, no_cache, "csv")
    if fmt == "parquet":
        export_parquet(view, config, info.root.name, output, since, until, strict)
        return
    records = reports.records_in(view, since=since, until=until, strict=strict)
    if fmt == "focus":
        from bd_vpt.economics.focus import columns as focus_columns
        from bd_vpt.economics.focus import rows

        unknown = sum(1 for r in records if r["kind"] == "usage" and r.get("cost_usd") is None)
        if unknown:
            warn_all(
                [
                    f"{unknown} usage record(s) have no known price: exported with cost 0 "
                    "and x_CostKnown false"
                ]
            )
        header = focus_columns(focus_version)
        found = list(rows(records, config, info.root.name, focus_version))
        table = Table(found, header, fields=header)
        show(Report(None, [table]), "csv")
        return
    columns = list(dict.fromkeys(k for r in records for k in flatten(r)))  # every field seen
    show(Report(records, [Table(records, [], fields=columns)], jsonl_rows=records), fmt)


def export_parquet(
    view: LedgerView,
    config: Config,
    name: str,
    output: Path | None,
    since: str | None,
    until: str | None,
    strict: bool,
) -> None:
    """Usage as FOCUS rows and outcomes, each with x_repo, as Parquet partitioned by month."""
    from bd_vpt import reports
    from bd_vpt.economics import datasets
    from bd_vpt.economics.focus import COLUMNS
    from bd_vpt.economics.metrics import window
    from bd_vpt.errors import VptError
    from bd_vpt.render.parquet import write_dataset

    if output is None:
        raise VptError(
            "--format parquet writes a folder: name it with -o DIR",
            hint="bd-vpt export --format parquet -o exports/",
        )
    everything = reports.records_in(view, since=None, until=None, strict=strict)
    win = window(since, until)
    usage = [r for r in everything if r["kind"] == "usage" and win.holds(r["ts"])]
    written = write_dataset(
        output,
        "usage",
        datasets.usage_rows(
            usage + [r for r in everything if r["kind"] == "outcome"], config, name
        ),
        [*COLUMNS, "x_repo"],
        datasets.month_of_usage,
        name,
    )
    written += write_dataset(
        output,
        "outcomes",
        datasets.outcome_rows(everything, config, name, since, until),
        datasets.OUTCOME_COLUMNS,
        datasets.month_of_outcome,
        name,
    )
    unpriced = sum(1 for r in usage if r.get("cost_usd") is None)
    if unpriced:
        warn_all([f"{unpriced} usage record(s) have no known price: cost 0, x_CostKnown false"])
    click.echo(f"wrote {len(written)} file(s) under {output} ({len(usage):,} usage rows)")


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
        ("ts", "actor", "what", "tokens", "cost_usd", "commit"),
        styles={"cost_usd": "usd"},
    )
    heading = [reports.bead_heading(story)]
    footing = [reports.bead_footer(story)]
    show(Report(story, [table], heading=heading, footing=footing), fmt)
