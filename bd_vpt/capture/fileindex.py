"""The local index of transcript files already imported (state dir, never committed): only
a hint, checked against the ledger's own marks, so a wrong or lost index never loses or
doubles a record; it only saves reading.

A file is skipped while unchanged (size, mtime, inode) and while the ledger's marks still
cover the sessions it holds, unless a file read now holds one of them (a session is walked
whole: its bd commands open and close the windows of the messages after them). A grown
Claude Code transcript is read from where the last import stopped when that is the same as
reading it whole: the bytes before that point unchanged (checksum), the ledger's marks those
of the last import, its sessions in no other file, every message read after its session's
mark, no message read a copy of one before that point (checksums of their ids), and each
session's open bead window at that point known (kept by the last import).
"""

from __future__ import annotations

import base64
from array import array
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.capture.transcripts import Message, Stats
from bd_vpt.ledger.records import format_ts, parse_ts
from bd_vpt.repo import RepoInfo

Tail = tuple[int, int, int]  # (offset, newlines before it, checksum of the bytes before it)


def signature(path: Path) -> tuple[int, int, int]:
    """(size, mtime, inode) of a file, with its SQLite write-ahead log's (new rows live there
    first). A file rewritten in place of another (same size and time) has another inode."""
    st = path.stat()
    size, mtime = st.st_size, st.st_mtime_ns
    wal = path.with_name(path.name + "-wal")
    if path.suffix == ".db" and wal.exists():
        ws = wal.stat()
        size, mtime = size + ws.st_size, max(mtime, ws.st_mtime_ns)
    return size, mtime, st.st_ino


def key_sums(keys: Iterable[str]) -> bytes:
    """CRC-32 of each message id (a match may be a collision: then the file is read whole)."""
    from zlib import crc32

    return array("I", [crc32(key.encode()) for key in keys]).tobytes()


