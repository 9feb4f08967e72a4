"""Ledger records: how they are built and the fast check every read applies.

A record is a plain dict (what orjson gives), so reading a million of them stays cheap.
The fast check covers what reports rely on; `validate` adds the full JSON Schema.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

Record = dict[str, Any]

SCHEMA_VERSION = 1
KINDS = ("usage", "outcome")
RESULTS = ("completed", "reopened", "rejected", "abandoned")
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write", "reasoning")
_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")


def now_ts() -> str:
    return format_ts(datetime.now(UTC))


def format_ts(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds: sortable as text."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # years < 1000 too


def parse_ts(text: str) -> datetime:
    """Parse an RFC 3339 timestamp or a plain date (taken as UTC midnight)."""
    value = text.strip()
    if len(value) == 10:
        value += "T00:00:00Z"
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def new_id(moment: datetime | None = None) -> str:
    from ulid import ULID

    if moment is None:
        return str(ULID())
    return str(ULID.from_datetime(moment))


def _is_unit(value: object) -> bool:
    return type(value) in (int, float) and 0 <= value <= 1  # type: ignore[operator]


def _written_by_us(ts: str) -> bool:
    """The exact shape format_ts writes (2026-11-24T10:00:00.000Z), checked without a regex."""
    return (
        len(ts) == 24
        and ts[23] == "Z"
        and ts[4] == ts[7] == "-"
        and ts[10] == "T"
        and ts[13] == ts[16] == ":"
        and ts[19] == "."
        and (ts[:4] + ts[5:7] + ts[8:10] + ts[11:13] + ts[14:16] + ts[17:19] + ts[20:23]).isdigit()
    )


def check(record: object) -> str | None:
    """Return what is wrong with a record that reports cannot use, or None.

    This mirrors the parts of schema/record.schema.json that figures depend on. It runs on
    every line of every read, so the common case is a handful of exact type tests.
    """
    if type(record) is not dict:
        return f"a record must be a JSON object, not {type(record).__name__}"
    kind = record.get("kind")
    rid = record.get("id")
    ts = record.get("ts")
    v = record.get("v")
    bead = record.get("bead")
    actor = record.get("actor")
    if kind != "usage" and kind != "outcome":
        return f"unknown kind {kind!r} (expected usage or outcome)"
    if type(rid) is not str or not rid:
        return "missing id"
    if type(ts) is not str or not (_written_by_us(ts) or _TS.match(ts)):
        return f"ts must be an RFC 3339 timestamp, got {ts!r}"
    if type(v) is not int or v < 1:
        return f"v must be a positive integer, got {v!r}"
    if bead is not None and (type(bead) is not str or not bead):
        return f"bead must be a string or null, got {bead!r}"
    if type(actor) is not str or not actor:
        return "missing actor"
    if kind == "usage":
        return _check_usage(record)
    return _check_outcome(record)


def _check_usage(record: Record) -> str | None:
    model = record.get("model")
    if type(model) is not str or not model:
        return "usage needs a model"
    tokens = record.get("tokens")
    if type(tokens) is not dict or not tokens:
        return "usage needs a tokens object"
    for name, value in tokens.items():
        if type(value) is not int or value < 0:
            return f"tokens.{name} must be a non-negative integer, got {value!r}"
    cost = record.get("cost_usd")
    if cost is not None and ((type(cost) is not float and type(cost) is not int) or cost < 0):
        return f"cost_usd must be a non-negative number or null, got {cost!r}"
    return None


def _check_outcome(record: Record) -> str | None:
    if record.get("bead") is None:
        return "an outcome needs a bead"
    result = record.get("result")
    if result not in RESULTS:
        return f"unknown result {result!r} (expected one of {', '.join(RESULTS)})"
    completion = record.get("completion")
    if completion is not None and not _is_unit(completion):
        return f"completion must be between 0 and 1, got {completion!r}"
    snapshot = record.get("snapshot")
    if snapshot is not None:
        if not isinstance(snapshot, dict):
            return "snapshot must be an object"
        priority = snapshot.get("priority")
        if priority is not None and (type(priority) is not int or not 0 <= priority <= 4):
            return f"snapshot.priority must be 0..4, got {priority!r}"
    for field in ("value_usd", "human_minutes"):
        value = record.get(field)
        if value is not None and (type(value) not in (int, float) or value < 0):
            return f"{field} must be a non-negative number, got {value!r}"
    return None


def token_total(tokens: dict[str, int], basis: str = "total") -> int:
    """Tokens counted for BC/MT on the configured basis.

    total = input + output + cache_read + cache_write; reasoning is part of output and
    never added again; a record with only `total` (no split) counts that total on any basis.
    """
    if "total" in tokens and not any(k in tokens for k in ("input", "output")):
        return tokens["total"]
    inp = tokens.get("input", 0)
    out = tokens.get("output", 0)
    if basis == "total":
        return inp + out + tokens.get("cache_read", 0) + tokens.get("cache_write", 0)
    if basis == "input_output":
        return inp + out
    if basis == "no_cache_read":
        return inp + out + tokens.get("cache_write", 0)
    if basis == "output":
        return out
    raise ValueError(f"unknown token basis {basis!r}")


def usage_record(
    *,
    bead: str | None,
    actor: str,
    model: str,
    tokens: dict[str, int],
    cost_usd: float | None,
    price_ref: str | None,
    ts: str | None = None,
    source: str = "manual",
    source_ref: str | None = None,
    session: str | None = None,
    provider: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Record:
    moment = parse_ts(ts) if ts else None
    record: Record = {
        "v": SCHEMA_VERSION,
        "id": new_id(),
        "kind": "usage",
        "ts": format_ts(moment) if moment else now_ts(),
        "bead": bead,
        "actor": actor,
        "source": source,
        "source_ref": source_ref,
        "model": model,
        "provider": provider,
        "session": session,
        "tokens": tokens,
        "cost_usd": cost_usd,
        "price_ref": price_ref,
    }
    if extra:
        record.update(extra)
    return record


def outcome_record(
    *,
    bead: str,
    actor: str,
    result: str,
    snapshot: dict[str, Any] | None,
    ts: str | None = None,
    source: str = "manual",
    source_ref: str | None = None,
    completion: float | None = None,
    **fields: Any,
) -> Record:
    moment = parse_ts(ts) if ts else None
    if completion is None:
        completion = 1.0 if result == "completed" else 0.0
    record: Record = {
        "v": SCHEMA_VERSION,
        "id": new_id(),
        "kind": "outcome",
        "ts": format_ts(moment) if moment else now_ts(),
        "bead": bead,
        "actor": actor,
        "source": source,
        "source_ref": source_ref,
        "result": result,
        "completion": completion,
        "snapshot": snapshot,
    }
    record.update({k: v for k, v in fields.items() if v is not None})
    return record
