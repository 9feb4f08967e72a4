"""Parquet datasets (the optional `parquet` extra: pyarrow), partitioned by month the Hive
way: DIR/usage/month=2026-11/<repo>.parquet and DIR/outcomes/month=2026-11/<repo>.parquet.

Many repositories export into one folder side by side (one file per repository per month),
and any engine reads the folder as one table: DuckDB, Spark, BigQuery, Snowflake.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.errors import VptError

# FOCUS types: Decimal -> float64, DateTime -> timestamp (UTC), the rest by column
TIMESTAMPS = {
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "x_Timestamp",
}


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # loads the writer
    except ImportError:
        raise VptError(
            "--format parquet needs pyarrow, which is not installed",
            hint="pip install 'bd-vpt[parquet]' (or pip install pyarrow)",
        ) from None
    return pyarrow


def _kind(name: str, values: list[Any]) -> str:
    if name in TIMESTAMPS:
        return "timestamp"
    present = [v for v in values if v is not None]
    if not present:
        return "string"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float"
    if any(isinstance(v, dict | list) for v in present):
        return "json"
    return "string"


def _column(pa: Any, kind: str, values: list[Any]) -> Any:
    if kind == "timestamp":
        moments = [
            None if v is None else datetime.fromisoformat(str(v).replace("Z", "+00:00"))
            for v in values
        ]
        return pa.array(moments, type=pa.timestamp("ms", tz="UTC"))
    if kind == "bool":
        return pa.array(values, type=pa.bool_())
    if kind == "int":
        return pa.array(values, type=pa.int64())
    if kind == "float":
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    if kind == "json":
        return pa.array(
            [None if v is None else orjson.dumps(v).decode() for v in values], type=pa.string()
        )
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def write_dataset(
    directory: Path,
    name: str,
    rows: Iterable[dict[str, Any]],
    columns: list[str],
    month_of: Callable[[dict[str, Any]], str],
    stem: str,
) -> list[Path]:
    """Write rows as DIR/name/month=YYYY-MM/stem.parquet, one file per month; returns them.
    Every column is typed from all its values, so each month's file has the same schema."""
    pa = _pyarrow()
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    everything: list[dict[str, Any]] = []
    for row in rows:
        by_month[month_of(row)].append(row)
        everything.append(row)
    kinds = {c: _kind(c, [r.get(c) for r in everything]) for c in columns}
    written = []
    for month in sorted(by_month):
        batch = by_month[month]
        table = pa.table({c: _column(pa, kinds[c], [r.get(c) for r in batch]) for c in columns})
        folder = directory / name / f"month={month}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stem}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        pa.parquet.write_table(table, tmp, compression="zstd")
        tmp.replace(path)
        written.append(path)
    return written
