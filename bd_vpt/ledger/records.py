"""Ledger records: how they are built, and the one check every read and every write applies.

A record is a plain dict (what orjson gives), so reading a million of them stays cheap.
`check` accepts exactly what schema/record.schema.json accepts (a test holds the two
together), with plain type tests so that the common case stays fast.
"""

from __future__ import annotations

import math
import os
import re
import time
from datetime import UTC, date, datetime
from typing import Any

Record = dict[str, Any]

SCHEMA_VERSION = 1
KINDS = ("usage", "outcome", "retraction")
RESULTS = ("completed", "reopened", "rejected", "abandoned")
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write", "reasoning")
MAX_COUNT = 10**15  # any token count, messages, requests: far above real figures, exact in a double
MAX_AMOUNT = 1e15  # dollars and minutes
_TS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})\Z"
)


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
    if len(text) == 24 and text[23] == "Z" and text[0].isdigit():  # format_ts: 3.11 reads Z
        return datetime.fromisoformat(text)
    value = text.strip()
    if len(value) == 10:
        value += "T00:00:00Z"
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # a ULID's 32 digits
_LAST = [0, 0]  # the milliseconds and random part of the last id made now (see new_id)


def new_id(moment: datetime | None = None) -> str:
    """A ULID: 48 bits of Unix milliseconds (now, or the moment's), 80 random bits, as 26
    digits of Crockford's base 32. Ids made now in one millisecond increase (the random
    part of the last plus one), so the newest of a process is the greatest, as `undo` finds
    it. (Made here, not by python-ulid: importing that reads every installed package's
    metadata, 10 ms of each command that writes.)"""
    if moment is None:
        ms = time.time_ns() // 1_000_000
        if ms == _LAST[0] and _LAST[1] < 2**80 - 1:
            rand = _LAST[1] + 1
        else:
            rand = int.from_bytes(os.urandom(10))
        _LAST[0], _LAST[1] = ms, rand
    else:
        ms, rand = int(moment.timestamp() * 1000), int.from_bytes(os.urandom(10))
    value = (ms & (2**48 - 1)) << 80 | rand
    digits = _CROCKFORD
    return "".join([digits[(value >> shift) & 31] for shift in range(125, -1, -5)])


def _forked() -> None:
    _LAST[0] = _LAST[1] = 0  # (a forked process makes its own random parts)


if hasattr(os, "register_at_fork"):  # (not on Windows, where nothing forks)
    os.register_at_fork(after_in_child=_forked)


_GOOD_DAYS: set[str] = set()  # YYYY-MM-DD already found to be real dates (days repeat)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def real_day(day: str) -> bool:
    """YYYY-MM-DD naming a day that exists (the schema's date check)."""
    if day in _GOOD_DAYS:
        return True
    if not _DAY.match(day):
        return False
    try:
        date(int(day[:4]), int(day[5:7]), int(day[8:10]))
    except ValueError:
        return False
    if len(_GOOD_DAYS) < 100_000:
        _GOOD_DAYS.add(day)
    return True


def ts_ok(ts: object) -> bool:
    """An RFC 3339 time (the schema's pattern) that is a real moment in years 0001..9999
    once normalised to UTC; the schema's `date-time` format is checked by this function."""
    if type(ts) is not str:
        return False
    if (
        len(ts) == 24
        and ts[23] == "Z"
        and ts[10] == "T"
        and ts[13] == ts[16] == ":"
        and ts[19] == "."
    ):
        # the shape format_ts writes (2026-11-24T10:00:00.000Z): no parsing needed
        clock = ts[11:13] + ts[14:16] + ts[17:19] + ts[20:23]
        return (
            clock.isascii()
            and clock.isdigit()
            and ts[11:13] <= "23"
            and ts[14:16] <= "59"
            and ts[17:19] <= "59"
            and real_day(ts[:10])
        )
    if not _TS.match(ts):
        return False
    try:
        datetime.fromisoformat(ts[:-1] + "+00:00" if ts[-1] == "Z" else ts).astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return True


_ULID_RE = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def _ulid(value: object) -> bool:
    return type(value) is str and _ULID_RE.fullmatch(value) is not None


def _count(value: object, low: int = 0) -> bool:
    return type(value) is int and low <= value <= MAX_COUNT


def _amount(value: object, high: float = MAX_AMOUNT) -> bool:
    t = type(value)
    if t is int:
        return 0 <= value <= high  # type: ignore[operator]
    return t is float and math.isfinite(value) and 0 <= value <= high  # type: ignore[arg-type,operator]


def _text(value: object) -> bool:
    return value is None or type(value) is str


def check(record: object) -> str | None:
    if type(record) is not dict:
        return f"a record must be a JSON object, not {type(record).__name__}"
    kind = record.get("kind")
    if kind == "outcome" and _outcome_taken(record):
        return None
    if kind != "usage" and kind != "outcome" and kind != "retraction":
        return f"unknown kind {kind!r} (expected usage, outcome or retraction)"
    v = record.get("v")
    if type(v) is not int or v < 1:
        return f"v must be a positive integer, got {v!r}"
    rid = record.get("id")
    if not _ulid(rid):
        return f"id must be a ULID (26 characters of 0-9A-Z without I, L, O, U), got {rid!r}"
    ts = record.get("ts")
    if not ts_ok(ts):
        return f"ts must be an RFC 3339 time in years 0001..9999 (UTC), got {ts!r}"
    if "bead" not in record:
        return "missing bead (null for usage no bead claimed)"
    bead = record["bead"]
    if bead is not None and (type(bead) is not str or not bead):
        return f"bead must be a non-empty string or null, got {bead!r}"
    actor = record.get("actor")
    if type(actor) is not str or not actor:
        return f"actor must be a non-empty string, got {actor!r}"
    source = record.get("source")
    if type(source) is not str or not source:
        return f"source must be a non-empty string, got {source!r}"
    if not _text(record.get("source_ref")):
        return f"source_ref must be a string or null, got {record.get('source_ref')!r}"
    if kind == "usage":
        return _check_usage(record)
    if kind == "outcome":
        return _check_outcome(record)
    retracts = record.get("retracts")
    if not _ulid(retracts):
        return f"retracts must be the id (a ULID) of the record withdrawn, got {retracts!r}"
    if not _text(record.get("reason")):
        return "reason must be a string or null"
    return None


