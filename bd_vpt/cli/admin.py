"""Set-up and upkeep: init, validate, shell-init, demo."""

from __future__ import annotations

from pathlib import Path

import click

from bd_vpt.cli.options import cli, format_option, show, strict_option
from bd_vpt.economics.keys import GROUP_KEYS
from bd_vpt.errors import EXIT_BAD


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
    from bd_vpt.render.report import Report

    info = repo.discover()
    scan, count = report.validate(info.root, [p.resolve() for p in paths] or None)
    failing = scan.problems if strict else scan.errors
    document = {
        "ok": not failing,
        "records": count,
        "duplicates": scan.duplicates,
        "problems": report.problems_as_rows(scan.problems),
    }
    from bd_vpt.ledger.store import ledger_files
    from bd_vpt.repo_setup import unreachable

    files = [p.relative_to(info.root).as_posix() for p in ledger_files(info.root)]
    never = unreachable(info.root, files) if files else []
    document["never_committed"] = never
    lines = [problem.render() for problem in scan.problems]
    lines += [f"warning: {line}" for line in never]
    lines.append(
        f"{count} good record(s), {scan.duplicates} identical duplicate(s), "
        f"{len(scan.errors)} error(s), {len(scan.problems) - len(scan.errors)} warning(s)"
    )
    show(Report(document, after=lines), fmt)
    if failing:
        raise click.exceptions.Exit(EXIT_BAD)


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
@click.option(
    "--by",
    type=click.Choice(GROUP_KEYS),
    default="agent",
    show_default=True,
    help="Grouping of the summary printed.",
)
def demo(directory: Path, by: str) -> None:
    """Build a demo repo in DIRECTORY from shipped data, then print its summary.

    The demo has beads of every priority, three agents on four models, coordination
    tokens with no bead, and a bead that was reopened and closed again, committed day by
    day with git.

    \b
    Example:
      bd-vpt demo /tmp/vpt-demo && cd /tmp/vpt-demo && bd-vpt summary --by model
    """
    from bd_vpt.demo import build, summary
    from bd_vpt.render.summary import summary_report

    build(directory, echo=click.echo)
    click.echo(f"\n$ cd {directory} && bd-vpt summary --by {by}")
    show(summary_report(summary(directory, by)), "table")