class FileIndex:
    def __init__(
        self, info: RepoInfo, kind: str, all_projects: bool, own_worktree: bool = False
    ) -> None:
        scope = "all" if all_projects else "project"
        if own_worktree and not all_projects:  # what one worktree skipped, another may take
            import hashlib

            scope = "worktree-" + hashlib.sha1(str(info.root).encode()).hexdigest()[:8]
        self.path = info.state_dir / f"imported-{kind}-{scope}.json"
        try:
            loaded = orjson.loads(self.path.read_bytes())
            self.files: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
        except (OSError, orjson.JSONDecodeError):
            self.files = {}

    def _entry(self, path: Path) -> dict[str, Any]:
        entry = self.files.get(str(path))
        return entry if isinstance(entry, dict) else {}

    def _marks_held(self, entry: dict[str, Any], marks: dict[str, tuple[datetime, str]]) -> bool:
        """Do the ledger's marks cover (or, exact, equal) the entry's sessions?"""
        try:
            for session, (ts, key) in entry.get("sessions", {}).items():
                if session not in marks or marks[session] < (parse_ts(ts), key):
                    return False
        except (TypeError, ValueError, AttributeError):
            return False
        return True

    def covered(self, path: Path, marks: dict[str, tuple[datetime, str]]) -> bool:
        entry = self._entry(path)
        try:
            now = signature(path)
        except OSError:
            return False
        if not entry or (entry.get("size"), entry.get("mtime"), entry.get("inode")) != now:
            return False
        return self._marks_held(entry, marks)

    def sessions_of(self, path: Path) -> set[str]:
        found = self._entry(path).get("sessions")
        return set(found) if isinstance(found, dict) else set()

    def sharing(self, covered: set[Path], sessions: set[str]) -> set[Path]:
        """The covered files that hold one of these sessions (or one of those files' other
        sessions, and so on): read again, so that every session read is read whole."""
        held = {path: self.sessions_of(path) for path in covered}
        wanted, out = set(sessions), set()
        grew = True
        while grew:
            grew = False
            for path, names in held.items():
                if path not in out and not names.isdisjoint(wanted):
                    out.add(path)
                    wanted |= names
                    grew = True
        return out

    def tails(self, paths: list[Path], marks: dict[str, tuple[datetime, str]]) -> dict[Path, Tail]:
        """The files that may be read from where the last import stopped (checked again once
        read: see agree())."""
        found: dict[Path, Tail] = {}
        for path in paths:
            entry = self._entry(path)
            where, ends = entry.get("tail"), entry.get("ends")
            if not isinstance(where, list) or len(where) != 3 or not isinstance(ends, dict):
                continue
            try:
                size, _mtime, inode = signature(path)
            except OSError:
                continue
            sessions = entry.get("sessions")
            if (
                inode != entry.get("inode")
                or not all(isinstance(n, int) for n in where)
                or size < where[0]
                or not isinstance(sessions, dict)
                or set(sessions) != set(ends)
                or not isinstance(entry.get("keys"), str)
            ):
                continue
            try:  # the ledger's marks are those this import left: nothing was written since
                if any(marks.get(s) != (parse_ts(ts), key) for s, (ts, key) in sessions.items()):
                    continue
            except (TypeError, ValueError):
                continue
            found[path] = (where[0], where[1], where[2])
        return found

    def agree(
        self,
        read: list[Path],
        skipped: set[Path],
        stats: Stats,
        sessions: dict[str, list[Message]],
        marks: dict[str, tuple[datetime, str]],
    ) -> tuple[dict[str, str | None], set[Path]]:
        """For the files read from where they stopped: the open bead window of each of their
        sessions there, and the files for which reading them whole could give other records
        (to be read whole)."""
        tails = [p for p in read if stats.file_reads.get(str(p), {}).get("tail")]
        starts: dict[str, str | None] = {}
        refused: set[Path] = set()
        if not tails:
            return starts, refused
        held: dict[Path, set[str]] = {path: self.sessions_of(path) for path in skipped}
        for path in read:
            held[path] = set(stats.file_sessions.get(str(path), set()))
            if path in tails:
                held[path] |= self.sessions_of(path)
        sums = set(array("I", key_sums(m.key for ms in sessions.values() for m in ms)))
        for path in tails:
            entry = self._entry(path)
            mine = held[path]
            if any(not mine.isdisjoint(names) for other, names in held.items() if other != path):
                refused.add(path)  # a session in another file too: walked whole
                continue
            if not sums.isdisjoint(array("I", base64.b64decode(entry["keys"]))):
                refused.add(path)  # (maybe) a copy of a message from before that point
                continue
            found: dict[str, str | None] = {}
            for session in stats.file_sessions.get(str(path), set()):
                mark = marks.get(session)
                if mark is not None and (
                    session not in entry["ends"]  # known to the ledger, not from this file
                    or any((m.moment, m.key) <= mark for m in sessions.get(session, []))
                ):
                    refused.add(path)  # a message at or before the mark: another order
                    break
                found[session] = entry["ends"].get(session)
            else:
                starts.update(found)
        return starts, refused

    def update(
        self,
        scanned: list[Path],
        stats: Stats,
        new: dict[str, tuple[datetime, str]],
        old: dict[str, tuple[datetime, str]],
        ends: dict[str, str | None],
    ) -> None:
        marks = dict(old)
        for session, mark in new.items():
            if session not in marks or mark > marks[session]:
                marks[session] = mark
        for path in scanned:
            before = self._entry(path)
            read = stats.file_reads.get(str(path), {})
            held = set(stats.file_sessions.get(str(path), set()))
            if read.get("tail"):
                held |= self.sessions_of(path)
            if any(s not in marks for s in held):
                continue  # nothing of that session reached the ledger: read it again next time
            try:
                size, mtime, inode = signature(path)
            except OSError:
                continue
            entry: dict[str, Any] = {
                "size": size,
                "mtime": mtime,
                "inode": inode,
                "sessions": {s: [format_ts(marks[s][0]), marks[s][1]] for s in sorted(held)},
            }
            if read and size >= read["offset"]:
                known = before.get("ends", {}) if read.get("tail") else {}
                if all(s in ends or s in known for s in held):
                    sums = base64.b64decode(before["keys"]) if read.get("tail") else b""
                    entry["tail"] = [read["offset"], read["newlines"], read["check"]]
                    entry["ends"] = {s: ends[s] if s in ends else known[s] for s in sorted(held)}
                    entry["keys"] = base64.b64encode(sums + read["keys"]).decode()
            self.files[str(path)] = entry
        from bd_vpt.ledger.cache import write_atomic

        # (under the ledger lock; not fsynced: a hint, checked against the ledger's marks, so
        # an index lost or older after a crash only costs a read of the files again)
        write_atomic(self.path, orjson.dumps(self.files))
