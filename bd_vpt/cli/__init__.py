"""The `bd-vpt` command line: parse, call the core, render. No logic lives here.

Core modules are imported inside each command so that `bd-vpt --help` and the git hooks
start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bd_vpt import __version__
from bd_vpt.errors import EXIT_BAD, EXIT_FAILED, VptError

if TYPE_CHECKING:
    from bd_vpt.config import Config
    from bd_vpt.repo import RepoInfo

F = TypeVar("F", bound=Callable[..., Any])

REPORT_FORMATS = ("table", "json", "csv", "markdown")
WRITE_FORMATS = ("text", "json")
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
SUMMARY_STYLES = {
    "cost_usd": "usd",
    "cost_per_completion": "usd",
    "fully_loaded_cost_usd": "usd",
    "reopen_rate": "pct",
    "coverage": "pct",
}
SUMMARY_HEADERS = (
    "group",
    "tokens",
    "cost $",
    "closed",
    "weighted",
    "BC/MT",
    "$/closed",
    "loaded $",
    "reopen",
    "coverage",
)


def format_option(*choices: str) -> Callable[[F], F]:
    """The one --format option every command shares (first choice is the default)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format.",
    )


def window_options(func: F) -> F:
    """The report window every report shares: --since and --until."""
    func = click.option("--since", help="From this date or time (inclusive).")(func)
    return click.option("--until", help="To this date (inclusive) or time (exclusive).")(func)


def strict_option(func: F) -> F:
    return click.option(
        "--strict", is_flag=True, help="Fail (exit 2) on any bad ledger line instead of warning."
    )(func)


def _repo() -> tuple[RepoInfo, Config]:
    from bd_vpt import config, repo

    info = repo.discover()
    return info, config.load(info.root, known_good=info.state_dir / "config-ok")


def _warn_all(warnings: list[str]) -> None:
    from bd_vpt.errors import warn

    for text in warnings:
        warn(text)


class Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they are defined: the natural workflow


@click.group(
    cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="bd-vpt")
def cli() -> None:
    """Value Per Token for coding-agent fleets on beads (bd).

    Records the tokens each agent spent per bead and what came of it in an append-only
    JSONL ledger committed beside .beads/, and reports weighted beads closed per million
    tokens (BC/MT), cost per completion, reopen rate and attribution coverage from git.

    \b
    Example:
      bd-vpt init
      bd-vpt record bd-42 --model claude-sonnet-4-5 --input 12000 --output 3400
      bd-vpt close bd-42 --reason "fixed" --human-minutes 10
      bd-vpt summary --by agent
    """


@cli.command()
def init() -> None:
    """Create .beads/vpt/config.toml and the union-merge line in .gitattributes.

    Idempotent: an existing config is kept and checked; the attribute line is added once.

    \b
    Example:
      bd-vpt init && git add .beads/vpt .gitattributes && git commit -m "Track VPT"
    """
    from bd_vpt import repo
    from bd_vpt import repo_setup as setup

    info = repo.discover()
    for line in setup.init(info.root):
        click.echo(line)


def _token_options(func: F) -> F:
    for name, help_text in reversed(
        (
            ("--input", "Uncached input tokens."),
            ("--output", "Output tokens (reasoning included)."),
            ("--cache-read", "Input tokens read from the prompt cache."),
            ("--cache-write", "Input tokens written to the prompt cache."),
            ("--reasoning", "Of the output, the tokens spent reasoning (informational)."),
            ("--tokens", "A bare total when no split is known (not priced without --cost-usd)."),
        )
    ):
        func = click.option(name, type=click.IntRange(min=0), default=None, help=help_text)(func)
    return func


def _tokens(**counts: int | None) -> dict[str, int]:
    tokens = {k: v for k, v in counts.items() if v is not None and k != "tokens"}
    if counts.get("tokens") is not None:
        tokens["total"] = int(counts["tokens"] or 0)
    return tokens


def _echo_written(written: Any, fmt: str, root: Path) -> None:
    from bd_vpt.render.output import render_document

    _warn_all(written.warnings)
    if fmt == "json":
        render_document({"path": str(written.path.relative_to(root)), "records": written.records})
        return
    for rec in written.records:
        if rec["kind"] == "usage":
            from bd_vpt.ledger.records import token_total

            cost = "cost unknown" if rec["cost_usd"] is None else f"${rec['cost_usd']:.4f}"
            click.echo(
                f"usage {rec['id']} bead={rec['bead'] or '-'} {rec['model']} "
                f"{token_total(rec['tokens']):,} tokens, {cost}"
            )
        else:
            click.echo(f"outcome {rec['id']} bead={rec['bead']} {rec['result']}")
    click.echo(f"-> {written.path.relative_to(root)}")


