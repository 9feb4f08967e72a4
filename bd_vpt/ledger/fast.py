"""Typed decoding of the common usage line: a fast way in, never the judge.

A usage line as bd-vpt writes it (kind usage, v 1, known token kinds) is decoded straight into
a struct by msgspec, with the schema's bounds, without building a dict per record. The struct
accepts only lines that `records.check` accepts too, and gives the same values (a test holds
the two together); everything else (outcomes, retractions, newer versions, unknown token
kinds, bad lines) goes the way every line used to: orjson and `check`, with its `path:line`
message. So `check` stays the one validator; this is only its fast lane.

The id and ts patterns are checked over a whole blob at once (see rows.py): a regular
expression over the joined column costs far less than one call per record.

Faster still, a compiled lane (`lane/*.c`, built at install where a C compiler is found) reads a
whole blob: it sums the usage lines it can prove are in bd-vpt's own shape straight into rows
and reads its outcomes into dicts; it hands every other line back to the Python lane. It only
ever takes a subset of what the Python lane takes and gives the same values
(tests/test_lane.py holds the two together). Without it
(no compiler, or BD_VPT_LANE=python), every line goes the Python way, with the same results.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bd_vpt import compiled

Count = Annotated[int, Meta(ge=0, le=10**15)]
Requests = Annotated[int, Meta(ge=1, le=10**15)]
Amount = Annotated[float, Meta(ge=0, le=1e15)]  # an int is read as a float of equal value
Text = Annotated[str, Meta(min_length=1)]


class Tokens(Struct, gc=False, forbid_unknown_fields=True):
    """The token kinds bd-vpt knows; another kind sends the line the slow way."""

    input: Count | UnsetType = UNSET  # present or not decides how a record is counted
    output: Count | UnsetType = UNSET
    cache_read: Count = 0  # absent counts as 0 (records.token_total)
    cache_write: Count = 0
    reasoning: Count = 0
    total: Count | UnsetType = UNSET


class Usage(Struct, gc=False):
    """A v1 usage record: every field `check` looks at, with its bounds."""

    kind: Literal["usage"]
    v: Annotated[int, Meta(ge=1, le=1)]  # a newer version is warned about: the slow way
    id: str  # the ULID pattern: checked per blob
    ts: str  # the RFC 3339 shape bd-vpt writes: checked per blob
    bead: Text | None
    actor: Text
    source: Text
    model: Text
    tokens: Tokens
    cost_usd: Amount | None
    source_ref: str | None = None
    reported_cost_usd: Amount | None = None
    provider: str | None = None
    session: str | None = None
    price_ref: str | None = None
    gt_session: str | UnsetType = UNSET
    messages: Count | UnsetType = UNSET
    requests: Requests | UnsetType = UNSET


DECODE = msgspec.json.Decoder(Usage).decode
MARK = b'"kind":"usage"'  # how bd-vpt writes it: other lines need not try the fast lane
MISSES = (msgspec.ValidationError, msgspec.DecodeError)

# What every fast-decoded id and ts must match, checked over a column joined with newlines:
# a ULID; and the shape format_ts writes (UTC, milliseconds) with a valid clock. Real days
# (no 2026-02-30) are checked once per distinct day.
IDS = re.compile(r"(?:[0-9A-HJKMNP-TV-Z]{26}\n)*\Z")
STAMPS = re.compile(
    r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z\n)*\Z"
)


def columns_ok(ids: list[str], stamps: list[str]) -> bool:
    """Whether every id is a ULID and every ts is a real moment in the shape bd-vpt writes:
    with decode, what makes a line's way fast (check would accept it too)."""
    from bd_vpt.ledger.records import real_day

    return (
        IDS.match("\n".join(ids) + "\n" if ids else "") is not None
        and STAMPS.match("\n".join(stamps) + "\n" if stamps else "") is not None
        and all(map(real_day, {s[:10] for s in stamps}))
    )


def decode(raw: bytes) -> Usage | None:
    """The line as a usage struct, or None: take the slow way. A line with neither input
    nor output tokens (only a total, only cache, none) takes the slow way too: its count
    depends on which kinds it has (records.token_total). Its id and ts: columns_ok."""
    if MARK not in raw:
        return None
    try:
        usage = DECODE(raw)
    except MISSES:
        return None
    tokens = usage.tokens
    if tokens.input is UNSET and tokens.output is UNSET:
        return None
    return usage


# the compiled lane, or None (tests set it to None for the Python way)
LANE = compiled("bd_vpt.ledger._lane")

# rows, id keys (int64), ref keys (uint64), the other lines (index, bytes; or index, an outcome
# the compiled lane read: a dict equal to orjson's), lines read
Taken = tuple[dict[Any, Any], bytes, bytes, list[tuple[int, Any]], int]


def take(data: bytes) -> Taken:
    """A blob (with no torn tail) split between the lanes: the usage lines the compiled lane
    summed (rows, and the id and source_ref keys of every line it read), and every other
    non-blank line, in order, with its 0-based index: the outcomes it read (dicts), and the
    lines left for the Python lane (bytes). Without the compiled lane, or when it leaves the
    whole blob (an id or source_ref repeated among its lines), nothing is taken."""
    if LANE is not None:
        taken: Taken | None = LANE.fold(data)
        if taken is not None:
            return taken
    lines = data.split(b"\n")
    lines.pop()  # after the last newline: blank (the caller checks)
    rest = [(i, raw) for i, raw in enumerate(lines) if raw and not raw.isspace()]
    return {}, b"", b"", rest, len(rest)