_TAKE: Any = None  # the outcome struct's converter, made on first use (msgspec)


def _outcome_taken(record: Record) -> bool:
    """An outcome in the shape bd-vpt writes (v 1), checked at once by a typed struct with
    the schema's bounds: a fast lane, never the judge. It takes only records the rules below
    accept (the validator tests hold the two together); any other goes through the rules,
    which say what is wrong."""
    global _TAKE
    if _TAKE is None:
        _TAKE = _outcome_struct()
    try:
        _TAKE(record)
    except ValueError:  # msgspec.ValidationError
        return False
    return _ulid(record["id"]) and ts_ok(record["ts"])


def _outcome_struct() -> Any:
    from functools import partial
    from typing import Annotated, Literal

    import msgspec
    from msgspec import UNSET, Meta, UnsetType

    amount = Annotated[float, Meta(ge=0, le=MAX_AMOUNT)]  # an int is taken as a float
    unit = Annotated[float, Meta(ge=0, le=1)]
    text = Annotated[str, Meta(min_length=1)]
    snapshot = msgspec.defstruct(
        "Snapshot",
        [
            ("priority", Annotated[int, Meta(ge=0, le=4)] | None, None),
            ("type", str | None, None),
            ("title", str | None, None),
            ("labels", list[str] | UnsetType, UNSET),
        ],
    )
    outcome = msgspec.defstruct(
        "Outcome",
        [
            ("kind", Literal["outcome"]),
            ("v", Annotated[int, Meta(ge=1, le=1)]),  # a newer version: the rules warn
            ("id", str),  # the ULID and RFC 3339 patterns: checked after
            ("ts", str),
            ("bead", text),
            ("actor", text),
            ("source", text),
            ("result", Literal[RESULTS]),
            ("source_ref", str | None, None),
            ("completion", unit | UnsetType, UNSET),
            ("snapshot", snapshot | None, None),
            ("value_usd", amount | None, None),
            ("human_minutes", amount | None, None),
            ("quality", unit | None, None),
            ("confidence", unit | None, None),
            ("reason", str | None, None),
            ("evidence", str | None, None),
            ("commit", str | None, None),
        ],
    )
    return partial(msgspec.convert, type=outcome)


def _check_usage(record: Record) -> str | None:
    model = record.get("model")
    if type(model) is not str or not model:
        return f"usage needs a model (a non-empty string), got {model!r}"
    tokens = record.get("tokens")
    if type(tokens) is not dict or not tokens:
        return "usage needs a tokens object with at least one count"
    for name, value in tokens.items():
        if not _count(value):
            return f"tokens.{name} must be an integer 0..10^15, got {value!r}"
    if "cost_usd" not in record:
        return "usage needs cost_usd (null when the price is unknown)"
    for field in ("cost_usd", "reported_cost_usd"):
        cost = record.get(field)
        if cost is not None and not _amount(cost):
            return f"{field} must be a finite number 0..10^15 or null, got {cost!r}"
    if "gt_session" in record and type(record["gt_session"]) is not str:
        return f"gt_session must be a string, got {record['gt_session']!r}"
    for name in ("provider", "session", "price_ref"):
        if not _text(record.get(name)):
            return f"{name} must be a string or null, got {record.get(name)!r}"
    if "messages" in record and not _count(record["messages"]):
        return f"messages must be an integer 0..10^15, got {record['messages']!r}"
    if "requests" in record and not _count(record["requests"], 1):
        return f"requests must be an integer 1..10^15, got {record['requests']!r}"
    return None


def _unit(value: object) -> bool:
    return _amount(value, 1)


def _check_outcome(record: Record) -> str | None:
    bead = record.get("bead")
    if type(bead) is not str:
        return "an outcome needs a bead"
    result = record.get("result")
    if result not in RESULTS or type(result) is not str:
        return f"unknown result {result!r} (expected one of {', '.join(RESULTS)})"
    if "completion" in record and not _unit(record["completion"]):
        return f"completion must be a number 0..1, got {record['completion']!r}"
    snapshot = record.get("snapshot")
    if snapshot is not None:
        if type(snapshot) is not dict:
            return "snapshot must be an object or null"
        priority = snapshot.get("priority")
        if priority is not None and (type(priority) is not int or not 0 <= priority <= 4):
            return f"snapshot.priority must be 0..4 or null, got {priority!r}"
        for name in ("type", "title"):
            if not _text(snapshot.get(name)):
                return f"snapshot.{name} must be a string or null"
        if "labels" in snapshot:
            labels = snapshot["labels"]
            if type(labels) is not list or any(type(x) is not str for x in labels):
                return "snapshot.labels must be a list of strings"
    for name in ("value_usd", "human_minutes"):
        value = record.get(name)
        if value is not None and not _amount(value):
            return f"{name} must be a finite number 0..10^15 or null, got {value!r}"
    for name in ("quality", "confidence"):
        value = record.get(name)
        if value is not None and not _unit(value):
            return f"{name} must be a number 0..1 or null, got {value!r}"
    for name in ("reason", "evidence", "commit"):
        if not _text(record.get(name)):
            return f"{name} must be a string or null"
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
