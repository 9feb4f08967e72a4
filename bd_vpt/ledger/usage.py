"""What usage records add up to: rows of exact sums per (bead, actor, model, UTC day).

The pure half of the per-blob fold (ledger/rows.py): economics folds records into the same
rows, so the folded route and the record route meet in one shape:
- key (bead, actor, model, day, shape, cut, session): shape says whether the records were
  priced and whether their tokens were split into kinds (records.token_total counts an
  unsplit record's `total`); cut is 0 when the day alone places the records in or out of a
  window, or 1/2 (inside/outside) for the day a window's end cuts, placed record by record;
- value [records, input, output, cache_read, cache_write, reasoning, unsplit total, cost,
  first ts]: integers, cost in picodollars (10^-12 USD), so sums are exact and never depend
  on the order blobs or records are added in; first ts is the smallest `ts` text (a
  session's start, for the spike alert).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bd_vpt.ledger.records import Record, parse_ts

RowKey = tuple[Any, ...]  # (bead | None, actor, model, day, shape, cut, session | None)
Row = list[Any]  # [records, input, output, cache_read, cache_write, reasoning, total, cost, ts]
UNPRICED, UNSPLIT = 1, 2  # shape bits
BY_DAY, INSIDE, OUTSIDE = 0, 1, 2  # cut
PICO = 10**12
COST, FIRST = 7, 8


def merge_row(have: Row, row: Row) -> None:
    """Add row into have (sums, and the earlier first ts)."""
    for i in range(COST + 1):
        have[i] += row[i]
    if row[FIRST] < have[FIRST]:
        have[FIRST] = row[FIRST]


def counted(row: Row, shape: int, basis: str) -> int:
    """A row's tokens on the configured basis (records.token_total, summed: it is linear)."""
    if shape & UNSPLIT:
        return int(row[6])
    inp, out, cread, cwrite = row[1], row[2], row[3], row[4]
    if basis == "total":
        return int(inp + out + cread + cwrite)
    if basis == "input_output":
        return int(inp + out)
    if basis == "no_cache_read":
        return int(inp + out + cwrite)
    if basis == "output":
        return int(out)
    raise ValueError(f"unknown token basis {basis!r}")


def pico(cost: float) -> int:
    """A cost in picodollars: an exact integer, so any order of adding gives one sum."""
    return round(cost * PICO)


def add_usage(rows: dict[RowKey, Row], record: Record, day: str, cut: int = BY_DAY) -> None:
    """Add one checked usage record (a dict) to rows."""
    tokens = record["tokens"]
    get = tokens.get
    split = "input" in tokens or "output" in tokens or "total" not in tokens
    cost = record["cost_usd"]
    shape = (0 if split else UNSPLIT) | (UNPRICED if cost is None else 0)
    ts = record["ts"]
    key = (record["bead"], record["actor"], record["model"], day, shape, cut, record.get("session"))
    row = rows.get(key)
    if row is None:
        row = rows[key] = [0, 0, 0, 0, 0, 0, 0, 0, ts]
    elif ts < row[FIRST]:
        row[FIRST] = ts
    row[0] += 1
    row[1] += get("input", 0)
    row[2] += get("output", 0)
    row[3] += get("cache_read", 0)
    row[4] += get("cache_write", 0)
    row[5] += get("reasoning", 0)
    if not split:
        row[6] += tokens["total"]
    if cost is not None:
        row[COST] += pico(cost)


def utc_day(ts: str) -> str:
    if ts[-1] == "Z":
        return ts[:10]
    return parse_ts(ts).date().isoformat()


def fold_records(
    records: Iterable[Record], cut: Any = None
) -> tuple[dict[RowKey, Row], list[Record]]:
    """(usage rows, outcomes) of records already read and deduped (the record route).
    cut: a window (metrics.Window) that places each record itself, for a window that cuts a
    day; None: the day decides."""
    rows: dict[RowKey, Row] = {}
    outcomes: list[Record] = []
    for record in records:
        kind = record["kind"]
        if kind == "outcome":
            outcomes.append(record)
        elif kind == "usage":
            ts = record["ts"]
            where = BY_DAY if cut is None else (INSIDE if cut.holds(ts) else OUTSIDE)
            add_usage(rows, record, utc_day(ts), where)
    return rows, outcomes
