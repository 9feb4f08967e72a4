"""Governance commands: baseline, budget, check, compare, marginal. They read the ledger
through the same route as every report (working tree, --rev or --range; cached)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from bd_vpt.cli.options import (
    REPORT_FORMATS,
    at_option,
    cli,
    format_option,
    open_repo,
    show,
    source_options,
    strict_option,
    warn_all,
    window_options,
)
from bd_vpt.cli.reports import open_view
from bd_vpt.errors import EXIT_FAILED

if TYPE_CHECKING:
    from pathlib import Path


def config_notice(root: Path) -> str | None:
    """With no config.toml, say so and which defaults the judgement used."""
    from bd_vpt.config import CONFIG_PATH
    from bd_vpt.economics.alerts import DEFAULTS

    if (root / CONFIG_PATH).exists():
        return None
    return (
        f"no {CONFIG_PATH}: judged with the defaults (reopen rate > "
        f"{DEFAULTS['reopen_rate']:.0%}, escalation rate > {DEFAULTS['escalation_rate']:.0%} "
        f"of completions over 30 human minutes, spikes >= {DEFAULTS['spike_factor']:g}x the "
        "trailing median, drift over "
        f"{DEFAULTS['drift_periods']} weeks; BC/MT floor, coverage and priced-share floors off; "
        "no budgets; no hard alerts, so never exit 1). `bd-vpt init` writes the config"
    )


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
@source_options
@strict_option
def baseline_set(
    period: str,
    name: str | None,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
) -> None:
    """Compute the fleet figures of a period and store them in config.toml [baselines].

    \b
    Example:
      bd-vpt baseline set --period 2026-10
    """
    from datetime import UTC, datetime

    from bd_vpt import config as config_file
    from bd_vpt import reports
    from bd_vpt.render.output import cost_line
    from bd_vpt.when import period as parse_period

    parse_period(period)  # a bad period is exit 2 before anything is read
    info, config = open_repo()
    view = open_view(info, rev, range_, no_cache, "text")
    entry = reports.baseline_entry(view, config, period, datetime.now(UTC), strict=strict)
    document = dict(config.raw) or config_file.default_document(config.sync_since or period)
    key = name or period
    stored = document.setdefault("baselines", {})
    before = stored.get(key)
    stored[key] = entry
    config_file.from_document(document, str(config_file.CONFIG_PATH))  # still valid
    config_file.write(info.root, document)
    if before is not None:
        click.echo(
            f"replaces the stored baseline {key} ({before.get('period')}, set "
            f"{str(before.get('set_at', '?'))[:10]}: BC/MT {before.get('bc_mt', '-')})"
        )
    click.echo(
        f"baseline {key}: BC/MT {entry.get('bc_mt', '-')}, {entry['tokens']:,} tokens, "
        f"{cost_line(entry)}, {entry['beads_closed']} closed"
    )


@baseline.command("show")
@format_option(*REPORT_FORMATS)
def baseline_show(fmt: str) -> None:
    """List the stored baselines.

    \b
    Example:
      bd-vpt baseline show
    """
    from bd_vpt.render.report import Report, Table

    _info, config = open_repo()
    stored = config.raw.get("baselines", {})
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
    show(Report(stored, [Table(rows, columns)]), fmt)


@cli.command()
@at_option
@source_options
@strict_option
@format_option(*REPORT_FORMATS)
def budget(
    at: str | None,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
    fmt: str,
) -> None:
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
      bd-vpt budget --at 2026-11-30 --format json
    """
    from bd_vpt import reports
    from bd_vpt.render.report import Report, Table

    info, config = open_repo()
    view = open_view(info, rev, range_, no_cache, fmt)
    rows = reports.budget(view, config, at=at, strict=strict)
    if not rows:
        warn_all([config_notice(info.root) or "no [[budgets]] in the config: nothing to judge"])
    columns = ("name", "period", "unit", "spent", "limit", "used", "projected", "status", "kind")
    after = [
        f"{row['name']}: spend is at least ${row['spent']:,.2f}: "
        f"{row['unpriced_records']} usage record(s) have no known price"
        for row in rows
        if row["unpriced_records"] and row["unit"] == "usd"
    ]
    show(
        Report({"budgets": rows}, [Table(rows, columns, styles={"used": "pct"})], after=after),
        fmt,
    )