@cli.command()
@click.argument("bead")
@click.option("--model", "-m", required=True, help="Model id, e.g. claude-sonnet-4-5.")
@_token_options
@click.option("--cost-usd", type=click.FloatRange(min=0), help="Known cost; skips pricing.")
@click.option(
    "--requests",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many model calls the tokens add up (prices tier per call).",
)
@click.option("--actor", help="Who spent it (default: $BD_ACTOR, $BEADS_ACTOR, git user.name).")
@click.option("--session", help="Agent session id.")
@click.option("--ts", help="When (RFC 3339 or a date; default now).")
@click.option("--source", default="manual", show_default=True, help="Where the figure came from.")
@format_option(*WRITE_FORMATS)
def record(
    bead: str,
    model: str,
    input: int | None,
    output: int | None,
    cache_read: int | None,
    cache_write: int | None,
    reasoning: int | None,
    tokens: int | None,
    cost_usd: float | None,
    requests: int,
    actor: str | None,
    session: str | None,
    ts: str | None,
    source: str,
    fmt: str,
) -> None:
    """Append a usage record: tokens an agent spent on BEAD ('-' for no bead).

    Cost is computed now, at capture, from config.toml [prices] or genai-prices, and
    stored with the record (price_ref says which table): history never reprices. Tiered
    prices (e.g. long context above 200k input tokens) apply per call: give --requests
    when the counts add up many calls.

    \b
    Examples:
      bd-vpt record bd-42 --model claude-sonnet-4-5 --input 12000 --output 3400 --cache-read 90000
      bd-vpt record bd-42 --model claude-sonnet-4-5 --input 90000 --cache-read 2400000 --requests 30
      bd-vpt record - --model gpt-5 --input 800 --output 200      # coordination, no bead
      bd-vpt record bd-42 --model gpt-5 --tokens 150000 --cost-usd 0.42
    """
    from bd_vpt.capture import manual

    info, config = _repo()
    counts = _tokens(
        input=input,
        output=output,
        cache_read=cache_read,
        cache_write=cache_write,
        reasoning=reasoning,
        tokens=tokens,
    )
    written = manual.record(
        info,
        config,
        bead=None if bead == "-" else bead,
        model=model,
        tokens=counts,
        actor=manual.resolve_actor(actor, info.root),
        cost_usd=cost_usd,
        session=session,
        ts=ts,
        source=source,
        requests=requests,
    )
    _echo_written(written, fmt, info.root)


@cli.command()
@click.argument("bead")
@click.option("--reason", "-r", help="Close reason (passed to bd close).")
@click.option("--value-usd", type=click.FloatRange(min=0), help="Business value of the outcome.")
@click.option("--human-minutes", type=click.FloatRange(min=0), help="Human attention it took.")
@click.option("--quality", type=click.FloatRange(0, 1), help="Quality score 0..1.")
@click.option("--completion", type=click.FloatRange(0, 1), help="Share completed (default 1).")
@click.option("--evidence", help="Link or note: PR, test run, review.")
@click.option(
    "--tokens", type=click.IntRange(min=0), help="Usage to record with it (needs --model)."
)
@click.option("--model", "-m", help="Model of --tokens.")
@click.option("--actor", help="Who closed it (default: $BD_ACTOR, $BEADS_ACTOR, git user.name).")
@click.option("--no-bd", is_flag=True, help="Do not run `bd close` (already closed in bd).")
@click.option("--ts", help="When (RFC 3339 or a date; default now).")
@format_option(*WRITE_FORMATS)
def close(
    bead: str,
    reason: str | None,
    value_usd: float | None,
    human_minutes: float | None,
    quality: float | None,
    completion: float | None,
    evidence: str | None,
    tokens: int | None,
    model: str | None,
    actor: str | None,
    no_bd: bool,
    ts: str | None,
    fmt: str,
) -> None:
    """Close BEAD in bd, then record the outcome with a snapshot of the bead.

    Runs `bd close BEAD` first when bd is on PATH ($BD names another binary); if bd fails,
    nothing is written. The snapshot (priority, type, labels, title) lets reports run
    without bd.

    \b
    Examples:
      bd-vpt close bd-42 --reason "merged #311" --human-minutes 15 --value-usd 400
      bd-vpt close bd-42 --tokens 150000 --model claude-sonnet-4-5   # close-bead.sh style
    """
    from bd_vpt.capture import manual

    info, config = _repo()
    written = manual.close(
        info,
        config,
        bead=bead,
        actor=manual.resolve_actor(actor, info.root),
        reason=reason,
        value_usd=value_usd,
        human_minutes=human_minutes,
        quality=quality,
        evidence=evidence,
        completion=completion,
        tokens=_tokens(tokens=tokens) if tokens is not None else None,
        model=model,
        run_bd=not no_bd,
        ts=ts,
    )
    _echo_written(written, fmt, info.root)


@cli.command()
@click.argument("bead")
@click.option("--reason", "-r", help="Why it came back.")
@click.option("--actor", help="Who reopened it.")
@click.option("--no-bd", is_flag=True, help="Do not run `bd reopen` (already open in bd).")
@click.option("--ts", help="When (RFC 3339 or a date; default now).")
@format_option(*WRITE_FORMATS)
def reopen(
    bead: str, reason: str | None, actor: str | None, no_bd: bool, ts: str | None, fmt: str
) -> None:
    """Record that BEAD was reopened: its earlier completion stops counting.

    \b
    Example:
      bd-vpt reopen bd-42 --reason "regression in CI"
    """
    from bd_vpt.capture import manual

    info, config = _repo()
    written = manual.reopen(
        info,
        config,
        bead=bead,
        actor=manual.resolve_actor(actor, info.root),
        reason=reason,
        run_bd=not no_bd,
        ts=ts,
    )
    _echo_written(written, fmt, info.root)


