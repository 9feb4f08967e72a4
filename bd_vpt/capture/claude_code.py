"""Claude Code transcripts: ~/.claude/projects/**/*.jsonl (and $CLAUDE_CONFIG_DIR).

Usage lives in lines with message.usage. Claude Code writes one line per content block, each
repeating the same usage: messages are deduplicated on (message.id, requestId) across all
files, keeping the largest-token copy and preferring the non-sidechain one (ccusage's rule).
`<synthetic>` models are skipped. The bd commands of tool_use blocks (Bash) open and close
bead windows.

Lines are read by a compiled reader (lane/*.c, built at install where a C compiler is found)
that takes only lines it can prove are of Claude Code's usual shape, and hands every other line
to the Python reader (claude_line.py); without it (no compiler, or BD_VPT_LANE=python) every
line is read in Python, with the same messages (tests/test_claude_reader.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from bd_vpt.capture import compiled
from bd_vpt.capture.fanout import read_all
from bd_vpt.capture.fileindex import Tail, key_sums
from bd_vpt.capture.transcripts import (
    MAX_LINE,
    Message,
    Stats,
    inside,
    read_data,
    split_counted,
)
from bd_vpt.capture.transcripts import files as files  # each source offers files()


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
    scans = list(scans)
    whole = True  # every file's messages went in as they were (no copy of another's)
    for found in scans:
        stats.add(found.stats)
        if found.best is not None and best.keys().isdisjoint(found.best):  # (C loops)
            best.update(found.best)  # what the loop below does when no message is held
            continue
        whole = False
        for message in found.messages:
            held = best.get(message.key)
            if held is None:
                best[message.key] = message
                continue
            stats.duplicates += 1
            _merge(held, message, best)
    sessions: dict[str, list[Message]] = {}
    if whole:  # best's messages are the files' in turn: grouped file by file
        for found in scans:
            if len(found.sessions) == 1:
                sessions.setdefault(next(iter(found.sessions)), []).extend(found.messages)
                continue
            for message in found.messages:
                sessions.setdefault(message.session, []).append(message)
    else:
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
    best: dict[str, Message] | None = None  # the messages by key, when read here
    sessions: set[str] = field(default_factory=set)  # the sessions of its messages


def scan_file(path: Path, allowed: list[str] | None, tail: Tail | None = None) -> FileScan:
    """Read one transcript (from tail's offset on, when the bytes before it are the same as
    when it was noted). Only lines holding b'"usage"' are decoded: by the compiled reader
    (lane/claude.c) when it is built and the line is of the usual shape, else in Python
    (claude_line.py, the judge), with the same messages and counts either way. Copies of a
    message are made one in C when the compiled reader took every line."""
    found = FileScan()
    stats = found.stats
    best: dict[str, Message] = {}
    known_cwds: dict[str, bool] = {}  # cwd -> in an allowed folder (memoised: cwds repeat)
    sessions: set[str] = set()
    data = read_data(path, stats)
    if data is None:
        return found
    start = first = 0
    if tail is not None and len(data) >= tail[0] and _sum_before(data, tail[0]) == tail[2]:
        start, first = tail[0], tail[1]
    end = data.rfind(b"\n") + 1  # where the complete lines end: the next read starts there
    text = data[start:] if start else data
    plain: bool | None = None  # is text ASCII? (then every line is: no UTF-8 to check)
    sums: bytes | None = None  # the CRC-32 of best's keys (key_sums), when made in C
    items, lines, not_usage, newlines, cwds = _usage_lines(text, first, stats)
    if cwds is not None and READER is not None:  # every message read by the compiled reader
        barred = None
        if allowed is not None:
            barred = {cwd for cwd in cwds if not _known(cwd, allowed, known_cwds)}
        best, duplicates, other, sessions, sums = READER.dedupe(items, barred or None)
        stats.duplicates += duplicates
        if other:
            stats.skip("other project", other)
        items = []
    get = best.get
    for item in items:
        if isinstance(item, tuple):  # a line for the Python reader
            if plain is None:
                from bd_vpt.capture.claude_line import read_line  # (msgspec: only for these)

                plain = text.isascii()
            read = read_line(item, plain, path, allowed, stats, known_cwds)
            if read is None:
                continue
            message = read
        else:  # read by the compiled reader: as _fast() reads it (its cwd is a str)
            message = item
            if allowed is not None and not _known(message.cwd, allowed, known_cwds):
                stats.skip("other project")
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
    found.best, found.sessions = best, sessions
    stats.file_reads[str(path)] = {
        "tail": start > 0,
        "offset": end,
        "newlines": (data.count(b"\n", 0, start) if start else 0) + newlines,
        "check": _sum_before(data, end),
        "keys": sums if sums is not None else key_sums(best),
    }
    return found


# The compiled reader (lane/claude.c), or None: every line is read in Python, with the same
# messages (tests set it to None for the Python way).
READER = compiled.LANE

Item = Message | tuple[int, bytes]


def _known(cwd: str, allowed: list[str], known_cwds: dict[str, bool]) -> bool:
    """inside(cwd, allowed), memoised (a transcript names few folders, on every line)."""
    known = known_cwds.get(cwd)
    if known is None:
        known = known_cwds[cwd] = inside(cwd, allowed)
    return known


def _usage_lines(
    text: bytes, first: int, stats: Stats
) -> tuple[list[Item], int, int, int, set[str] | None]:
    """(items, lines, not_usage, newlines, cwds): the lines that may hold usage, in order,
    each a Message the compiled reader read or (line number, bytes) for the Python reader;
    the non-blank lines, those without '"usage"', the newlines in text; and, when the
    compiled reader read every item, the folders its messages name (else None). Lines too
    long and a truncated last line are counted in stats."""
    cwds = None
    if READER is not None:
        items, lines, not_usage, too_long, newlines, rest, cwds = READER.read(text, first, Message)
        last, _ = split_counted(text[rest:], stats)  # what follows the last newline
        pieces = enumerate(last, first + newlines + 1)
    else:
        items, lines, not_usage, too_long = [], 0, 0, 0
        every, newlines = split_counted(text, stats)
        pieces = enumerate(every, first + 1)
    for number, line in pieces:
        if not line.strip():
            continue
        lines += 1
        if len(line) > MAX_LINE:
            too_long += 1
        elif line.rfind(b'"usage"') < 0:  # (it sits near the end: rfind finds it soonest)
            not_usage += 1
        else:
            items.append((number, line))
            cwds = None
    if too_long:
        stats.skip("line too long", too_long)
    return items, lines, not_usage, newlines, cwds


def _sum_before(data: bytes, end: int) -> int:
    """A checksum of the 4 KiB before end (a file rewritten, not appended to, fails it)."""
    from zlib import crc32

    return crc32(data[max(0, end - 4096) : end])
