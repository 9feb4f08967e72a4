"""Typed decoding of the common usage line: a fast way in, never the judge.

A usage line as bd-vpt writes it (kind usage, v 1, known token kinds) is decoded straight into
a struct by msgspec, with the schema's bounds, without building a dict per record. The struct
accepts only lines that `records.check` accepts too, and gives the same values (a test holds
the two together); everything else (outcomes, retractions, newer versions, unknown token
kinds, bad lines) goes the way every line used to: orjson and `check`, with its `path:line`
message. So `check` stays the one validator; this is only its fast lane.

The structs are in typed.py, imported on first use. The id and ts patterns are checked over a whole blob at once (see rows.py): a regular
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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bd_vpt import compiled

if TYPE_CHECKING:
    from bd_vpt.ledger.typed import Usage

MARK = b'"kind":"usage"'  # how bd-vpt writes it: other lines need not try the fast lane

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


def _first(raw: bytes) -> Usage | None:
    """decode's first call: msgspec is imported on the first line that reaches the Python
    lane (a report whose lines the compiled lane all takes never imports it); from then on,
    decode is typed.decode itself."""
    global decode
    from bd_vpt.ledger.typed import decode as typed

    decode = typed
    return typed(raw)


# The line as a usage struct (ledger/typed.py), or None: take the slow way. A line with
# neither input nor output tokens (only a total, only cache, none) takes the slow way too:
# its count depends on which kinds it has (records.token_total). Its id and ts: columns_ok.
decode: Callable[[bytes], Usage | None] = _first


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
