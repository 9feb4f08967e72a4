"""`bd-vpt prices`: which table priced each model, today's price, the spellings that name it,
and `prices set` to write an override into config.toml."""

from __future__ import annotations

from typing import Any

import click

from bd_vpt.cli.options import REPORT_FORMATS, Finite, cli, format_option, open_repo, show


def _usd(value: float | None) -> str:
    from bd_vpt.render.output import money

    return money(value)


@cli.group(invoke_without_command=True)
@click.option("--aliases", is_flag=True, help="List each model id, its canonical name and entry.")
@format_option(*REPORT_FORMATS)
@click.pass_context
def prices(ctx: click.Context, aliases: bool, fmt: str) -> None:
    """Which table priced each model of the ledger (and on which dates), and its price today.

    A model with no known price is listed with `?`: its cost is unknown, never $0. Prices
    are USD per million tokens. `--aliases` lists every model id the ledger holds with its
    canonical name (what reports group by) and the price-table entry it maps to.

    \b
    Examples:
      bd-vpt prices
      bd-vpt prices --aliases
      bd-vpt prices set llama3 --input 0 --output 0     # a local model: free, on purpose
    """
    if ctx.invoked_subcommand is not None:
        return
    from datetime import UTC, datetime

    from bd_vpt.economics.catalogue import aliases as alias_rows
    from bd_vpt.economics.catalogue import catalogue
    from bd_vpt.ledger.view import finish, open_view
    from bd_vpt.render.report import Report, Table

    info, config = open_repo()
    view = open_view(info)
    records = list(view.records())
    finish(view.scan, strict=False)
    now = datetime.now(UTC)
    if aliases:
        rows = alias_rows(records, now, config)
        table = Table(
            [{**r, "price_entry": r["price_entry"] or "? (no known price)"} for r in rows],
            ("id", "canonical", "host", "price_entry", "records"),
            ("model id", "canonical", "host", "price entry", "records"),
        )
        show(Report({"aliases": rows}, [table]), fmt)
        return
    models = catalogue(records, config, now)
    flat = [row for m in models for row in _flat(m)]
    table = Table(
        flat,
        ("model", "unpriced_records", "priced_by", "days", "input", "output"),
        ("model", "unpriced", "priced by", "days", "in $/Mtok", "out $/Mtok"),
    )
    versions = sorted(
        {t["table"].split(" ")[1] for m in models for t in m["priced_by"] if " " in t["table"]}
    )
    before = [f"priced by genai-prices {', '.join(versions)} (bundled data)"] if versions else []
    after = ["today's price per million tokens: in / out; ? = no known price (cost unknown)"]
    if any(m["unpriced_records"] for m in models):
        after.append(
            "`bd-vpt prices set MODEL --input USD --output USD` prices new records of a model"
        )
    show(Report({"models": models}, [table], before=before, after=after), fmt)


def _days(first: str | None, last: str | None) -> str:
    if not first or not last:
        return ""
    if first == last:
        return first
    return f"{first}..{last[5:] if last[:4] == first[:4] else last}"


def _flat(model: dict[str, Any]) -> list[dict[str, Any]]:
    """One line per table that priced the model (the first carries the model's figures)."""
    today = model["today"]
    known = today["source"] is not None
    tables = model["priced_by"] or [{"table": "-", "first_day": None, "last_day": None}]
    lines = []
    for index, table in enumerate(tables):
        entry = table["table"]
        entry = entry.split(" ", 2)[2] if entry.startswith("genai-prices ") else entry
        lines.append(
            {
                "model": model["model"] if index == 0 else "",
                "unpriced_records": model["unpriced_records"] if index == 0 else "",
                "priced_by": entry,
                "days": _days(table["first_day"], table["last_day"]),
                "input": (_usd(today["input"]) if known else "?") if index == 0 else "",
                "output": (_usd(today["output"]) if known else "?") if index == 0 else "",
            }
        )
    return lines


@prices.command("set")
@click.argument("model")
@click.option("--input", "input_", type=Finite(min=0), required=True, help="USD per Mtok in.")
@click.option("--output", type=Finite(min=0), required=True, help="USD per Mtok out.")
@click.option("--cache-read", type=Finite(min=0), help="USD per Mtok read from cache.")
@click.option("--cache-write", type=Finite(min=0), help="USD per Mtok written to cache.")
def prices_set(
    model: str,
    input_: float,
    output: float,
    cache_read: float | None,
    cache_write: float | None,
) -> None:
    """Write a price override for MODEL into config.toml [prices] (USD per million tokens).

    The override is keyed by the model's canonical name, so every spelling of it is
    priced. It prices records captured from now on: records already in the ledger keep the
    cost they were captured with (history never silently reprices).

    \b
    Examples:
      bd-vpt prices set claude-sonnet-4-5 --input 3 --output 15 --cache-read 0.3
      bd-vpt prices set llama3 --input 0 --output 0
    """
    from datetime import UTC, datetime

    from bd_vpt import config as config_file
    from bd_vpt.economics.modelnames import canonical

    info, config = open_repo()
    name = canonical(model)
    table: dict[str, float] = {"input": input_, "output": output}
    if cache_read is not None:
        table["cache_read"] = cache_read
    if cache_write is not None:
        table["cache_write"] = cache_write
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    document = dict(config.raw) or config_file.default_document(config.sync_since or today)
    stored = dict(document.get("prices", {}))
    before = stored.get(name)
    stored[name] = table
    document["prices"] = stored
    config_file.from_document(document, str(config_file.CONFIG_PATH))  # still valid
    config_file.write(info.root, document)
    said = ", ".join(f"{k} ${v:g}" for k, v in table.items())
    verb = "replaced" if before is not None else "set"
    click.echo(f"price of {name} {verb}: {said} per million tokens ({config_file.CONFIG_PATH})")
    if name != model:
        click.echo(f"{model} is written as its canonical name {name}: every spelling is priced")
    click.echo("records already in the ledger keep the cost they were captured with")
