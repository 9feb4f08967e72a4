"""Git hook commands: `hook` (what installed hooks run) and `hooks` (install, uninstall,
status)."""

from __future__ import annotations

import click

from bd_vpt.cli.options import cli, format_option, show


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
@click.option(
    "--beads",
    is_flag=True,
    help="Instead: install bd's event hooks .beads/hooks/on_close and on_update.",
)
@click.option(
    "--uninstall", "undo", is_flag=True, help="With --claude or --beads: remove them again."
)
def hooks_install(force: bool, claude: bool, beads: bool, undo: bool) -> None:
    """Install the hooks into the common git dir (shared by all worktrees).

    A hook already there is kept as <name>.legacy and runs first; installing twice changes
    nothing; `bd-vpt hooks uninstall` restores exactly what was there. With --claude, Claude
    Code runs `bd-vpt import claude-code --hook` when a session stops or ends (other settings
    and hooks in .claude/settings.json are kept). With --beads, bd itself runs bd-vpt on every
    close and update (bead id and event as arguments, the bead's JSON on stdin, in the
    background): the outcome is recorded the moment bd closes or reopens a bead, exactly as
    `bd-vpt sync` would record it (a later sync adds nothing).

    \b
    Examples:
      bd-vpt hooks install
      bd-vpt hooks install --claude
      bd-vpt hooks install --beads
    """
    from bd_vpt import repo
    from bd_vpt.integrations import githooks as hook_setup

    info = repo.discover()
    if beads:
        from bd_vpt.integrations import beadhooks

        lines = beadhooks.uninstall(info.root) if undo else beadhooks.install(info.root)
    elif claude:
        from bd_vpt.capture.agents import claude_settings

        lines = claude_settings(info.root, remove=undo)
    else:
        lines = hook_setup.install(info, force=force)
    for line in lines:
        click.echo(line)


@hooks.command("uninstall")
@click.option("--claude", is_flag=True, help="Instead: remove bd-vpt's Claude Code hooks.")
@click.option("--beads", is_flag=True, help="Instead: remove bd-vpt's bd event hooks.")
def hooks_uninstall(claude: bool, beads: bool) -> None:
    """Remove bd-vpt's hooks and restore the ones it kept.

    \b
    Example:
      bd-vpt hooks uninstall
    """
    from bd_vpt import repo
    from bd_vpt.integrations import githooks as hook_setup

    info = repo.discover()
    if beads:
        from bd_vpt.integrations import beadhooks

        lines = beadhooks.uninstall(info.root)
    elif claude:
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
    from bd_vpt.render.report import Report, Table

    rows, notes = hook_setup.status(repo.discover())
    found = [asdict(r) for r in rows]
    table = Table(found, ("name", "state", "path"))
    show(
        Report({"hooks": found, "notes": notes}, [table], after=[f"note: {n}" for n in notes]), fmt
    )
