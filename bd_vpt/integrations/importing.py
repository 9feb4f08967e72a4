"""`bd-vpt import SOURCE`: one importer run and what it wrote shown. Click-free (and outside
bd_vpt.cli, whose package imports click and every command), so that `bd-vpt import
claude-code [--hook]`, which Claude Code's hook runs after every reply, starts without them
(see bd_vpt.launch); the click command calls the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bd_vpt.errors import warn


def plain(kind: str, hook: bool) -> int:
    """`bd-vpt import KIND` or `bd-vpt import KIND --hook`, every other option at its default:
    what the click command prints and its exit code (errors included)."""
    from bd_vpt.integrations.plain import run_plain

    return run_plain(lambda: run_one(kind, None, None, False, False, None, hook, "text"))


def run_one(
    kind: str,
    path: Path | None,
    since: str | None,
    all_projects: bool,
    dry_run: bool,
    actor: str | None,
    hook: bool,
    fmt: str,
) -> None:
    """`bd-vpt import KIND` (the click command parses, this runs it)."""
    import sys

    import orjson

    from bd_vpt.capture import manual
    from bd_vpt.capture.agents import run_import
    from bd_vpt.config import here
    from bd_vpt.render.report import Report, emit

    info, config = here()
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
    if fmt != "json":
        for text in price_warnings(result):
            warn(text)
    verb = "would write" if dry_run else "wrote"
    lines = [
        f"{result['files']} file(s), {result['messages']:,} message(s) "
        f"({result['duplicates']:,} duplicate line(s), {result['already_imported']:,} "
        f"already in the ledger)"
    ]
    if result["skipped"]:
        lines.append(
            "skipped: " + ", ".join(f"{n:,} {why}" for why, n in result["skipped"].items())
        )
    lines.append(written_line(result, verb))
    emit(Report(result, after=lines), fmt)


def price_warnings(result: dict[str, Any]) -> list[str]:
    """One warning per model an import met with no known price."""
    return [f"no known price for model {m!r}: cost_usd left null" for m in result["unknown_models"]]


def written_line(result: dict[str, Any], verb: str) -> str:
    """What an import wrote: records, tokens, the cost (unknown is not zero: "?" with the
    priced part), the agent's own figure when it logs one, and the tokens with no bead."""
    reported = result["reported_cost_usd"]
    return (
        f"{verb} {len(result['records'])} usage record(s): {result['tokens']:,} tokens, "
        + (
            f"${result['cost_usd']:.4f}"
            if result["cost_usd"] is not None
            else f"cost ? (${result['priced_cost_usd']:.4f} priced; "
            f"{result['unpriced_records']:,} record(s) of no known price)"
        )
        + (f" (the agent's own figure: ${reported:.4f})" if reported is not None else "")
        + f"; {result['unattributed_tokens']:,} tokens with no bead"
    )
