"""Claude Code transcripts: ~/.claude/projects/**/*.jsonl (and $CLAUDE_CONFIG_DIR).

Usage lives in lines with message.usage. Claude Code writes one line per content block, each
repeating the same usage: messages are deduplicated on (message.id, requestId) across all
files, keeping the largest-token copy and preferring the non-sidechain one (ccusage's rule).
`<synthetic>` models are skipped. The bd commands of tool_use blocks (Bash) open and close
bead windows.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import msgspec
import orjson

from bd_vpt.capture.fanout import read_all
from bd_vpt.capture.fileindex import Tail, key_sums
from bd_vpt.capture.transcripts import (
    MAX_LINE,
    Message,
    Stats,
    inside,
    read_data,
    split_counted,
    stamp_day,
)
from bd_vpt.capture.transcripts import files as files  # each source offers files()
from bd_vpt.ledger.records import parse_ts


def roots(path: Path | None) -> list[Path]:
    """Where the transcripts are: --path, else $CLAUDE_CONFIG_DIR (comma-separated), else
    ~/.config/claude and ~/.claude; each root's projects/ folder."""
    if path is not None:
        return [path]
    env = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    bases = (
        [Path(p.strip()).expanduser() for p in env.split(",") if p.strip()]
        if env
        else [
            Path.home() / ".config" / "claude",
            Path.home() / ".claude",
        ]
    )
    return [b / "projects" for b in bases if (b / "projects").is_dir()]


def scan(
    paths: list[Path],
    allowed_cwds: list[str] | None,
    stats: Stats,
    tails: dict[Path, Tail] | None = None,
) -> dict[str, list[Message]]:
    """Deduplicated messages by session. allowed_cwds: keep only sessions run inside these
    folders (None: every project). Files are read apart (in worker processes when there is
    much to read), each deduplicated on its own, then merged in the files' order: the same
    messages, winners and commands as one pass over every line. tails: files to read from
    where the last import stopped (if the bytes before are unchanged: see fileindex.py)."""
    tails = tails or {}
    read = partial(_scan_file, allowed=allowed_cwds, tails=tails)
    packed = partial(_packed, allowed=allowed_cwds, tails=tails)
    return merged(read_all(read, paths, packed, _unpack, meanwhile=_price_tables), stats)


def merged(scans: Iterable[FileScan], stats: Stats) -> dict[str, list[Message]]:
    """The files' messages (each file's read apart), deduplicated across them in order, by
    session."""
    best: dict[str, Message] = {}
    for found in scans:
        stats.add(found.stats)
        for message in found.messages:
            held = best.get(message.key)
            if held is None:
                best[message.key] = message
                continue
            stats.duplicates += 1
            _merge(held, message, best)
    sessions: dict[str, list[Message]] = {}
    for message in best.values():
        sessions.setdefault(message.session, []).append(message)
    stats.messages += len(best)
    return sessions


def _scan_file(path: Path, allowed: list[str] | None, tails: dict[Path, Tail]) -> FileScan:
    return scan_file(path, allowed, tails.get(path))


def _packed(
    path: Path, allowed: list[str] | None, tails: dict[Path, Tail]
) -> tuple[list[tuple[Any, ...]], Stats]:
    """scan_file() in a worker, its messages as plain values, quick to pickle and read back:
    the moment in ISO form (a datetime pickles slowly), one copy of each session, model, day
    and folder name (pickled once, then referred to)."""
    found = scan_file(path, allowed, tails.get(path))
    same: dict[str, str] = {}
    one = same.setdefault
    rows = []
    for m in found.messages:
        rows.append(
            (
                m.key,
                one(m.session, m.session),
                m.moment.isoformat(),
                one(m.model, m.model),
                m.tokens,
                m.sidechain,
                m.commands or None,
                one(m.day, m.day),
                one(m.cwd, m.cwd),
            )
        )
    return rows, found.stats


def _unpack(packed: tuple[list[tuple[Any, ...]], Stats]) -> FileScan:
    rows, stats = packed
    moment = datetime.fromisoformat
    return FileScan(
        [
            Message(
                key,
                session,
                moment(iso),
                model,
                tokens,
                sidechain,
                commands or [],
                day,
                cwd,
            )
            for key, session, iso, model, tokens, sidechain, commands, day, cwd in rows
        ],
        stats,
    )


def _price_tables() -> None:
    """Load genai-prices (a third of a second), which pricing the records needs next, while
    the workers read."""
    import importlib

    importlib.import_module("genai_prices")


