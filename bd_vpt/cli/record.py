"""Commands that write records by hand: record, close, reopen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bd_vpt.cli.options import (
    WRITE_FORMATS,
    F,
    Finite,
    cli,
    format_option,
    open_repo,
    show,
    token_count,
    ts_option,
    warn_all,
)


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
        func = click.option(name, type=token_count(), default=None, help=help_text)(func)
    return func


def _tokens(**counts: int | None) -> dict[str, int]:
    tokens = {k: v for k, v in counts.items() if v is not None and k != "tokens"}
    if counts.get("tokens") is not None:
        tokens["total"] = int(counts["tokens"] or 0)
    return tokens


def _not_blank(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("must not be empty", ctx=ctx, param=param)
    return value


def _written(written: Any, root: Path) -> Any:
    from bd_vpt.ledger.records import token_total
    from bd_vpt.render.report import Report

    warn_all(written.warnings)
    path = str(written.path.relative_to(root)) if written.path else None
    lines = []
    for rec in written.records:
        if rec["kind"] == "usage":
            cost = "cost unknown" if rec["cost_usd"] is None else f"${rec['cost_usd']:.4f}"
            lines.append(
                f"usage {rec['id']} bead={rec['bead'] or '-'} {rec['model']} "
                f"{token_total(rec['tokens']):,} tokens, {cost}"
            )
        elif rec["kind"] == "retraction":
            lines.append(f"retraction {rec['id']} withdraws {rec['retracts']}")
        else:
            lines.append(f"outcome {rec['id']} bead={rec['bead']} {rec['result']}")
    if path:
        lines.append(f"-> {path}")
    return Report({"path": path, "records": written.records}, after=lines)


@cli.command()
@click.argument("bead", callback=_not_blank)
@click.option(
    "--model", "-m", required=True, callback=_not_blank, help="Model id, e.g. claude-sonnet-4-5."
)
@_token_options
@click.option("--cost-usd", type=Finite(min=0), help="Known cost; skips pricing.")
@click.option(
    "--requests",
    type=click.IntRange(min=1, max=10**9),
    default=1,
    show_default=True,
    help="How many model calls the tokens add up (prices tier per call).",
)
@click.option(
    "--actor",
    callback=_not_blank,
    help="Who spent it (default: $BD_ACTOR, $BEADS_ACTOR, git user.name).",
)
@click.option("--session", help="Agent session id.")
@ts_option
@click.option(
    "--source",
    default="manual",
    show_default=True,
    callback=_not_blank,
    help="Where the figure came from.",
)
@click.option(
    "--force", is_flag=True, help="Record it even if the bead facts do not know BEAD (a typo?)."
)
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
    force: bool,
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

    info, config = open_repo()
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
        force=force,
    )
    show(_written(written, info.root), fmt)


@cli.command()
@click.argument("bead", callback=_not_blank)
@click.option("--reason", "-r", help="Close reason (passed to bd close).")
@click.option("--value-usd", type=Finite(min=0), help="Business value of the outcome.")
@click.option("--human-minutes", type=Finite(min=0), help="Human attention it took.")
@click.option("--quality", type=Finite(0, 1), help="Quality score 0..1.")
@click.option("--completion", type=Finite(0, 1), help="Share completed (default 1).")
@click.option("--evidence", help="Link or note: PR, test run, review.")
@click.option("--tokens", type=token_count(), help="Usage to record with it (needs --model).")
@click.option("--model", "-m", callback=_not_blank, help="Model of --tokens.")
@click.option(
    "--actor",
    callback=_not_blank,
    help="Who closed it (default: $BD_ACTOR, $BEADS_ACTOR, git user.name).",
)
@click.option("--no-bd", is_flag=True, help="Do not run `bd close` (already closed in bd).")
@ts_option
@click.option(
    "--force", is_flag=True, help="Record it even if the bead facts do not know BEAD (a typo?)."
)
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
    force: bool,
    fmt: str,
) -> None:
    """Close BEAD in bd, then record the outcome with a snapshot of the bead.

    Runs `bd close -- BEAD` first ($BD names another binary); if bd fails or is not
    there, nothing is written (--no-bd when bd already has it closed). A bead the ledger
    already holds as closed is refused: reopen it first. The snapshot (priority, type,
    labels, title) lets reports run without bd.

    \b
    Examples:
      bd-vpt close bd-42 --reason "merged #311" --human-minutes 15 --value-usd 400
      bd-vpt close bd-42 --tokens 150000 --model claude-sonnet-4-5   # close-bead.sh style
    """
    from bd_vpt.capture import manual

    info, config = open_repo()
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
        force=force,
    )
    show(_written(written, info.root), fmt)


@cli.command()
@click.argument("bead", callback=_not_blank)
@click.option("--reason", "-r", help="Why it came back.")
@click.option("--actor", callback=_not_blank, help="Who reopened it.")
@click.option("--no-bd", is_flag=True, help="Do not run `bd reopen` (already open in bd).")
@ts_option
@click.option(
    "--force", is_flag=True, help="Record it even if the bead facts do not know BEAD (a typo?)."
)
@format_option(*WRITE_FORMATS)
def reopen(
    bead: str,
    reason: str | None,
    actor: str | None,
    no_bd: bool,
    ts: str | None,
    force: bool,
    fmt: str,
) -> None:
    """Record that BEAD was reopened: its earlier completion stops counting.

    \b
    Example:
      bd-vpt reopen bd-42 --reason "regression in CI"
    """
    from bd_vpt.capture import manual

    info, config = open_repo()
    written = manual.reopen(
        info,
        config,
        bead=bead,
        actor=manual.resolve_actor(actor, info.root),
        reason=reason,
        run_bd=not no_bd,
        ts=ts,
        force=force,
    )
    show(_written(written, info.root), fmt)


@cli.command()
@click.argument("record_id", required=False)
@click.option("--reason", "-r", help="Why it is withdrawn (kept in the retraction).")
@click.option("--actor", callback=_not_blank, help="Who withdraws it (default: as for record).")
@format_option(*WRITE_FORMATS)
def undo(record_id: str | None, reason: str | None, actor: str | None, fmt: str) -> None:
    """Withdraw a record: append a retraction that every report honours.

    The ledger stays append-only: the retraction names the record (RECORD_ID, default your
    newest record in this worktree) and no report counts either. A withdrawn capture is not
    captured again by import or sync.

    \b
    Examples:
      bd-vpt undo                      # your last record
      bd-vpt undo 01JD8X3Q4R5S6T7V8W9X0Y1Z2A --reason "wrong bead"
    """
    from bd_vpt.capture import manual
    from bd_vpt.ledger.undo import undo as withdraw

    info, _config = open_repo()
    retraction, _target, path = withdraw(
        info, record_id=record_id, actor=manual.resolve_actor(actor, info.root), reason=reason
    )
    show(_written(manual.Written(path, [retraction]), info.root), fmt)