@cli.command()
@click.option(
    "--since", help="Only beads closed on or after this date (default: capture.sync_since)."
)
@click.option("--dry-run", is_flag=True, help="Show what would be written.")
@click.option("--actor", help="Actor for outcomes whose closer is unknown.")
@format_option(*WRITE_FORMATS)
def sync(since: str | None, dry_run: bool, actor: str | None, fmt: str) -> None:
    """Write outcomes for beads closed or reopened with plain `bd` (idempotent).

    Beads closed per bd (or .beads/*.jsonl) with no completed outcome get one; beads open
    again after a recorded completion get `reopened`. A second run writes nothing.

    \b
    Example:
      bd close bd-7 && bd-vpt sync
    """
    from bd_vpt.beads.sync import run
    from bd_vpt.capture import manual
    from bd_vpt.render.output import render_document

    info, config = _repo()
    result = run(
        info, config, since=since, dry_run=dry_run, actor=manual.resolve_actor(actor, info.root)
    )
    if fmt == "json":
        render_document(result)
        return
    for rec in result["records"]:
        click.echo(f"{rec['result']:<10} {rec['bead']}  ({rec['ts']}, {rec['actor']})")
    verb = "would write" if dry_run else "wrote"
    click.echo(f"{verb} {len(result['records'])} outcome(s) from {result['source']}")


def summary_options(func: F) -> F:
    from bd_vpt.economics.metrics import GROUP_KEYS

    func = click.option("--by", type=click.Choice(GROUP_KEYS), help="Group rows by this key.")(func)
    return window_options(func)


def source_options(func: F) -> F:
    """Which ledger a report reads: the working tree (default), --rev or --range."""
    func = click.option(
        "--no-cache", is_flag=True, help="Parse every blob again (ignore the local cache)."
    )(func)
    func = click.option(
        "--range",
        "range_",
        metavar="A..B|A...B",
        help="Only the records added between two revisions (A...B: since their merge base).",
    )(func)
    func = click.option(
        "--rev", help="The ledger as committed at REV (default: the working tree)."
    )(func)
    return func


