"""What the agent importers share: messages, bead windows, grouping into records, and the
high-water mark (kept in the ledger itself, so a fresh clone never double counts).

Attribution, in order: a `bd` command the agent ran opens or closes the session's window on a
bead (`bd update ID --claim`, `bd update ID --status in_progress`, `bd close ID`,
`bd vpt start ID`, `bd vpt stop`, also inside chained shell commands); a bead whose
`closed_by_session` names the session; the current bead set by `bd-vpt start ID` (or
$BD_VPT_BEAD). What matches nothing is recorded with bead null, never dropped.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import chain, repeat
from operator import attrgetter, is_not
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.economics.pricing import RateCards
from bd_vpt.ledger.records import Record, format_ts, parse_ts, usage_record

MAX_LINE = 16 * 1024 * 1024  # a longer line is skipped unread (counted as too long)


def stamp_day(stamp: str) -> str:
    """The UTC day a transcript's time names, read off its text when the text is in the
    form YYYY-MM-DDThh:mm:ss...Z; else "" (Message takes the day from the parsed moment: a
    time written with a leading space or an offset is still placed on its UTC day)."""
    if stamp[-1:] == "Z" and len(stamp) >= 20 and stamp[4] == stamp[7] == "-" and stamp[10] == "T":
        return stamp[:10]
    return ""


@dataclass(slots=True)
class Message:
    """One model call, deduplicated."""

    key: str  # stable and sortable within a session
    session: str
    moment: datetime
    model: str
    tokens: dict[str, int]
    sidechain: bool = False
    commands: list[str] = field(default_factory=list)
    day: str = ""  # UTC day, YYYY-MM-DD
    cwd: str = ""  # the folder the agent ran in, when the transcript says
    parent: str = ""  # the session that spawned this one (a subagent)
    reported_cost: float | None = None  # the agent's own price of the message, if it logs one

    def __post_init__(self) -> None:
        if not self.day:
            self.day = self.moment.strftime("%Y-%m-%d")

    @property
    def size(self) -> int:
        """Its tokens (the 1h cache writes are counted in cache_write already)."""
        tokens = self.tokens
        return sum(tokens.values()) - tokens.get("cache_write_1h", 0)


@dataclass
class Stats:
    files: int = 0
    lines: int = 0
    messages: int = 0
    duplicates: int = 0
    already_imported: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    file_sessions: dict[str, set[str]] = field(default_factory=dict)  # which sessions a file holds
    # where a reader stopped in each file, for the index of files read (claude-code)
    file_reads: dict[str, dict[str, Any]] = field(default_factory=dict)

    def saw(self, path: object, session: str) -> None:
        self.file_sessions.setdefault(str(path), set()).add(session)

    def skip(self, why: str, n: int = 1) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + n

    def add(self, other: Stats) -> None:
        """Count what another scan counted (a file read apart, in a worker)."""
        self.files += other.files
        self.lines += other.lines
        self.messages += other.messages
        self.duplicates += other.duplicates
        self.already_imported += other.already_imported
        for why, n in other.skipped.items():
            self.skip(why, n)
        for path, sessions in other.file_sessions.items():
            self.file_sessions.setdefault(path, set()).update(sessions)
        self.file_reads.update(other.file_reads)


def amount(value: Any) -> float | None:
    """A non-negative JSON number as a float (None for anything else, booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def files(paths: Iterable[Path]) -> list[Path]:
    """Every *.jsonl file below the given folders (or the files themselves)."""
    found: list[Path] = []
    for root in paths:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(sorted(root.rglob("*.jsonl")))
    return found


def inside(cwd: str, allowed: list[str]) -> bool:
    """Is cwd one of the allowed folders or below one?"""
    return any(cwd == root or cwd.startswith(root.rstrip("/") + "/") for root in allowed)


def _parses(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def read_data(path: Path, stats: Stats) -> bytes | None:
    """A transcript's bytes (counted as one file read); None for an unreadable file (or not a
    regular one: a FIFO or a device named *.jsonl is never read), counted, never raised."""
    from bd_vpt.errors import VptError
    from bd_vpt.files import read_regular

    stats.files += 1
    try:
        return read_regular(path)
    except VptError:
        stats.skip("unreadable file (or not a regular file)")
        return None


def split_lines(data: bytes, stats: Stats) -> list[bytes]:
    """Lines of a transcript; a truncated last line (a writer cut off mid-line) is dropped
    and counted."""
    return split_counted(data, stats)[0]


def split_counted(data: bytes, stats: Stats) -> tuple[list[bytes], int]:
    """split_lines(), and how many newlines data holds (counted without a second pass)."""
    lines = data.split(b"\n")
    newlines = len(lines) - 1
    if lines[-1].strip() and not _parses(lines[-1]):
        stats.lines += 1
        stats.skip("truncated last line")
        lines.pop()
    return lines, newlines


def read_lines(path: Path, stats: Stats) -> list[bytes]:
    """The lines of a transcript: read_data() then split_lines()."""
    data = read_data(path, stats)
    return [] if data is None else split_lines(data, stats)


def entries(
    path: Path, stats: Stats, needle: bytes | None = None, also: bytes | None = None
) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON) of each line of a transcript. Unreadable files, a truncated
    last line, lines over MAX_LINE, lines without needle (or also) and malformed JSON are skipped and
    counted, never raised."""
    loads = orjson.loads
    for number, line in enumerate(read_lines(path, stats), 1):
        if not line.strip():
            continue
        stats.lines += 1
        if len(line) > MAX_LINE:
            stats.skip("line too long")
            continue
        if needle is not None and needle not in line and (also is None or also not in line):
            stats.skip("not a usage line")
            continue
        try:
            yield number, loads(line)
        except orjson.JSONDecodeError:
            stats.skip("malformed JSON")


_SEPARATORS = re.compile(r"&&|\|\||[;|\n]|\$\(|`")
_BD = re.compile(r"^\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:\S*/)?(bd-vpt|bd)\s+(.*)$")


def bd_commands(command: str) -> list[tuple[str, list[str]]]:
    """("open" | "close" | "stop", bead ids) for each bd command in a shell command line."""
    found = []
    for segment in _SEPARATORS.split(command):
        match = _BD.match(segment)
        if not match:
            continue
        words = match.group(2).split()
        if match.group(1) == "bd" and words[:1] == ["vpt"]:
            words = words[1:]
        elif match.group(1) == "bd-vpt":
            pass
        args = [w.strip("'\"") for w in words[1:] if not w.startswith("-")]
        verb = words[0] if words else ""
        flags = " ".join(words)
        if (
            verb == "update"
            and args
            and ("--claim" in words or re.search(r"--status[= ]+in_progress", flags))
        ):
            found.append(("open", args[:1]))
        elif verb == "close" and args:
            found.append(("close", [a for a in args if not a.startswith("-")]))
        elif verb == "start" and args:
            found.append(("open", args[:1]))
        elif verb == "stop":
            found.append(("stop", []))
    return found


@dataclass
class Attribution:
    """Everything beyond the transcript that can name a bead."""

    session_beads: dict[str, str] = field(default_factory=dict)  # closed_by_session
    manual: list[tuple[datetime, str | None]] = field(default_factory=list)  # bd-vpt start/stop
    env_bead: str | None = None  # $BD_VPT_BEAD
    work_items: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)  # Gas Town
    gt_sessions: dict[str, str] = field(default_factory=dict)  # session -> Gas Town's name
    parents: dict[str, str] = field(default_factory=dict)  # subagent session -> parent session
    # per session, (moment, bead window open after the message) in time order: what a
    # subagent spawned at that moment inherits
    windows: dict[str, list[tuple[datetime, str | None]]] = field(default_factory=dict)
    needed: set[str] = field(default_factory=set)  # sessions that have subagents
    # the bead window open where a session's messages read start (a transcript read from
    # where the last import stopped), and where they end (kept for the next import)
    starts: dict[str, str | None] = field(default_factory=dict)
    ends: dict[str, str | None] = field(default_factory=dict)

    def steady(self, session: str) -> tuple[bool, str | None]:
        """(True, fallback(session, moment)) when it is the same at every moment, else
        (False, None)."""
        if session in self.session_beads:
            return True, self.session_beads[session]
        if session in self.work_items or session in self.parents or self.manual:
            return False, None
        return True, self.env_bead

    def fallback(self, session: str, moment: datetime, depth: int = 0) -> str | None:
        if session in self.session_beads:
            return self.session_beads[session]
        if session in self.work_items:
            work = bead_at(self.work_items[session], moment)
            if work is not None:
                return work
        parent = self.parents.get(session)
        if parent is not None and depth < 8:
            window = self.windows.get(parent, [])
            at = bisect_right(window, moment, key=lambda w: w[0])
            inherited = window[at - 1][1] if at else None
            if inherited is None:
                inherited = self.fallback(parent, moment, depth + 1)
            if inherited is not None:
                return inherited
        if self.manual:
            at = bisect_right([m for m, _ in self.manual], moment)
            if at:
                return self.manual[at - 1][1]
        return self.env_bead


Groups = dict[tuple[int, str | None, str, str], list[Message]]


def grouped(
    messages: list[Message],
    extra: Attribution,
    mark: tuple[datetime, str] | None,
    since: datetime | None,
    stats: Stats,
) -> Groups:
    """Walk one session in time order, opening and closing bead windows: its messages by
    (window, bead, model, UTC day), the window counted up at each change of bead; those at
    or before the session's mark are left out (counted as already imported), and those
    before since."""
    groups: Groups = {}
    needed, fallback = extra.needed, extra.fallback
    current = extra.starts.get(messages[0].session) if messages else None
    first = messages[0].session if messages else ""
    steady, held = extra.steady(first)  # the session's fallback at any moment, if it has one
    window = 0
    previous: object = object()
    bead: str | None
    for message in messages:
        actions = [a for c in message.commands for a in bd_commands(c)] if message.commands else ()
        for kind, beads in actions:
            if kind == "open":
                current = beads[0]
        if current is not None:
            bead = current
        elif steady and message.session == first:
            bead = held
        else:
            bead = fallback(message.session, message.moment)
        if bead != previous:
            window += 1
            previous = bead
        if mark is not None and (message.moment, message.key) <= mark:
            stats.already_imported += 1
        elif since is None or not message.moment < since:
            groups.setdefault((window, bead, message.model, message.day), []).append(message)
        for kind, beads in actions:
            if (kind == "close" and current in beads) or kind == "stop":
                current = None
        if needed and message.session in needed:
            extra.windows.setdefault(message.session, []).append((message.moment, current))
    if messages:
        extra.ends[messages[0].session] = current
    return groups


def high_water(records: Iterable[Record], source: str) -> dict[str, tuple[datetime, str]]:
    """Per session, the last message the ledger already holds from this source."""
    return high_water_of(
        (
            (r.get("id"), r.get("source"), r.get("session"), r.get("last_message"), None)
            for r in records
            if r.get("kind") == "usage"
        ),
        source,
    )


def high_water_of(
    usage: Iterable[tuple[Any, Any, Any, Any, Any]], source: str
) -> dict[str, tuple[datetime, str]]:
    """high_water() of usage records' marks (ledger.known.Mark: id, source, session,
    last_message, gt_session).

    Times written as format_ts writes them sort as text as they do as times, so each
    session's latest of those is found by its text and only that one parsed; any other
    time is parsed. A latest text that does not parse (a 13th month) and the session is
    judged record by record, as if none had that form."""
    texts: dict[str, tuple[str, str]] = {}  # session -> (time as format_ts writes it, id)
    held: dict[str, list[Any]] = {}  # session -> its marks
    others: list[tuple[str, Any]] = []  # (session, mark) of any other time
    for _id, from_source, session, last, _gt in usage:
        if from_source != source or not session:
            continue
        if not isinstance(last, list) or len(last) != 2:
            continue
        held.setdefault(session, []).append(last)
        text = last[0]
        if type(text) is str and _FORMAT_TS(text):
            mark = (text, str(last[1]))
            if session not in texts or mark > texts[session]:
                texts[session] = mark
        else:
            others.append((session, last))
    marks: dict[str, tuple[datetime, str]] = {}
    for session, (text, ident) in texts.items():
        try:
            marks[session] = (parse_ts(text), ident)
        except ValueError:
            found = _latest(held[session])
            if found is not None:
                marks[session] = found
    for session, last in others:
        found = _latest([last])
        if found is not None and (session not in marks or found > marks[session]):
            marks[session] = found
    return marks


_FORMAT_TS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"
).fullmatch


def _latest(lasts: list[Any]) -> tuple[datetime, str] | None:
    """The latest of these import marks ([time, message id]) whose time parses."""
    found = None
    for last in lasts:
        try:
            mark = (parse_ts(str(last[0])), str(last[1]))
        except ValueError:
            continue
        if found is None or mark > found:
            found = mark
    return found


def build_records(
    sessions: dict[str, list[Message]],
    extra: Attribution,
    marks: dict[str, tuple[datetime, str]],
    cards: RateCards,
    *,
    actor: str,
    source: str,
    stats: Stats,
    since: datetime | None = None,
) -> list[Record]:
    """One usage record per (session, bead window, model, UTC day), priced per message."""
    records: list[Record] = []
    for messages in sessions.values():
        if any(map(_PARENT, messages)):  # (most sessions have none: looked for in C)
            for message in messages:
                if message.parent:
                    extra.parents[message.session] = message.parent
    extra.needed = set(extra.parents.values())
    for session in sorted(sessions, key=lambda s: _depth(s, extra.parents)):  # parents first
        messages = sessions[session]
        messages.sort(key=_WHEN)
        groups = grouped(messages, extra, marks.get(session), since, stats)
        for (_window, bead, model, _day), group in groups.items():
            record = _record(session, bead, model, group, cards, actor, source)
            if session in extra.gt_sessions:
                record["gt_session"] = extra.gt_sessions[session]
            records.append(record)
    records.sort(key=lambda r: (r["ts"], r["source_ref"]))
    return records


_WHEN = attrgetter("moment", "key")  # a message's place in its session: (moment, key)
_PARENT, _TOKENS, _MOMENT = attrgetter("parent"), attrgetter("tokens"), attrgetter("moment")
_REPORTED, _SIDECHAIN = attrgetter("reported_cost"), attrgetter("sidechain")
_GIVEN = partial(is_not, None)


def _depth(session: str, parents: dict[str, str]) -> int:
    depth = 0
    while session in parents and depth < 8:
        session = parents[session]
        depth += 1
    return depth


def _record(
    session: str,
    bead: str | None,
    model: str,
    group: list[Message],
    cards: RateCards,
    actor: str,
    source: str,
) -> Record:
    first, last = group[0], group[-1]
    used = list(map(_TOKENS, group))
    # each kind summed over the messages, the kinds in order of first use (loops in C)
    get = dict.get
    tokens: dict[str, int] = {
        kind: sum(map(get, used, repeat(kind), repeat(0)))
        for kind in dict.fromkeys(chain.from_iterable(used))
    }
    # (one model, one day: the group's messages are priced from one rate card)
    cost, ref, provider = cards.total(model, list(map(_MOMENT, group)), used, first.day)
    extra: dict[str, Any] = {
        "messages": len(group),
        "first_ts": format_ts(first.moment),
        "last_ts": format_ts(last.moment),
        "last_message": [format_ts(last.moment), last.key],
    }
    reported = list(filter(_GIVEN, map(_REPORTED, group)))  # (the not-None ones)
    if reported:  # the agent's own price, beside ours (never used for cost_usd)
        extra["reported_cost_usd"] = round(sum(reported), 8)
    if any(map(_SIDECHAIN, group)):
        extra["sidechain_messages"] = sum(map(bool, map(_SIDECHAIN, group)))
    return usage_record(
        bead=bead,
        actor=actor,
        model=model,
        tokens={k: v for k, v in tokens.items() if v or k in ("input", "output")},
        cost_usd=None if cost is None else round(cost, 8),
        price_ref=ref,
        ts=format_ts(first.moment),
        source=source,
        source_ref=f"{source}:{session}:{first.key}",
        session=session,
        provider=provider,
        extra=extra,
    )


def bead_at(timeline: list[tuple[datetime, str]], moment: datetime) -> str | None:
    """The work item of the first row that ended at or after the moment (else the last row's)."""
    if not timeline:
        return None
    at = bisect_left([t for t, _ in timeline], moment)
    found: str | None = timeline[min(at, len(timeline) - 1)][1]
    return found
