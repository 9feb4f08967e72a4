"""One Claude Code transcript line read in Python: the judge of every line the compiled
reader (lane/claude.c) does not take, and the whole reader where it is not built.

A line is decoded narrowly (msgspec: only the fields read, nothing else built) when it is
valid UTF-8; a line that does not fit that shape is decoded in full (orjson) and judged by
message_of(), so both decoders count and keep the same. (One difference: a number beyond a
double's range, 1e400, in a field never read makes orjson refuse the line as malformed;
msgspec reads past it, and the usage is kept.)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
import orjson

from bd_vpt.capture.transcripts import Message, Stats, inside, stamp_day
from bd_vpt.ledger.records import parse_ts


def read_line(
    item: tuple[int, bytes],
    plain: bool,
    path: Path,
    allowed: list[str] | None,
    stats: Stats,
    known_cwds: dict[str, bool],
) -> Message | None:
    """A line's message, read in Python: decoded narrowly when it is valid UTF-8 (plain: the
    whole text is ASCII), else (or when it does not fit the narrow shape) in full."""
    number, line = item
    if plain or line.isascii() or _utf8(line):
        try:
            return _fast(_DECODER.decode(line), path, number, allowed, stats, known_cwds)
        except msgspec.DecodeError:  # (a ValidationError too) not the usual shape
            pass
    try:
        entry = orjson.loads(line)
    except orjson.JSONDecodeError:
        stats.skip("malformed JSON")
        return None
    return message_of(entry, path, number, allowed, stats, known_cwds)


def _utf8(line: bytes) -> bool:
    try:
        line.decode()
    except UnicodeDecodeError:
        return False
    return True


# The fields of a usage line that are read, and nothing else (msgspec skips the rest unbuilt).
# A value of another type than the one given here (a model that is not a string, message or
# usage not an object, ...) fails to decode and the line goes to message_of(), which judges it.
# A token count: an int64 (orjson reads a larger one as a float, and _message() counts the
# line as missing fields); anything else sends the line to _message().
_Count = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _CacheCreation(msgspec.Struct, gc=False):
    ephemeral_1h_input_tokens: _Count = 0


class _Usage(msgspec.Struct, gc=False):
    input_tokens: _Count | None = None
    output_tokens: _Count | None = None
    cache_read_input_tokens: _Count = 0
    cache_creation_input_tokens: _Count = 0
    cache_creation: _CacheCreation | None = None


class _Input(msgspec.Struct, gc=False):
    command: str | None = None


class _Block(msgspec.Struct, gc=False):
    type: str | None = None
    input: _Input | None = None


class _Body(msgspec.Struct, gc=False):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None
    content: list[_Block] | None = None


class _Entry(msgspec.Struct, gc=False):
    message: _Body | None = None
    timestamp: str | None = None
    sessionId: str | None = None  # (the transcript's own names)
    requestId: str | None = None
    isSidechain: Any = None
    cwd: str | None = None


_DECODER = msgspec.json.Decoder(_Entry)


def _fast(
    entry: _Entry,
    path: Path,
    number: int,
    allowed: list[str] | None,
    stats: Stats,
    known_cwds: dict[str, bool],
) -> Message | None:
    """message_of() of a line decoded into _Entry."""
    body = entry.message
    usage = body.usage if body is not None else None
    if body is None or usage is None:
        stats.skip("not a usage line")
        return None
    model, stamp, session = body.model, entry.timestamp, entry.sessionId
    if model is None or stamp is None or session is None:
        stats.skip("missing fields")
        return None
    if model == "<synthetic>":
        stats.skip("synthetic model")
        return None
    cwd = entry.cwd
    if allowed is not None and _elsewhere(cwd, allowed, known_cwds):
        stats.skip("other project")
        return None
    inp, out = usage.input_tokens, usage.output_tokens
    if inp is None or out is None:
        stats.skip("missing fields")
        return None
    read, write = usage.cache_read_input_tokens, usage.cache_creation_input_tokens
    tokens = {
        "input": inp if inp > 0 else 0,
        "output": out if out > 0 else 0,
        "cache_read": read if read > 0 else 0,
        "cache_write": write if write > 0 else 0,
    }
    detail = usage.cache_creation
    if detail is not None and detail.ephemeral_1h_input_tokens > 0:
        tokens["cache_write_1h"] = detail.ephemeral_1h_input_tokens
    # (Claude Code's own form, …T12:34:56.789Z: its day is its first ten characters)
    if len(stamp) == 24 and stamp[23] == "Z" and stamp[10] == "T" and stamp[4] == stamp[7] == "-":
        try:
            moment: datetime | None = _fromisoformat(stamp)
            day = stamp[:10]
        except ValueError:
            moment, day = _moment(stamp), stamp_day(stamp)
    else:
        moment, day = _moment(stamp), stamp_day(stamp)
    if moment is None:
        stats.skip("missing fields")
        return None
    mid, rid = body.id, entry.requestId
    key = f"{mid}:{rid}" if mid is not None and rid is not None else f"{path.name}:{number:09d}"
    commands = []
    if body.content is not None:
        for block in body.content:
            if block.type == "tool_use" and block.input is not None:
                command = block.input.command
                if command is not None and "bd" in command:
                    commands.append(command)
    return Message(  # (by position: a third of the time keywords take)
        key,
        session,
        moment,
        model,
        tokens,
        entry.isSidechain is True,
        commands,
        day,
        cwd if cwd is not None else "",
    )


_fromisoformat = datetime.fromisoformat


def _elsewhere(cwd: object, allowed: list[str], known_cwds: dict[str, bool]) -> bool:
    """Is a line's cwd (a str, or anything else: no cwd) outside the projects read? Each cwd
    is asked once (known_cwds)."""
    if type(cwd) is not str:
        return True
    known = known_cwds.get(cwd)
    if known is None:
        known = known_cwds[cwd] = inside(cwd, allowed)
    return not known


def _moment(stamp: str) -> datetime | None:
    """parse_ts(stamp), with a short cut for Claude Code's own form (…T12:34:56.789Z)."""
    if len(stamp) == 24 and stamp[23] == "Z" and stamp[10] == "T":
        try:
            return _fromisoformat(stamp)  # UTC, as parse_ts gives it
        except ValueError:
            pass
    try:
        return parse_ts(stamp)
    except ValueError:
        return None


