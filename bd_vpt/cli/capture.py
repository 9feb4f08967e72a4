"""Commands that capture records from other tools: sync (bd), import (agents), start/stop."""

from __future__ import annotations

from pathlib import Path

import click

from bd_vpt.cli.options import (
    WRITE_FORMATS,
    F,
    cli,
    format_option,
    open_repo,
    show,
    since_option,
    warn_all,
)
from bd_vpt.integrations.importing import price_warnings, run_one, written_line


@cli.command()
@since_option("Only beads closed on or after this (default: capture.sync_since).")
@click.option("--dry-run", is_flag=True, help="Show what would be written.")
@click.option("--explain", is_flag=True, help="Per bead: what it records and why.")
@click.option("--actor", help="Actor for outcomes whose closer is unknown.")
@format_option(*WRITE_FORMATS)
def sync(since: str | None, dry_run: bool, explain: bool, actor: str | None, fmt: str) -> None:
    """Write outcomes for beads closed or reopened with plain `bd` (idempotent).

    Each bead's closes and reopens come from bd's audit trail (.beads/interactions.jsonl, the
    backup era's events.jsonl, skew-corrected) and its snapshot. A close whose reason starts
    with a not-done phrase ("Duplicate of ...", "stale", "won't fix") is `abandoned`; wisps and
    beads closed with children are kept but not counted (config.toml [outcomes]). A completion
    is credited to the bead's assignee at the close, else its last claimer, else whoever
    closed it (kept as closed_by). A second run writes nothing.

    \b
    Example:
      bd close bd-7 && bd-vpt sync
      bd-vpt sync --dry-run --explain
    """
    from bd_vpt.beads.sync import run
    from bd_vpt.capture import manual
    from bd_vpt.render.output import not_counted_line
    from bd_vpt.render.report import Report

    info, config = open_repo()
    result = run(
        info,
        config,
        since=since,
        dry_run=dry_run,
        actor=manual.resolve_actor(actor, info.root),
        want_explain=explain,
    )
    before = [f"note: {line}" for line in result["source_notes"]]
    if explain:
        lines = [f"{e['bead']}: {e['action']} at {e['ts']}: {e['why']}" for e in result["explain"]]
    else:
        lines = [
            f"{rec['result']:<10} {rec['bead']}  ({rec['ts']}, {rec['actor']}"
            + (f", not counted: {rec['excluded']})" if rec.get("excluded") else ")")
            for rec in result["records"]
        ]
    verb = "would write" if dry_run else "wrote"
    lines.append(f"{verb} {len(result['records'])} outcome(s) from {result['source']}")
    if result["not_counted"]:
        lines.append(not_counted_line(result["not_counted"]))
    show(Report(result, before=before, after=lines), fmt)


