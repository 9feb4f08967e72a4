"""One typed report document, rendered in every format by one function.

A command builds a `Report`: the document JSON prints, the table(s) that table, csv and
markdown print, and the text lines around them. `emit` is the only place that chooses by
format, so no command writes its own `if fmt == ...` chain.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from bd_vpt.render.output import render_document, render_rows


@dataclass
class Table:
    rows: list[dict[str, Any]]
    columns: Sequence[str]
    headers: Sequence[str] | None = None
    styles: dict[str, str] = field(default_factory=dict)
    fields: Sequence[str] | None = None  # csv: a fixed set of columns (else what rows hold)


@dataclass
class Report:
    """What a command shows. `document` is the JSON answer (every figure); `tables` and
    `before`/`after` lines are the human view. `text` alone (no tables) is a plain message
    for commands that write records."""

    document: Any
    tables: list[Table] = field(default_factory=list)
    before: list[str] = field(default_factory=list)  # table/markdown/text only
    after: list[str] = field(default_factory=list)  # table/markdown/text only
    jsonl_rows: list[dict[str, Any]] | None = None  # what jsonl streams (default: table rows)
    csv_table: Table | None = None  # what csv writes (default: the first table)
    heading: list[str] = field(default_factory=list)  # the terminal table only, before
    footing: list[str] = field(default_factory=list)  # the terminal table only, after


def emit(report: Report, fmt: str, out: TextIO | None = None) -> None:
    """Render report as json, jsonl, csv, table, markdown or text."""
    out = out or sys.stdout
    if fmt == "json":
        render_document(report.document, out)
        return
    if fmt == "jsonl":
        rows = report.jsonl_rows
        if rows is None:
            rows = [row for table in report.tables for row in table.rows]
        render_rows(rows, [], "jsonl", out)
        return
    if fmt == "csv":
        table = report.csv_table or (report.tables[0] if report.tables else Table([], []))
        render_rows(table.rows, table.columns, "csv", out, fields=table.fields)
        return
    terminal = fmt == "table"
    for line in [*report.before, *(report.heading if terminal else [])]:
        out.write(line + "\n")
    tabular = "markdown" if fmt == "markdown" else "table"
    for index, table in enumerate(report.tables):
        if index:
            out.write("\n")
        render_rows(
            table.rows, table.columns, tabular, out, headers=table.headers, styles=table.styles
        )
    for line in [*report.after, *(report.footing if terminal else [])]:
        out.write(line + "\n")
