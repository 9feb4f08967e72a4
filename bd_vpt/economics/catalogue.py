"""What `bd-vpt prices` shows: for each model the ledger holds, which table priced its records
(and on which dates), what it would be priced at today, and the spellings that name it.
Pure functions over records (the price data is read through pricing.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bd_vpt.config import Config
from bd_vpt.economics.modelnames import parse
from bd_vpt.economics.pricing import rates
from bd_vpt.ledger.records import Record, token_total


def _table_and_day(ref: str) -> tuple[str, str | None]:
    """ "genai-prices 0.2.3 anthropic/claude-sonnet-4-5 2026-11-02" -> (table, day)."""
    if ref.startswith("genai-prices "):
        head, _, day = ref.rpartition(" ")
        return head, day
    return ref, None


def catalogue(records: Iterable[Record], config: Config, moment: datetime) -> list[dict[str, Any]]:
    """One row per canonical model: records, tokens, how many are unpriced, the tables that
    priced them with their first and last day, the spellings seen, and today's price."""
    seen: dict[str, dict[str, Any]] = {}
    for record in records:
        if record["kind"] != "usage":
            continue
        name = parse(record["model"]).canonical
        row = seen.get(name)
        if row is None:
            row = seen[name] = {
                "model": name,
                "records": 0,
                "tokens": 0,
                "unpriced_records": 0,
                "spellings": defaultdict(int),
                "tables": {},
            }
        row["records"] += 1
        row["tokens"] += token_total(record["tokens"], config.token_basis)
        row["spellings"][record["model"]] += 1
        ref = record.get("price_ref")
        if record.get("cost_usd") is None:
            row["unpriced_records"] += 1
        elif ref:
            table, day = _table_and_day(ref)
            first, last = row["tables"].get(table, (day, day))
            if day is not None:
                first, last = min(first or day, day), max(last or day, day)
            row["tables"][table] = (first, last)
    out = []
    for name, row in sorted(seen.items(), key=lambda kv: (-kv[1]["tokens"], kv[0])):
        today = rates(name, moment, config)
        out.append(
            {
                "model": name,
                "records": row["records"],
                "tokens": row["tokens"],
                "unpriced_records": row["unpriced_records"],
                "priced_by": [
                    {"table": table, "first_day": first, "last_day": last}
                    for table, (first, last) in sorted(row["tables"].items())
                ],
                "spellings": dict(sorted(row["spellings"].items())),
                "today": today,
            }
        )
    return out


def aliases(records: Iterable[Record], moment: datetime, config: Config) -> list[dict[str, Any]]:
    """Each model id the ledger holds: its canonical name, the cloud it names, and the
    price-table entry it maps to (genai-prices matches dated, -latest, Vertex and dotted
    spellings to one entry; a config override names itself)."""
    from bd_vpt.economics.pricing import lookup, override

    ids: dict[str, int] = defaultdict(int)
    for record in records:
        if record["kind"] == "usage":
            ids[record["model"]] += 1
    rows = []
    for raw in sorted(ids):
        name = parse(raw)
        found = override(raw, config)
        if found is not None:
            entry: str | None = f"config:prices.{found[0]}"
        else:
            calc = lookup(raw, moment)
            entry = f"{calc.provider.id}/{calc.model.id}" if calc is not None else None
        rows.append(
            {
                "id": raw,
                "canonical": name.canonical,
                "host": name.host,
                "maker": name.maker,
                "price_entry": entry,
                "records": ids[raw],
            }
        )
    return rows
