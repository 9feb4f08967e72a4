"""The one output layer: every report renders through here.

Documents ({"totals": ..., "groups": [...]}, or any dict) go out as JSON; tables (a list of
flat rows with chosen columns) as table, csv, markdown or jsonl.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType
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


def money(value: float | None, *, unknown: bool = False, dollar: bool = False) -> str:
    """Money, one way everywhere: `?` when unknown (some of it has no known price), `-` when
    undefined; cents from $1 up, four decimals below (a cheap bead still shows its cost)."""
    if value is None:
        return "?" if unknown else "-"
    sign = "-" if value < 0 else ""
    amount = abs(value)
    digits = f"{amount:,.2f}" if amount >= 1 or amount == 0 else f"{amount:.4f}"
    return f"{sign}{'$' if dollar else ''}{digits}"


def tokens(value: float | None) -> str:
    """Token counts: whole numbers with thousands separators."""
    return "-" if value is None else f"{int(value):,}"


def rate(value: float | None) -> str:
    """Shares and rates: a percentage with one decimal."""
    return "-" if value is None else f"{value * 100:.1f}%"


def share(value: float | None) -> str:
    """A share that must not round to a whole: 99.99% is `>99.9%`, not `100.0%`."""
    if value is not None and 0.999 < value < 1:
        return ">99.9%"
    if value is not None and 0 < value < 0.001:
        return "<0.1%"
    return rate(value)


def cost_line(figures: dict[str, Any]) -> str:
    """A money total with its priced share: `model cost $412.10, 100% of tokens priced`;
    when part is unpriced, the known part, the share priced and what is missing."""
    if not figures.get("tokens"):
        return "model cost $0.00 (no usage)"
    if not figures.get("unpriced_records"):
        return f"model cost {money(figures.get('cost_usd'), dollar=True)}, 100% of tokens priced"
    return (
        f"model cost ?: {money(figures.get('priced_cost_usd'), dollar=True)} priced, "
        f"{share(figures.get('priced_share'))} of tokens; ? = unknown: "
        f"{figures['unpriced_records']:,} usage record(s), {tokens(figures.get('unpriced_tokens'))}"
        " tokens, on models with no known price (see `bd-vpt prices`)"
    )


def _cell(value: Any, style: str | None = None, unknown: bool = False) -> Any:
    if value is None:
        return "?" if style == "usd" and unknown else "-"
    if style == "pct" and isinstance(value, int | float):
        return rate(value)
    if style == "usd" and isinstance(value, int | float):
        return money(value)
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 1000 else f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return tokens(value)
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
        import csv

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
    tabulating = tabulate_module()
    tabulate = tabulating.tabulate
    tabulating.MIN_PADDING = 0  # columns as wide as their widest cell: tables fit 100 columns
    styles = styles or {}
    table = []
    for row in rows:
        flat = flatten(row)
        unknown = bool(flat.get("unpriced_records"))  # a money figure built on unpriced usage
        table.append([_cell(flat.get(c), styles.get(c), unknown) for c in columns])
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


class _NoMetadata(ModuleNotFoundError):
    """What the stand-in's version() raises (importlib.metadata.PackageNotFoundError is a
    ModuleNotFoundError too)."""


def tabulate_module() -> Any:
    """tabulate, imported without importlib.metadata.

    tabulate 0.10 asks package metadata for its own version as it is imported. Importing
    importlib.metadata (email, zipfile, csv) and scanning sys.path for it took about 20 ms,
    a fifth of a `summary` after an import. When nothing has imported importlib.metadata yet,
    tabulate's import is handed a stand-in whose version() finds nothing (so its
    `__version__` is "unknown"); the stand-in is gone from sys.modules as soon as tabulate is
    in, and a later `import importlib.metadata` gets the real one. bd-vpt imports from no
    thread while a table renders."""
    if "tabulate" in sys.modules or "importlib.metadata" in sys.modules:
        import tabulate

        return tabulate

    def version(name: str) -> str:
        raise _NoMetadata(name)

    stand_in = ModuleType("importlib.metadata")
    stand_in.__dict__.update(version=version, PackageNotFoundError=_NoMetadata)
    sys.modules["importlib.metadata"] = stand_in
    try:
        import tabulate
    finally:
        if sys.modules.get("importlib.metadata") is stand_in:
            del sys.modules["importlib.metadata"]
    return tabulate


def render_document(document: dict[str, Any], out: TextIO | None = None) -> None:
    (out or sys.stdout).write(dumps(document) + "\n")


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    render_rows(rows, [], "csv", buffer)
    return buffer.getvalue()


def not_counted_line(counts: dict[str, int]) -> str:
    """ "12 closes not counted: 9 duplicate, 3 wisp; see `bd-vpt sync --dry-run --explain`"."""
    parts = ", ".join(
        f"{n} {rule}" for rule, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    )
    total = sum(counts.values())
    return (
        f"{total} close{'s' if total != 1 else ''} not counted: {parts}; "
        "see `bd-vpt sync --dry-run --explain`"
    )