def _view(info: RepoInfo, rev: str | None, range_: str | None, no_cache: bool, fmt: str) -> Any:
    from bd_vpt import reports as report

    return report.open_view(
        info, rev=rev, range_=range_, use_cache=not no_cache, progress=fmt not in ("json", "csv")
    )


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
      bd-vpt summary --by week --format json | jq .totals.bc_mt
      bd-vpt summary --rev v1.0                        # as the repo said at v1.0
      bd-vpt summary --range main...HEAD --by bead     # what this branch added
    """
    from bd_vpt import reports as report

    info, config = _repo()
    view = _view(info, rev, range_, no_cache, fmt)
    document = report.summary(view, config, by=by, since=since, until=until, strict=strict)
    _render_summary(document, fmt)


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
    from bd_vpt import reports as report
    from bd_vpt.render.output import render_rows

    info, config = _repo()
    view = _view(info, rev, range_, no_cache, fmt)
    rows = report.trend(view, config, every=every, by=by, since=since, until=until, strict=strict)
    if fmt in ("json", "csv"):
        render_rows(rows, [], fmt)
        return
    table, periods = report.trend_table(rows, metric)
    if periods:
        click.echo(f"{metric} per {every}, {periods[0]} .. {periods[-1]} ({len(periods)} periods)")
    render_rows(
        table,
        ("key", "spark", "first", "last", "min", "max"),
        fmt,
        headers=("group", metric, "first", "last", "min", "max"),
    )


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
    from bd_vpt import reports as report
    from bd_vpt.render.output import render_document, render_rows

    info, config = _repo()
    view = _view(info, rev, range_, no_cache, fmt)
    document = report.models(view, config, facet=facet, since=since, until=until, strict=strict)
    if fmt == "json":
        render_document(document)
        return
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
    headers = (
        "model",
        "closed",
        "weighted",
        "tokens",
        "cost $",
        "$/Mtok",
        "human min",
        "loaded $/closed",
    )
    styles = {"cost_usd": "usd", "cost_per_mtok": "usd", "fully_loaded_cost_per_completion": "usd"}
    render_rows(document["models"], columns, fmt, headers=headers, styles=styles)
    if fmt == "csv":
        return
    click.echo("")
    for choice in document["choices"]:
        note = "  <- differs" if choice["differs"] else ""
        click.echo(
            f"{facet} {choice[facet]}: cheapest fully loaded: {choice['cheapest_fully_loaded'] or '-'}; "
            f"cheapest by token price: {choice['cheapest_by_token_price'] or '-'}{note}"
        )


def _working_records(info: RepoInfo, strict: bool) -> list[Any]:
    from bd_vpt import reports as report

    view = report.open_view(info)
    records = list(view.records())
    report.finish(view.scan, strict=strict)
    return records


@cli.group()
def baseline() -> None:
    """Store a period's fleet figures to compare later periods with.

    \b
    Example:
      bd-vpt baseline set --period 2026-10 && bd-vpt compare --before 2026-10 --after 2026-11
    """


@baseline.command("set")
@click.option("--period", required=True, help="2026-10, 2026-W44, 2026-10-07 or FROM..TO.")
@click.option("--name", help="Name to store it under (default: the period).")
@strict_option
def baseline_set(period: str, name: str | None, strict: bool) -> None:
    """Compute the fleet figures of a period and store them in config.toml [baselines].

    \b
    Example:
      bd-vpt baseline set --period 2026-10
    """
    from datetime import UTC, datetime

    from bd_vpt import config as config_file
    from bd_vpt.economics.governance import baseline_entry

    info, config = _repo()
    entry = baseline_entry(_working_records(info, strict), config, period, datetime.now(UTC))
    document = dict(config.raw) or config_file.default_document(config.sync_since or period)
    document.setdefault("baselines", {})[name or period] = entry
    config_file.from_document(document, str(config_file.CONFIG_PATH))  # still valid
    config_file.write(info.root, document)
    click.echo(
        f"baseline {name or period}: BC/MT {entry.get('bc_mt', '-')}, {entry['tokens']:,} tokens, "
        f"${entry['cost_usd']:.2f}, {entry['beads_closed']} closed"
    )


@baseline.command("show")
@format_option(*REPORT_FORMATS)
def baseline_show(fmt: str) -> None:
    """List the stored baselines.

    \b
    Example:
      bd-vpt baseline show
    """
    from bd_vpt.render.output import render_document, render_rows

    _info, config = _repo()
    stored = config.raw.get("baselines", {})
    if fmt == "json":
        render_document(stored)
        return
    rows = [{"name": k, **v} for k, v in stored.items()]
    columns = (
        "name",
        "period",
        "bc_mt",
        "tokens",
        "cost_usd",
        "beads_closed",
        "fully_loaded_cost_per_completion",
        "set_at",
    )
    render_rows(rows, columns, fmt)


@cli.command()
@click.option("--at", help="Judge as of this date or time (default: now).")
@strict_option
@format_option(*REPORT_FORMATS)
def budget(at: str | None, strict: bool, fmt: str) -> None:
    """Spend against each cap in config.toml [[budgets]], with the projected end of period.

    \b
    Example (config.toml):
      [[budgets]]
      name = "fleet-month"
      period = "month"
      limit_usd = 500.0
      kind = "hard"
    \b
      bd-vpt budget
    """
    from bd_vpt.economics.alerts import budget_status, now_or
    from bd_vpt.render.output import render_document, render_rows

    info, config = _repo()
    rows = budget_status(_working_records(info, strict), config, now_or(at))
    if fmt == "json":
        render_document({"budgets": rows})
        return
    render_rows(
        rows,
        ("name", "period", "unit", "spent", "limit", "used", "projected", "status", "kind"),
        fmt,
        styles={"used": "pct"},
    )


@cli.command()
@click.option("--at", help="Judge as of this date or time (default: now).")
@strict_option
@format_option("text", "json")
def check(at: str | None, strict: bool, fmt: str) -> None:
    """Red-flag alerts and budgets; exit 1 when a hard one fires (a CI gate).

    Spikes (an agent loop), drift (context bloat), variation (inconsistent inputs), cost up
    with outcomes flat (model inefficiency), BC/MT floor, reopen and escalation rates,
    coverage, budgets. Each names the pattern, the evidence and the action.

    \b
    Examples:
      bd-vpt check
      bd-vpt check --format json | jq '.alerts[] | select(.hard)'
    """
    from bd_vpt.economics.alerts import check as run_checks
    from bd_vpt.economics.alerts import now_or
    from bd_vpt.render.output import render_document

    info, config = _repo()
    alerts = run_checks(_working_records(info, strict), config, now_or(at))
    hard = [a for a in alerts if a.hard]
    if fmt == "json":
        render_document({"ok": not hard, "alerts": [a.as_dict() for a in alerts]})
    else:
        for alert in alerts:
            level = "HARD" if alert.hard else "soft"
            click.echo(
                f"[{level}] {alert.name} ({alert.subject}): {alert.pattern} -> {alert.action}"
            )
            click.echo(f"        evidence: {alert.evidence}")
        click.echo(f"{len(alerts)} alert(s), {len(hard)} hard" if alerts else "no alerts")
    if hard:
        raise click.exceptions.Exit(EXIT_FAILED)


@cli.command("compare")
@click.option(
    "--before", required=True, help="A period (2026-10, 2026-W44, FROM..TO) or a baseline."
)
@click.option("--after", required=True, help="A period or a stored baseline.")
@strict_option
@format_option(*REPORT_FORMATS)
def compare_cmd(before: str, after: str, strict: bool, fmt: str) -> None:
    """Compare two periods (or stored baselines): each figure before, after and its change.

    \b
    Examples:
      bd-vpt compare --before 2026-10 --after 2026-11
      bd-vpt compare --before 2026-10 --after 2026-W47 --format json
    """
    from bd_vpt.economics.governance import compare, figures
    from bd_vpt.render.output import render_document, render_rows

    info, config = _repo()
    stored = config.raw.get("baselines", {})
    loaded: list[list[Any]] = []

    def side(spec: str) -> dict[str, Any]:
        if spec in stored:
            return dict(stored[spec])
        if not loaded:
            loaded.append(_working_records(info, strict))
        return figures(loaded[0], config, spec)

    rows = compare(side(before), side(after))
    if fmt == "json":
        render_document({"before": before, "after": after, "figures": rows})
        return
    render_rows(
        rows,
        ("figure", "before", "after", "change", "change_pct"),
        fmt,
        headers=("figure", before, after, "change", "change %"),
    )


@cli.command("marginal")
@click.option("--by", type=click.Choice(("agent", "model")), default="agent", show_default=True)
@window_options
@strict_option
@format_option(*REPORT_FORMATS)
def marginal_cmd(by: str, since: str | None, until: str | None, strict: bool, fmt: str) -> None:
    """Marginal VPT: each agent role's (or model's) own BC/MT, and the fleet's without it.

    marginal = fleet BC/MT - fleet BC/MT without it; every role should be positive.
    Coordination tokens (usage with no bead; [roles] orchestrators) are shown apart.

    \b
    Examples:
      bd-vpt marginal
      bd-vpt marginal --by model --since 2026-11-01
    """
    from bd_vpt.economics.governance import marginal
    from bd_vpt.render.output import render_document, render_rows

    info, config = _repo()
    orchestrators = config.raw.get("roles", {}).get("orchestrators", [])
    document = marginal(
        _working_records(info, strict),
        config,
        by=by,
        since=since,
        until=until,
        orchestrators=orchestrators,
    )
    if fmt == "json":
        render_document(document)
        return
    columns = (
        "key",
        "role",
        "tokens",
        "token_share",
        "coordination_tokens",
        "bc_mt",
        "fleet_bc_mt_without",
        "marginal_bc_mt",
    )
    headers = (
        by,
        "role",
        "tokens",
        "share",
        "coordination",
        "own BC/MT",
        "fleet without",
        "marginal",
    )
    render_rows(document["groups"], columns, fmt, headers=headers, styles={"token_share": "pct"})
    if fmt == "table":
        click.echo(
            f"fleet BC/MT {document['fleet_bc_mt']}; coordination tokens "
            f"{document['coordination_tokens']:,} of {document['tokens']:,}"
        )


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("focus", "csv", "jsonl")),
    default="focus",
    show_default=True,
    help="FOCUS 1.2 CSV, or the raw records as CSV or JSON lines.",
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
    """Export the ledger: FinOps FOCUS 1.2 CSV (one row per usage record), or raw records.

    \b
    Examples:
      bd-vpt export --format focus --since 2026-11-01 --until 2026-11-30 > focus.csv
      bd-vpt export --format jsonl --range main...HEAD
    """
    from bd_vpt import reports as report
    from bd_vpt.economics.metrics import window
    from bd_vpt.render.output import render_rows

    info, config = _repo()
    view = _view(info, rev, range_, no_cache, "csv")
    win = window(since, until)
    records = [r for r in view.records() if win.holds(r["ts"])]
    report.finish(view.scan, strict=strict)
    if fmt == "focus":
        from bd_vpt.economics.focus import COLUMNS, rows

        unknown = sum(1 for r in records if r["kind"] == "usage" and r.get("cost_usd") is None)
        if unknown:
            _warn_all(
                [
                    f"{unknown} usage record(s) have no known price: exported with cost 0 "
                    "and x_CostKnown false"
                ]
            )
        render_rows(rows(records, config, info.root.name), COLUMNS, "csv", fields=COLUMNS)
    else:
        from bd_vpt.render.output import flatten

        columns = list(dict.fromkeys(k for r in records for k in flatten(r)))  # every field seen
        render_rows(records, [], fmt, fields=columns if fmt == "csv" else None)


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
    from bd_vpt import reports as report
    from bd_vpt.render.output import render_document, render_rows

    info, config = _repo()
    view = _view(info, rev, None, no_cache, fmt)
    story = report.bead_story(info, view, config, bead_id, rev=rev, strict=strict)
    if fmt == "json":
        render_document(story)
        return
    if fmt == "table":
        click.echo(report.bead_heading(story))
    render_rows(
        report.bead_rows(story, config),
        ("ts", "kind", "actor", "what", "tokens", "cost_usd", "commit"),
        fmt,
        styles={"cost_usd": "usd"},
    )
    if fmt == "table":
        click.echo(report.bead_footer(story))


def _render_summary(document: dict[str, Any], fmt: str) -> None:
    from bd_vpt.render.output import render_document, render_rows

    if fmt == "json":
        render_document(document)
        return
    totals = {"key": "TOTAL" if document["by"] else "fleet", **document["totals"]}
    rows = [*document["groups"], totals] if document["by"] else [totals]
    render_rows(rows, SUMMARY_COLUMNS, fmt, headers=SUMMARY_HEADERS, styles=SUMMARY_STYLES)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@strict_option
@format_option("text", "json")
def validate(paths: tuple[Path, ...], strict: bool, fmt: str) -> None:
    """Check ledger files: schema, duplicate ids, conflict markers, torn lines.

    Exits 2 when anything is wrong (warnings too, with --strict), naming each bad line as
    path:line. Identical duplicates (a union merge of the same line) are fine.

    \b
    Examples:
      bd-vpt validate
      bd-vpt validate .beads/vpt/ledger/2026-11/claude-1a2b3c.jsonl --format json
    """
    from bd_vpt import repo
    from bd_vpt import reports as report
    from bd_vpt.render.output import render_document

    info = repo.discover()
    scan, count = report.validate(info.root, [p.resolve() for p in paths] or None)
    failing = scan.problems if strict else scan.errors
    if fmt == "json":
        render_document(
            {
                "ok": not failing,
                "records": count,
                "duplicates": scan.duplicates,
                "problems": report.problems_as_rows(scan.problems),
            }
        )
    else:
        for problem in scan.problems:
            click.echo(problem.render())
        click.echo(
            f"{count} good record(s), {scan.duplicates} identical duplicate(s), "
            f"{len(scan.errors)} error(s), {len(scan.problems) - len(scan.errors)} warning(s)"
        )
    if failing:
        raise click.exceptions.Exit(EXIT_BAD)


@cli.command()
@click.argument("name", type=click.Choice(("pre-commit", "post-merge", "validate")))
@click.argument("args", nargs=-1)
def hook(name: str, args: tuple[str, ...]) -> None:
    """Run a git hook's work: what the installed hooks and the pre-commit framework call.

    pre-commit captures (never blocks), stages the capture shard and validates the staged
    ledger lines (a bad line, a conflict marker or an API key blocks the commit); validate
    only validates; post-merge checks what a merge brought and prints its figures.

    \b
    Example (husky, .husky/pre-commit):
      bd-vpt hook pre-commit
    """
    from bd_vpt.integrations.hookrun import run_hook

    code = run_hook(name)
    if code:
        raise click.exceptions.Exit(code)


@cli.group()
def hooks() -> None:
    """Install, remove or show bd-vpt's git hooks (pre-commit, post-merge).

    \b
    Example:
      bd-vpt hooks install && bd-vpt hooks status
    """


@hooks.command("install")
@click.option("--force", is_flag=True, help="Install into core.hooksPath even when it is set.")
@click.option(
    "--claude",
    is_flag=True,
    help="Instead: add Claude Code SessionEnd/Stop hooks to .claude/settings.json.",
)
@click.option("--uninstall", "undo", is_flag=True, help="With --claude: remove them again.")
def hooks_install(force: bool, claude: bool, undo: bool) -> None:
    """Install the hooks into the common git dir (shared by all worktrees).

    A hook already there is kept as <name>.legacy and runs first; installing twice changes
    nothing; `bd-vpt hooks uninstall` restores exactly what was there. With --claude, Claude
    Code runs `bd-vpt import claude-code --hook` when a session stops or ends (other settings
    and hooks in .claude/settings.json are kept).

    \b
    Examples:
      bd-vpt hooks install
      bd-vpt hooks install --claude
    """
    from bd_vpt import repo
    from bd_vpt.integrations import githooks as hook_setup

    info = repo.discover()
    if claude:
        from bd_vpt.capture.agents import claude_settings

        lines = claude_settings(info.root, remove=undo)
    else:
        lines = hook_setup.install(info, force=force)
    for line in lines:
        click.echo(line)


@hooks.command("uninstall")
@click.option("--claude", is_flag=True, help="Instead: remove bd-vpt's Claude Code hooks.")
def hooks_uninstall(claude: bool) -> None:
    """Remove bd-vpt's hooks and restore the ones it kept.

    \b
    Example:
      bd-vpt hooks uninstall
    """
    from bd_vpt import repo
    from bd_vpt.integrations import githooks as hook_setup

    info = repo.discover()
    if claude:
        from bd_vpt.capture.agents import claude_settings

        lines = claude_settings(info.root, remove=True)
    else:
        lines = hook_setup.uninstall(info)
    for line in lines:
        click.echo(line)


@hooks.command("status")
@format_option("table", "json")
def hooks_status(fmt: str) -> None:
    """Show which hooks are installed, and other hook managers found.

    \b
    Example:
      bd-vpt hooks status --format json
    """
    from dataclasses import asdict

    from bd_vpt import repo
    from bd_vpt.integrations import githooks as hook_setup
    from bd_vpt.render.output import render_document, render_rows

    rows, notes = hook_setup.status(repo.discover())
    if fmt == "json":
        render_document({"hooks": [asdict(r) for r in rows], "notes": notes})
        return
    render_rows([asdict(r) for r in rows], ("name", "state", "path"), "table")
    for note in notes:
        click.echo(f"note: {note}")


def _import(
    kind: str,
    path: Path | None,
    since: str | None,
    all_projects: bool,
    dry_run: bool,
    actor: str | None,
    hook: bool,
    fmt: str,
) -> None:
    import sys

    import orjson

    from bd_vpt.capture import manual
    from bd_vpt.capture.agents import run_import
    from bd_vpt.render.output import render_document

    info, config = _repo()
    files = None
    if hook:  # Claude Code's hook: {"session_id": ..., "transcript_path": ...} on stdin
        try:
            event = orjson.loads(sys.stdin.buffer.read() or b"{}")
            files = [Path(event["transcript_path"])] if event.get("transcript_path") else None
        except (orjson.JSONDecodeError, AttributeError, TypeError):
            files = None
    result = run_import(
        info,
        config,
        kind,
        actor=manual.resolve_actor(actor, info.root),
        path=path,
        files=files,
        since=since,
        all_projects=all_projects,
        dry_run=dry_run,
    )
    result.pop("remember")  # done: run_import noted the files it read
    if fmt == "json":
        render_document(result)
        return
    _warn_all(
        [f"no known price for model {m!r}: cost_usd left null" for m in result["unknown_models"]]
    )
    verb = "would write" if dry_run else "wrote"
    click.echo(
        f"{result['files']} file(s), {result['messages']:,} message(s) "
        f"({result['duplicates']:,} duplicate line(s), {result['already_imported']:,} "
        f"already in the ledger)"
    )
    if result["skipped"]:
        click.echo("skipped: " + ", ".join(f"{n:,} {why}" for why, n in result["skipped"].items()))
    click.echo(
        f"{verb} {len(result['records'])} usage record(s): {result['tokens']:,} tokens, "
        f"${result['cost_usd']:.4f}; {result['unattributed_tokens']:,} tokens with no bead"
    )


def import_options(func: F) -> F:
    for option in reversed(
        (
            click.option(
                "--path",
                type=click.Path(path_type=Path),
                help="Transcripts folder (default: the agent's own).",
            ),
            click.option("--since", help="Only messages on or after this date."),
            click.option(
                "--all-projects/--project-only",
                default=False,
                help="Sessions of every project, or (default) only those run in this repo or its worktrees.",
            ),
            click.option("--dry-run", is_flag=True, help="Show what would be written."),
            click.option(
                "--actor", help="Who the usage is recorded for (default: $BD_ACTOR, ...)."
            ),
            format_option(*WRITE_FORMATS),
        )
    ):
        func = option(func)
    return func


@cli.group("import")
def import_() -> None:
    """Import agents' token usage from their transcripts, attributed to beads.

    \b
    Example:
      bd-vpt import claude-code && bd-vpt summary --by bead
    """


@import_.command("claude-code")
@import_options
@click.option("--hook", is_flag=True, hidden=True, help="Read Claude Code's hook event on stdin.")
def import_claude_code(
    path: Path | None,
    since: str | None,
    all_projects: bool,
    dry_run: bool,
    actor: str | None,
    fmt: str,
    hook: bool,
) -> None:
    """Claude Code: ~/.claude/projects/**/*.jsonl (and $CLAUDE_CONFIG_DIR).

    One usage record per session, bead window, model and day, priced per message. Bead
    windows come from the bd commands the agent ran (bd update ID --claim, bd close ID, ...),
    then a bead's closed_by_session, then `bd-vpt start ID`. Importing again adds only new
    messages.

    \b
    Examples:
      bd-vpt import claude-code
      bd-vpt import claude-code --since 2026-11-01 --dry-run
    """
    _import("claude-code", path, since, all_projects, dry_run, actor, hook, fmt)


@import_.command("codex")
@import_options
def import_codex(
    path: Path | None,
    since: str | None,
    all_projects: bool,
    dry_run: bool,
    actor: str | None,
    fmt: str,
) -> None:
    """Codex: $CODEX_HOME/sessions/**/*.jsonl (default ~/.codex).

    \b
    Example:
      bd-vpt import codex --path ~/.codex/sessions
    """
    _import("codex", path, since, all_projects, dry_run, actor, False, fmt)


@cli.command()
@click.argument("bead")
def start(bead: str) -> None:
    """Set the bead you (or a manual agent session) work on from now.

    Imports give unattributed usage from now on to BEAD, until `bd-vpt stop`.

    \b
    Example:
      bd-vpt start bd-42
    """
    from bd_vpt import repo
    from bd_vpt.capture.agents import set_current

    set_current(repo.discover(), bead)
    click.echo(f"working on {bead}")


@cli.command()
def stop() -> None:
    """Stop working on the current bead (see `bd-vpt start`).

    \b
    Example:
      bd-vpt stop
    """
    from bd_vpt import repo
    from bd_vpt.capture.agents import set_current

    set_current(repo.discover(), None)
    click.echo("no current bead")


@cli.command()
@click.option("--base", required=True, help="The target branch's revision, e.g. origin/main.")
@click.option("--head", default="HEAD", show_default=True, help="The pull request's revision.")
@click.option(
    "--baseline-days",
    type=click.IntRange(1, 3650),
    default=30,
    show_default=True,
    help="Trailing days of the base branch's ledger to compare with.",
)
@click.option(
    "--fail-on-alert", is_flag=True, help="Exit 1 (after printing) when a hard alert fires."
)
@click.option("--no-cache", is_flag=True, help="Parse every blob again (ignore the local cache).")
@strict_option
@format_option("markdown", "json")
def pr(
    base: str,
    head: str,
    baseline_days: int,
    fail_on_alert: bool,
    no_cache: bool,
    strict: bool,
    fmt: str,
) -> None:
    """Value Per Token of a pull request: what base...head added, next to the base branch.

    The records the PR adds (as `--range base...head`), the beads it touched (title,
    priority, status, tokens, cost, result), its BC/MT and cost per completion against the
    base branch's trailing baseline (▲/▼), alerts from `check` on the ledger at head, and a
    weekly BC/MT chart. Weights, rates and thresholds come from the base branch's config:
    a pull request cannot change how it is judged. Markdown is what the GitHub Action posts.

    \b
    Examples:
      bd-vpt pr --base origin/main --head HEAD > comment.md
      bd-vpt pr --base main --format json | jq .comparison
      bd-vpt pr --base "$BASE_SHA" --head "$HEAD_SHA" --fail-on-alert
    """
    from bd_vpt import repo
    from bd_vpt.integrations import pr as pull_request
    from bd_vpt.ledger.store import Scan
    from bd_vpt.render.markdown import pr_comment
    from bd_vpt.render.output import render_document
    from bd_vpt.reports import finish

    # no _repo(): the config that judges a pull request is base's, read by gather()
    read = pull_request.gather(repo.discover(), base, head, use_cache=not no_cache)
    finish(Scan(problems=read.problems), strict=strict)
    document = pull_request.compose(read, baseline_days=baseline_days)
    if fmt == "json":
        render_document(document)
    else:
        click.echo(pr_comment(document))
    if fail_on_alert and document["hard_alerts"]:
        click.echo(f"bd-vpt: {document['hard_alerts']} hard alert(s)", err=True)
        raise click.exceptions.Exit(EXIT_FAILED)


@cli.group()
def github() -> None:
    """GitHub: keep one sticky bd-vpt comment on a pull request.

    \b
    Example (in a workflow step; see docs/github-action.md):
      bd-vpt pr --base "$BASE" --head "$HEAD" > "$RUNNER_TEMP/vpt.md"
      bd-vpt github comment --file "$RUNNER_TEMP/vpt.md"
    """


@github.command("comment")
@click.option(
    "--file",
    "body_file",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="The comment body (markdown); - for standard input.",
)
@click.option("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY).")
@click.option(
    "--pr",
    "number",
    type=click.IntRange(1),
    help="Pull request number (default: from $GITHUB_EVENT_PATH).",
)
@click.option(
    "--marker",
    help="Hidden text that identifies the comment (default: bd-vpt's); one comment per marker.",
)
@click.option("--retries", type=click.IntRange(0, 10), default=4, show_default=True)
@click.option(
    "--backoff",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Seconds before the first retry of a 5xx or dropped connection; doubled each time.",
)
@format_option("text", "json")
def github_comment(
    body_file: str,
    repo: str | None,
    number: int | None,
    marker: str | None,
    retries: int,
    backoff: float,
    fmt: str,
) -> None:
    """Create or update this tool's one comment on a pull request (no-op when unchanged).

    The comment is found by a hidden marker in its body. Reads GITHUB_TOKEN (never
    printed), GITHUB_API_URL, GITHUB_REPOSITORY and GITHUB_EVENT_PATH when flags are
    absent. 5xx answers and rate limits are retried with backoff; 401, 403 and 404 stop
    with exit 2 and the permission that is missing.

    \b
    Examples:
      GITHUB_TOKEN=... bd-vpt github comment --file comment.md --repo acme/app --pr 42
      bd-vpt pr --base origin/main | bd-vpt github comment --file -
    """
    from bd_vpt.integrations import github as gh
    from bd_vpt.render.markdown import MARKER
    from bd_vpt.render.output import render_document

    body = _read_body(body_file)
    where = gh.target(repo, number)
    client = gh.Client(gh.token_from_env(), where.api, retries=retries, backoff=backoff)
    try:
        result = gh.upsert(client, where, body, marker or MARKER)
    finally:
        _warn_all(client.log)
    if fmt == "json":
        render_document({**result, "repo": where.repo, "pr": where.pr})
    else:
        click.echo(f"{result['action']} comment {result['id']} on {where.repo}#{where.pr}")


def _read_body(body_file: str) -> str:
    if body_file == "-":
        return sys.stdin.read()
    try:
        return Path(body_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VptError(
            f"{body_file}: cannot read the comment body: {exc}",
            hint="write it first, e.g. bd-vpt pr --base main > comment.md",
        ) from None


@cli.command("shell-init")
@click.option(
    "--shell",
    "shell",
    type=click.Choice(("bash", "zsh", "fish")),
    default=None,
    help="Shell dialect (default: from $SHELL).",
)
def shell_init(shell: str | None) -> None:
    """Print a shell function so that `bd vpt ...` runs bd-vpt.

    Every other `bd ...` still runs the real bd (bd has no plugin dispatch of its own).

    \b
    Example (add to ~/.bashrc or ~/.zshrc):
      eval "$(bd-vpt shell-init)"
    """
    from bd_vpt.integrations.shell import shell_function

    click.echo(shell_function(shell), nl=False)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--by", default="agent", show_default=True, help="Grouping of the summary printed.")
def demo(directory: Path, by: str) -> None:
    """Build a demo repo in DIRECTORY from shipped data, then print its summary.

    The demo has beads of every priority, three agents on four models, coordination
    tokens with no bead, and a bead that was reopened and closed again, committed day by
    day with git.

    \b
    Example:
      bd-vpt demo /tmp/vpt-demo && cd /tmp/vpt-demo && bd-vpt summary --by model
    """
    from bd_vpt.demo import build

    build(directory, echo=click.echo)
    click.echo(f"\n$ cd {directory} && bd-vpt summary --by {by}")
    from bd_vpt import config
    from bd_vpt import reports as report

    root = directory.resolve()
    document = report.summary(
        report.working_tree(root), config.load(root), by=by, since=None, until=None, strict=False
    )
    _render_summary(document, "table")


def main(argv: list[str] | None = None) -> int:
    try:
        result = cli.main(args=argv, prog_name="bd-vpt", standalone_mode=False)
    except VptError as exc:
        click.echo(exc.render(), err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return EXIT_BAD if exc.exit_code == 2 else exc.exit_code
    except BrokenPipeError:
        sys.stderr.close()  # `bd-vpt summary | head`: not an error
        return 0
    return result if isinstance(result, int) else 0
