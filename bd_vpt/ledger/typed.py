"""The typed decoder of fast.py's lane: a usage line as bd-vpt writes it, decoded by msgspec
into a struct with the schema's bounds (records.check accepts every line it accepts, with the
same values: tests/test_folds.py). Apart from fast.py so that msgspec is imported only when a
line reaches the Python lane."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bd_vpt.ledger.records import Record

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


MARK = b'"kind":"usage"'  # fast.MARK (imported from there, it would make a cycle)
DECODE = msgspec.json.Decoder(Usage).decode
MISSES = (msgspec.ValidationError, msgspec.DecodeError)


def decode(raw: bytes) -> Usage | None:
    """fast.decode, once msgspec is in."""
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


def record_of(usage: Usage) -> Record:
    """The record a decoded line holds, as orjson and check would give it."""
    record: Record = msgspec.structs.asdict(usage)
    record["tokens"] = {
        k: v for k, v in msgspec.structs.asdict(usage.tokens).items() if v is not UNSET
    }
    return record