def _merge(held: Message, message: Message, best: dict[str, Message]) -> None:
    """Two copies of one message: the commands of both; the larger (then the non-sidechain)
    copy wins, the first of equals. Merging each file's winners in file order gives what one
    pass over all lines gives: the first of the largest copies wins either way, and commands
    are appended in order of first appearance either way (extend() checks each against the
    list as it grows)."""
    held.commands.extend(c for c in message.commands if c not in held.commands)
    if (message.size, not message.sidechain) > (held.size, not held.sidechain):
        message.commands = held.commands
        best[message.key] = message


@dataclass
class FileScan:
    """One transcript read: its messages deduplicated within it (first seen first),
    and what was counted reading it."""

    messages: list[Message] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)


def scan_file(path: Path, allowed: list[str] | None, tail: Tail | None = None) -> FileScan:
    """Read one transcript (from tail's offset on, when the bytes before it are the same as
    when it was noted). Only lines holding b'"usage"' are decoded, and only the fields read
    below (msgspec); a line that does not fit that shape (or may not be valid JSON) is
    decoded in full and judged by _message(), so both routes count and keep the same. (One
    difference: a number beyond a double's range, 1e400, in a field never read makes orjson
    refuse the line as malformed; msgspec reads past it, and the usage is kept.)"""
    found = FileScan()
    stats = found.stats
    best: dict[str, Message] = {}
    known_cwds: dict[str, bool] = {}  # cwd -> in an allowed folder (memoised: cwds repeat)
    sessions: set[str] = set()
    decode = _DECODER.decode
    data = read_data(path, stats)
    if data is None:
        return found
    start = first = 0
    if tail is not None and len(data) >= tail[0] and _sum_before(data, tail[0]) == tail[2]:
        start, first = tail[0], tail[1]
    end = data.rfind(b"\n") + 1  # where the complete lines end: the next read starts there
    text = data[start:] if start else data
    plain = text.isascii()  # (then so is every line: none needs its UTF-8 checked)
    lines = not_usage = 0  # (counted here, added to stats once)
    get = best.get
    lines_read, newlines = split_counted(text, stats)
    for number, line in enumerate(lines_read, first + 1):
        if not line.strip():
            continue
        lines += 1
        if len(line) > MAX_LINE:
            stats.skip("line too long")
            continue
        if line.rfind(b'"usage"') < 0:  # (it sits near the end: rfind finds it soonest)
            not_usage += 1
            continue
        message = None
        usual = plain or line.isascii() or _utf8(line)
        if usual:
            try:
                message = _fast(decode(line), path, number, allowed, stats, known_cwds)
            except msgspec.DecodeError:  # (a ValidationError too) not the usual shape
                usual = False
        if not usual:
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                stats.skip("malformed JSON")
                continue
            message = _message(entry, path, number, allowed, stats, known_cwds)
        if message is None:
            continue
        sessions.add(message.session)
        held = get(message.key)
        if held is None:
            best[message.key] = message
            continue
        stats.duplicates += 1
        _merge(held, message, best)
    stats.lines += lines
    if not_usage:
        stats.skip("not a usage line", not_usage)
    if sessions:
        stats.file_sessions[str(path)] = sessions
    found.messages = list(best.values())
    stats.file_reads[str(path)] = {
        "tail": start > 0,
        "offset": end,
        "newlines": (data.count(b"\n", 0, start) if start else 0) + newlines,
        "check": _sum_before(data, end),
        "keys": key_sums(best),
    }
    return found


def _sum_before(data: bytes, end: int) -> int:
    """A checksum of the 4 KiB before end (a file rewritten, not appended to, fails it)."""
    from zlib import crc32

    return crc32(data[max(0, end - 4096) : end])


def _utf8(line: bytes) -> bool:
    try:
        line.decode()
    except UnicodeDecodeError:
        return False
    return True


# The fields of a usage line that are read, and nothing else (msgspec skips the rest unbuilt).
# A value of another type than the one given here (a model that is not a string, message or
# usage not an object, ...) fails to decode and the line goes to _message(), which judges it.
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
    """_message() of a line decoded into _Entry."""
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
    if allowed is not None:
        known: bool | None = False
        if cwd is not None:
            known = known_cwds.get(cwd)
            if known is None:
                known = known_cwds[cwd] = inside(cwd, allowed)
        if not known:
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


def _message(
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
    if allowed is not None:
        known: bool | None = False
        if type(cwd) is str:
            known = known_cwds.get(cwd)
            if known is None:
                known = known_cwds[cwd] = inside(cwd, allowed)
        if not known:
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