@cli.command()
@at_option
@source_options
@strict_option
@format_option("text", "json")
def check(
    at: str | None,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
    fmt: str,
) -> None:
    """Red-flag alerts and budgets; exit 1 when a hard one fires (a CI gate).

    Spikes (an agent loop), drift (context bloat), variation (inconsistent inputs), cost up
    with outcomes flat (model inefficiency), BC/MT floor, reopen and escalation rates,
    coverage, priced share, budgets. One line per finding: the figure against its
    threshold, the pattern and the action. With no config.toml it says which defaults it
    used.

    \b
    Examples:
      bd-vpt check
      bd-vpt check --format json | jq '.alerts[] | select(.hard)'
    """
    from bd_vpt import reports
    from bd_vpt.economics.alerts import Alert
    from bd_vpt.render.report import Report

    info, config = open_repo()
    view = open_view(info, rev, range_, no_cache, fmt)
    alerts = reports.check(view, config, at=at, strict=strict)
    hard = [a for a in alerts if a["hard"]]
    lines = [Alert(**alert).line() for alert in alerts]
    lines.append(f"{len(alerts)} alert(s), {len(hard)} hard" if alerts else "no alerts")
    defaults = config_notice(info.root)
    if defaults:
        warn_all([defaults])
    show(Report({"ok": not hard, "alerts": alerts}, after=lines), fmt)
    if hard:
        raise click.exceptions.Exit(EXIT_FAILED)


@cli.command("compare")
@click.option(
    "--before", required=True, help="A period (2026-10, 2026-W44, FROM..TO) or a baseline."
)
@click.option("--after", required=True, help="A period or a stored baseline.")
@source_options
@strict_option
@format_option(*REPORT_FORMATS)
def compare_cmd(
    before: str,
    after: str,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
    fmt: str,
) -> None:
    """Compare two periods (or stored baselines): each figure before, after and its change.

    \b
    Examples:
      bd-vpt compare --before 2026-10 --after 2026-11
      bd-vpt compare --before 2026-10 --after 2026-W47 --format json
    """
    from bd_vpt import reports
    from bd_vpt.economics.governance import compare
    from bd_vpt.render.report import Report, Table
    from bd_vpt.when import period

    info, config = open_repo()
    stored = config.raw.get("baselines", {})
    for spec in (before, after):
        if spec not in stored:
            period(spec)  # a bad period is exit 2 before anything is read
    sides: dict[str, dict[str, Any]] = {}
    for spec in (before, after):
        if spec in stored:
            sides[spec] = dict(stored[spec])
        else:
            view = open_view(info, rev, range_, no_cache, fmt)
            sides[spec] = reports.period_figures(view, config, spec, strict=strict)
    rows = compare(sides[before], sides[after])
    table = Table(
        rows,
        ("figure", "before", "after", "change", "change_pct"),
        ("figure", before, after, "change", "change %"),
    )
    show(Report({"before": before, "after": after, "figures": rows}, [table]), fmt)


@cli.command("marginal")
@click.option("--by", type=click.Choice(("agent", "model")), default="agent", show_default=True)
@window_options
@source_options
@strict_option
@format_option(*REPORT_FORMATS)
def marginal_cmd(
    by: str,
    since: str | None,
    until: str | None,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
    fmt: str,
) -> None:
    """Marginal VPT: each agent role's (or model's) own BC/MT, and the fleet's without it.

    marginal = fleet BC/MT - fleet BC/MT without it; every role should be positive.
    Coordination tokens (usage with no bead; [roles] orchestrators) are shown apart.

    \b
    Examples:
      bd-vpt marginal
      bd-vpt marginal --by model --since 2026-11-01
    """
    from bd_vpt import reports
    from bd_vpt.render.report import Report, Table

    info, config = open_repo()
    view = open_view(info, rev, range_, no_cache, fmt)
    document = reports.marginal(view, config, by=by, since=since, until=until, strict=strict)
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
    table = Table(document["groups"], columns, headers, {"token_share": "pct"})
    footing = [
        f"fleet BC/MT {document['fleet_bc_mt']}; coordination tokens "
        f"{document['coordination_tokens']:,} of {document['tokens']:,}"
    ]
    show(Report(document, [table], footing=footing), fmt)
