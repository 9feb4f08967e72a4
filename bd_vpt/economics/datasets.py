"""The rows of the Parquet export: usage as FOCUS rows (focus.py) plus x_repo, and outcomes,
each carrying what the reports credit it with.

An outcome row's x_WeightedCompletion is the bead's weighted completion in the report
(priority weight x completion when the bead ends the window closed), put on the bead's
latest outcome in the window and 0 on its others. So over a folder of exports

    sum(x_WeightedCompletion) / (sum(ConsumedQuantity) / 1e6)

is the BC/MT that `bd-vpt summary` and `bd-vpt rollup` report.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bd_vpt.config import Config
from bd_vpt.ledger.records import Record, parse_ts

OUTCOME_COLUMNS = [
    "x_repo",
    "x_RecordId",
    "x_Timestamp",
    "x_Bead",
    "x_BeadTitle",
    "x_BeadPriority",
    "x_BeadType",
    "x_BeadLabels",
    "x_Actor",
    "x_Result",
    "x_Completion",
    "x_HumanMinutes",
    "x_ValueUsd",
    "x_Source",
    "x_WeightedCompletion",
]


def usage_rows(records: list[Record], config: Config, repo: str) -> Iterator[dict[str, Any]]:
    from bd_vpt.economics.focus import rows

    for row in rows(records, config, repo):
        yield {**row, "x_repo": repo}


def outcome_rows(
    records: list[Record], config: Config, repo: str, since: str | None, until: str | None
) -> Iterator[dict[str, Any]]:
    from bd_vpt.economics.metrics import summarize, window

    win = window(since, until)
    credit = {
        g["key"]: g["weighted_completions"]
        for g in summarize(records, config, by="bead", since=since, until=until)["groups"]
    }
    latest: dict[str, tuple[datetime, str]] = {}
    outcomes = [r for r in records if r["kind"] == "outcome" and win.holds(r["ts"])]
    for record in outcomes:
        key = (parse_ts(record["ts"]), record["id"])
        if record["bead"] not in latest or key > latest[record["bead"]]:
            latest[record["bead"]] = key
    for record in outcomes:
        snapshot = record.get("snapshot") or {}
        last = latest[record["bead"]] == (parse_ts(record["ts"]), record["id"])
        yield {
            "x_repo": repo,
            "x_RecordId": record["id"],
            "x_Timestamp": record["ts"],
            "x_Bead": record["bead"],
            "x_BeadTitle": snapshot.get("title"),
            "x_BeadPriority": snapshot.get("priority"),
            "x_BeadType": snapshot.get("type"),
            "x_BeadLabels": snapshot.get("labels") or [],
            "x_Actor": record["actor"],
            "x_Result": record["result"],
            "x_Completion": record.get("completion"),
            "x_HumanMinutes": record.get("human_minutes"),
            "x_ValueUsd": record.get("value_usd"),
            "x_Source": record.get("source"),
            "x_WeightedCompletion": float(credit.get(record["bead"], 0.0)) if last else 0.0,
        }


def month_of_usage(row: dict[str, Any]) -> str:
    return str(row["ChargePeriodStart"])[:7]


def month_of_outcome(row: dict[str, Any]) -> str:
    return parse_ts(row["x_Timestamp"]).strftime("%Y-%m")