def message_of(
    entry: object,
    path: Path,
    number: int,
    allowed: list[str] | None,
    stats: Stats,
    known_cwds: dict[str, bool],
) -> Message | None:
    if type(entry) is not dict:
        stats.skip("unknown record type")
        return None
    body = entry.get("message")
    usage = body.get("usage") if type(body) is dict else None
    if type(body) is not dict or type(usage) is not dict:
        stats.skip("not a usage line")
        return None
    model, stamp, session = body.get("model"), entry.get("timestamp"), entry.get("sessionId")
    if type(model) is not str or type(stamp) is not str or type(session) is not str:
        stats.skip("missing fields")
        return None
    if model == "<synthetic>":
        stats.skip("synthetic model")
        return None
    cwd = entry.get("cwd")
    if allowed is not None and _elsewhere(cwd, allowed, known_cwds):
        stats.skip("other project")
        return None
    get = usage.get
    inp, out = get("input_tokens"), get("output_tokens")
    if type(inp) is not int or type(out) is not int:
        stats.skip("missing fields")
        return None
    read, write = get("cache_read_input_tokens", 0), get("cache_creation_input_tokens", 0)
    tokens = {
        "input": max(inp, 0),
        "output": max(out, 0),
        "cache_read": read if type(read) is int and read > 0 else 0,
        "cache_write": write if type(write) is int and write > 0 else 0,
    }
    detail = get("cache_creation")
    if type(detail) is dict:
        hour = detail.get("ephemeral_1h_input_tokens", 0)
        if type(hour) is int and hour > 0:
            tokens["cache_write_1h"] = hour
    try:
        moment = parse_ts(stamp)
    except ValueError:
        stats.skip("missing fields")
        return None
    mid, rid = body.get("id"), entry.get("requestId")
    key = f"{mid}:{rid}" if type(mid) is str and type(rid) is str else f"{path.name}:{number:09d}"
    commands = []
    content = body.get("content")
    if type(content) is list:
        for block in content:
            if type(block) is dict and block.get("type") == "tool_use":
                given = block.get("input")
                command = given.get("command") if type(given) is dict else None
                if type(command) is str and "bd" in command:
                    commands.append(command)
    return Message(
        key=key,
        session=session,
        moment=moment,
        model=model,
        tokens=tokens,
        sidechain=entry.get("isSidechain") is True,
        commands=commands,
        day=stamp_day(stamp),
        cwd=cwd if type(cwd) is str else "",
    )
