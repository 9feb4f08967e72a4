"""Reports for people who read pages, and for many repositories: the dashboard (one
self-contained HTML file) and the org rollup. Each reads through the one route
(bd_vpt.reports) and renders through bd_vpt.render."""

from __future__ import annotations

from pathlib import Path

import click

from bd_vpt.cli.options import (
    REPORT_FORMATS,
    cli,
    format_option,
    open_repo,
    show,
    source_options,
    strict_option,
    window_options,
)
from bd_vpt.cli.reports import open_view
from bd_vpt.render.summary import SUMMARY_COLUMNS


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("vpt-dashboard.html"),
    show_default=True,
    help="The HTML file to write.",
)
@click.option(
    "--every",
    type=click.Choice(("day", "week", "month")),
    help="Period of the charts over time (default: week, or day for a short ledger).",
)
@window_options
@source_options
@strict_option
@format_option("html", "json")
def dashboard(
    output: Path,
    every: str | None,
    since: str | None,
    until: str | None,
    rev: str | None,
    range_: str | None,
    no_cache: bool,
    strict: bool,
    fmt: str,
) -> None:
    """A self-contained HTML page of the ledger's value for finance and team leads.

    BC/MT and cost per completion over time, spend vs weighted completions by agent and by
    model, the fully loaded cost, attribution coverage, red flags, the costliest beads with
    their outcome and the comparison with the newest stored baseline. No script, nothing
    fetched: it opens from a CI artifact or an e-mail; light/dark, printable, a data table
    under every chart. --format json prints the document the page is drawn from.

    \b
    Examples:
      bd-vpt dashboard                                  # writes vpt-dashboard.html
      bd-vpt dashboard -o site/vpt.html --since 3m --rev main
      bd-vpt dashboard --format json | jq .totals.bc_mt
    """
    from bd_vpt import reports
    from bd_vpt.render.dashboard import html
    from bd_vpt.render.output import render_document

    info, config = open_repo()
    view = open_view(info, rev, range_, no_cache, fmt)
    document = reports.dashboard(view, config, since=since, until=until, every=every, strict=strict)
    if fmt == "json":
        render_document(document)
        return
    written = write_page(output, html(document, info.root.name))
    click.echo(f"wrote {written}")


def write_page(path: Path, text: str) -> Path:
    from bd_vpt.errors import VptError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise VptError(
            f"cannot write {path}: {exc.strerror}", hint="give another -o path"
        ) from None
    return path


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH_OR_GLOB...")
@click.option(
    "--by",
    type=click.Choice(("repo", "team", "agent")),
    default="repo",
    show_default=True,
    help="Group rows by repository, team ([teams] of --config) or agent.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The config every repository is weighed with (weights, rates, [teams]); "
    "default: bd-vpt's defaults.",
)
@window_options
@click.option("--no-cache", is_flag=True, help="Parse every blob again (ignore the local caches).")
@strict_option
@format_option(*REPORT_FORMATS)
def rollup(
    paths: tuple[str, ...],
    by: str,
    config_path: Path | None,
    since: str | None,
    until: str | None,
    no_cache: bool,
    strict: bool,
    fmt: str,
) -> None:
    """Many repositories as one fleet: BC/MT, cost and completions by repo, team or agent.

    Each repository is read at its default branch (the remote's HEAD, else the branch
    checked out), committed records only, straight from git: no checkout, no working tree.
    Bead ids are kept apart per repository; every repository is weighed with one config.

    \b
    Examples:
      bd-vpt rollup ~/src/*                             # every clone in ~/src
      bd-vpt rollup api web billing --by team --config org.toml
      bd-vpt rollup 'repos/*' --since 2026-10 --until 2026-10 --format json
    """
    from bd_vpt import config as config_file
    from bd_vpt import reports
    from bd_vpt.render.figures import headers, styles
    from bd_vpt.render.report import Report, Table

    config = config_file.load_path(config_path) if config_path else config_file.Config()
    document = reports.rollup(
        list(paths),
        config,
        by=by,
        since=since,
        until=until,
        strict=strict,
        use_cache=not no_cache,
    )
    totals = {"key": "TOTAL", **document["totals"]}
    table = Table(
        [*document["groups"], totals],
        SUMMARY_COLUMNS,
        (by, *headers(SUMMARY_COLUMNS)[1:]),
        styles(SUMMARY_COLUMNS),
    )
    before = [
        f"{len(document['repos'])} repositories, each at its default branch "
        + "("
        + ", ".join(
            f"{r['name']} {(r['ref'] or 'no commit').removeprefix('refs/')}"
            for r in document["repos"][:6]
        )
        + (", ..." if len(document["repos"]) > 6 else "")
        + ")"
    ]
    show(Report(document, [table], before=before), fmt)
