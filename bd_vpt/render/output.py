"""The one output layer: every report renders through here.

Documents ({"totals": ..., "groups": [...]}, or any dict) go out as JSON; tables (a list of
flat rows with chosen columns) as table, csv, markdown or jsonl.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import orjson

FORMATS = ("table", "json", "jsonl", "csv", "markdown")


def dumps(document: Any) -> str:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"tokens_by_kind": {"input": 1}} -> {"tokens_by_kind.input": 1}"""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _cell(value: Any, style: str | None = None) -> Any:
    if value is None:
        return "-"
    if style == "pct" and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if style == "usd" and isinstance(value, int | float):
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:,.4f}"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 1000 else f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


def render_rows(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    out: TextIO | None = None,
    *,
    headers: Sequence[str] | None = None,
    styles: dict[str, str] | None = None,
    fields: Sequence[str] | None = None,
) -> None:
    """Render flat rows; nested dicts are flattened for csv and the table picks columns."""
    out = out or sys.stdout
    if fmt == "jsonl":
        for row in rows:  # streamed, row by row
            out.write(orjson.dumps(row).decode() + "\n")
        return
    if fmt == "json":
        out.write(dumps(list(rows)) + "\n")
        return
    if fmt == "csv":
        writer: Any = None
        if fields is not None:  # a fixed set of columns, even with no rows
            writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="ignore")
            writer.writeheader()
        for row in rows:
            flat = flatten(row)
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(flat), extrasaction="ignore")
                writer.writeheader()
            writer.writerow(flat)
        return
    from tabulate import tabulate

    styles = styles or {}
    table = [[_cell(flatten(row).get(c), styles.get(c)) for c in columns] for row in rows]
    tablefmt = "github" if fmt == "markdown" else "simple"
    align = ["left", *["right"] * (len(columns) - 1)]
    out.write(
        tabulate(
            table,
            headers=list(headers or columns),
            tablefmt=tablefmt,
            disable_numparse=True,
            colalign=align,
        )
        + "\n"
    )


def render_document(document: dict[str, Any], out: TextIO | None = None) -> None:
    (out or sys.stdout).write(dumps(document) + "\n")


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    render_rows(rows, [], "csv", buffer)
    return buffer.getvalue()