def import_options(func: F) -> F:
    for option in reversed(
        (
            click.option(
                "--path",
                type=click.Path(path_type=Path),
                help="Transcripts folder (default: the agent's own).",
            ),
            since_option("Only messages on or after this."),
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


def _import_all(
    kinds: list[str] | None,
    since: str | None,
    all_projects: bool,
    dry_run: bool,
    actor: str | None,
    fmt: str,
    gastown: bool = False,
) -> None:
    """Import several sources (None: every one present) and show one summary."""
    from bd_vpt.capture import manual
    from bd_vpt.capture.agents import SOURCES, detected, run_all
    from bd_vpt.render.report import Report

    info, config = open_repo()
    kinds = detected() if kinds is None else kinds
    result = run_all(
        info,
        config,
        kinds,
        actor=manual.resolve_actor(actor, info.root),
        since=since,
        all_projects=all_projects,
        dry_run=dry_run,
    )
    result.pop("remember")  # done: each import noted the files it read
    if fmt != "json":
        warn_all(price_warnings(result))
    verb = "would write" if dry_run else "wrote"
    lines = []
    if not kinds:
        lines.append("no agent transcripts found here (looked for: " + ", ".join(SOURCES) + ")")
    for part in result["sources"]:
        skipped = sum(part["skipped"].values())
        lines.append(
            f"{part['source']}: {part['files']} file(s), {part['messages']:,} message(s), "
            f"{part['already_imported']:,} already in the ledger, {skipped:,} line(s) skipped"
        )
    lines.append(written_line(result, verb))
    if gastown and "gastown" not in result:
        from bd_vpt.capture.gastown import costs_file

        lines.append(f"Gas Town: no {costs_file()} here (set $GT_HOME to Gas Town's home)")
    rows = result.get("gastown")
    if rows:
        lines.append(
            f"Gas Town: {rows['rows']} row(s) in {rows['file']}, {rows['joined']} "
            f"joined with their agent's transcript"
        )
        alone = rows["without_transcript"]
        if alone:
            lines.append(
                f"  {len(alone)} row(s) with no transcript here "
                f"(${rows['without_transcript_cost_usd']:.4f} as gt priced them) are not "
                "recorded: their token counts are unknown; import that agent's transcripts"
            )
    show(Report(result, after=lines), fmt)


@cli.group("import", invoke_without_command=True)
@since_option("Only messages on or after this.")
@click.option(
    "--all-projects/--project-only",
    default=False,
    help="Sessions of every project, or (default) only those run in this repo or its worktrees.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be written.")
@click.option("--actor", help="Who the usage is recorded for (default: $BD_ACTOR, ...).")
@format_option(*WRITE_FORMATS)
@click.pass_context
def import_(
    ctx: click.Context,
    since: str | None,
    all_projects: bool,
    dry_run: bool,
    actor: str | None,
    fmt: str,
) -> None:
    """Import agents' token usage from their transcripts, attributed to beads.

    With no SOURCE: every source present on this machine (Claude Code, Codex, OpenClaw, pi,
    OpenCode, Gemini CLI), with the beads Gas Town's costs.jsonl names.

    \b
    Examples:
      bd-vpt import
      bd-vpt import claude-code && bd-vpt summary --by bead
    """
    if ctx.invoked_subcommand is None:
        _import_all(None, since, all_projects, dry_run, actor, fmt)


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
    run_one("claude-code", path, since, all_projects, dry_run, actor, hook, fmt)


# One subcommand per agent source with the same options: (name, help with an example).
SOURCE_HELP: tuple[tuple[str, str], ...] = (
    (
        "codex",
        """Codex: $CODEX_HOME/sessions/**/*.jsonl (default ~/.codex).

\b
Example:
  bd-vpt import codex --path ~/.codex/sessions""",
    ),
    (
        "openclaw",
        """OpenClaw: <state>/agents/*/sessions/*.jsonl and their /reset archives.

The state folder is $OPENCLAW_STATE_DIR, else ~/.openclaw ($OPENCLAW_HOME replaces the
home folder) and the legacy ~/.clawdbot. OpenClaw's own cost (often 0) is kept as
reported_cost_usd beside ours; subagents (sessions.json) inherit their parent's bead.
OpenClaw agents usually run in ~/.openclaw/workspace: a session counts for this repo
when it started or ran a command here (else use --all-projects).

\b
Example:
  bd-vpt import openclaw --dry-run""",
    ),
    (
        "pi",
        """pi (Gas Town's pi preset): $PI_CODING_AGENT_DIR/sessions (default ~/.pi/agent).

\b
Example:
  bd-vpt import pi""",
    ),
    (
        "opencode",
        """OpenCode: $XDG_DATA_HOME/opencode (default ~/.local/share/opencode).

Reads opencode.db (1.2 and later) and the legacy storage/ files, each message once.
OpenCode's own cost is kept as reported_cost_usd beside ours.

\b
Example:
  bd-vpt import opencode --since 2026-11-01""",
    ),
    (
        "gemini-cli",
        """Gemini CLI: $GEMINI_CLI_HOME (default ~)/.gemini/tmp/*/chats/.

\b
Example:
  bd-vpt import gemini-cli""",
    ),
)


def _source_command(kind: str, help_text: str) -> None:
    @import_.command(kind, help=help_text)
    @import_options
    def command(
        path: Path | None,
        since: str | None,
        all_projects: bool,
        dry_run: bool,
        actor: str | None,
        fmt: str,
    ) -> None:
        run_one(kind, path, since, all_projects, dry_run, actor, False, fmt)


for _kind, _help in SOURCE_HELP:
    _source_command(_kind, _help)


@import_.command("gastown")
@since_option("Only messages on or after this.")
@click.option(
    "--all-projects/--project-only",
    default=False,
    help="Sessions of every project, or (default) only those run in this repo or its worktrees.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be written.")
@click.option("--actor", help="Who the usage is recorded for (default: $BD_ACTOR, ...).")
@format_option(*WRITE_FORMATS)
def import_gastown(
    since: str | None, all_projects: bool, dry_run: bool, actor: str | None, fmt: str
) -> None:
    """Gas Town: $GT_HOME/.gt/costs.jsonl (default ~/.gt), with the agents it ran.

    A row of costs.jsonl has no token counts: it names the bead (work_item) of an agent
    session. This imports every agent's transcripts present (as `bd-vpt import` does), a
    session without a bead of its own taking its row's work_item, and lists the rows no
    transcript here matches, with gt's cost (not recorded: their tokens are unknown).

    \b
    Example:
      bd-vpt import gastown && bd-vpt summary --by bead
    """
    _import_all(None, since, all_projects, dry_run, actor, fmt, gastown=True)


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
