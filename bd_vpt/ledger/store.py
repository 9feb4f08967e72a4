"""The ledger: append-only JSONL shards under .beads/vpt/ledger/YYYY-MM/<writer>.jsonl.

Writes append whole lines under a lock (after repairing a torn last line by ending it, so
nothing is lost). Reads stream records from (path, bytes) pairs, skip and report bad lines,
and drop union-merge duplicates by record id.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.config import LEDGER_DIR
from bd_vpt.errors import Problem
from bd_vpt.ledger.records import SCHEMA_VERSION, Record, check
from bd_vpt.repo import RepoInfo

CONFLICT_PREFIXES = (b"<<<<<<<", b"=======", b">>>>>>>", b"|||||||")
CONFLICT_HINT = (
    "the ledger merges with merge=union (run `bd-vpt init` to set .gitattributes); "
    "delete the marker lines and keep the records of both sides"
)


def writer_slug(actor: str, root: Path) -> str:
    """A filesystem-safe writer name: the actor plus a short hash of host and work tree.

    Two writers (or two worktrees of one person) never append to the same file.
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", actor).strip("-.")[:40] or "anon"
    place = f"{socket.gethostname()}\0{root.resolve()}".encode()
    return f"{name}-{hashlib.sha1(place).hexdigest()[:6]}"


def shard_path(root: Path, actor: str, moment: datetime | None = None) -> Path:
    moment = moment or datetime.now(UTC)
    return root / LEDGER_DIR / moment.strftime("%Y-%m") / f"{writer_slug(actor, root)}.jsonl"


def encode(record: Record) -> bytes:
    return orjson.dumps(record) + b"\n"


def lock_for(info: RepoInfo, path: Path) -> Any:
    """The inter-process lock that guards appends to path (kept under the git common dir,
    so lock files never show up in the work tree)."""
    from filelock import FileLock

    from bd_vpt.files import make_folder

    locks = info.state_dir / "locks"
    make_folder(locks)
    key = hashlib.sha1(str(path).encode()).hexdigest()[:16]
    return FileLock(str(locks / f"{key}.lock"), timeout=60)


def append(info: RepoInfo, records: list[Record], actor: str, path: Path | None = None) -> Path:
    """Append records to path (default: the actor's shard for this month); return it.

    The shard must be a regular file inside the repository: a FIFO, a directory or a symlink
    in its place is refused (exit 2, naming it) before a byte is written; so is a write that
    fails (read-only, permissions, a full disk)."""
    from bd_vpt.files import open_append, write_error

    path = path or shard_path(info.root, actor)
    payload = b"".join(encode(r) for r in records)
    with lock_for(info, path):
        fd = open_append(path, info.root)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                # a torn last line (a writer died mid-line): end it, keep its bytes
                payload = b"\n" + payload
            os.write(fd, payload)
        except OSError as exc:
            raise write_error(path, exc) from None
        finally:
            os.close(fd)
    return path


def ledger_files(root: Path, problems: list[Problem] | None = None) -> list[Path]:
    """The regular ledger files of the working tree. Anything else named like one (a FIFO,
    a directory, a socket, a broken symlink, a symlink leaving the repository) is skipped,
    with a warning added to problems."""
    from bd_vpt.files import regular_files

    found, skipped = regular_files(root / LEDGER_DIR, root, ".jsonl")
    if problems is not None:
        problems.extend(skipped)
    return found


def working_tree_sources(
    root: Path, paths: Iterable[Path] | None = None, problems: list[Problem] | None = None
) -> Iterator[tuple[str, bytes]]:
    """(display path, bytes) for each ledger file in the working tree, or for each of paths:
    the user named those, so they may lie outside the repository, but must be regular files."""
    from bd_vpt.files import read_regular

    named = paths is not None
    for path in paths if paths is not None else ledger_files(root, problems):
        try:
            display = str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            display = str(path)
        yield display, read_regular(path, root=None if named else root)


@dataclass
class ParsedBlob:
    """One file's content, parsed: a pure function of its bytes, so it can be cached by
    git blob id. Problems carry line numbers; the path is attached when merged."""

    records: list[Record] = field(default_factory=list)
    fingerprints: list[int] = field(default_factory=list)  # crc32 of each record's line
    lines: list[int] = field(default_factory=list)  # line number of each record
    problems: list[tuple[int, str, str | None, str]] = field(default_factory=list)
    lines_read: int = 0


def _problem(
    blob: ParsedBlob, line: int, message: str, hint: str | None, severity: str = "error"
) -> None:
    blob.problems.append((line, message, hint, severity))


def parse_blob(data: bytes, *, full_schema: bool = False) -> ParsedBlob:
    """Parse one ledger file; bad lines become problems, never exceptions."""
    blob = ParsedBlob()
    lines = data.split(b"\n")
    last = len(lines) - 1
    torn = bool(lines[-1].strip())  # bytes after the final newline: an unterminated line
    if not torn:
        lines.pop()
    loads = orjson.loads
    records, fingerprints, numbers = blob.records, blob.fingerprints, blob.lines
    newer_warned = False
    for index, raw in enumerate(lines):
        lineno = index + 1
        if not raw or raw.isspace():
            continue
        blob.lines_read += 1
        if raw.startswith(CONFLICT_PREFIXES):
            _problem(blob, lineno, "merge conflict marker", CONFLICT_HINT)
            continue
        try:
            record = loads(raw)
        except orjson.JSONDecodeError as exc:
            if torn and index == last:
                _problem(
                    blob,
                    lineno,
                    "torn last line (a write was cut off)",
                    "the next append ends it; delete the fragment if it is not a whole record",
                )
            else:
                _problem(
                    blob, lineno, f"malformed JSON: {exc}", "each line must be one JSON object"
                )
            continue
        wrong = check(record)
        if wrong is None and full_schema:
            from bd_vpt.ledger.schemas import record_errors

            errs = record_errors(record)
            wrong = "; ".join(errs) if errs else None
        if wrong is not None:
            _problem(blob, lineno, wrong, "see schema/record.schema.json")
            continue
        if record["v"] > SCHEMA_VERSION and not newer_warned:
            newer_warned = True
            _problem(
                blob,
                lineno,
                f"record version {record['v']} is newer than this bd-vpt knows "
                f"({SCHEMA_VERSION}); read as v{SCHEMA_VERSION}",
                "upgrade bd-vpt",
                "warning",
            )
        if torn and index == last:
            _problem(blob, lineno, "last line has no newline", "the next append ends it", "warning")
        records.append(record)
        fingerprints.append(zlib.crc32(raw.strip()))
        numbers.append(lineno)
    return blob


@dataclass
class Scan:
    """What a read saw besides good records: problems, duplicates, lines."""

    problems: list[Problem] = field(default_factory=list)
    duplicates: int = 0
    lines: int = 0
    _seen: dict[int, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def merge(self, path: str, blob: ParsedBlob) -> Iterator[Record]:
        """The blob's records not seen before (by id); problems get their path."""
        self.lines += blob.lines_read
        for line, message, hint, severity in blob.problems:
            self.problems.append(Problem(path, line, message, hint, severity))
        seen = self._seen
        for record, fingerprint, line in zip(
            blob.records, blob.fingerprints, blob.lines, strict=True
        ):
            rid = record["id"]
            key = hash(rid)  # a million id strings need not stay alive to dedupe
            held = seen.get(key)
            if held is None:
                seen[key] = fingerprint
                yield record
            elif held == fingerprint:
                self.duplicates += 1  # the same line twice, e.g. after a union merge
            else:
                self.problems.append(
                    Problem(
                        path,
                        line,
                        f"duplicate id {rid} with different content",
                        "two records share an id: keep the right one, give the other a new id",
                    )
                )


def read(
    sources: Iterable[tuple[str, bytes]], scan: Scan, *, full_schema: bool = False
) -> Iterator[Record]:
    for path, data in sources:
        yield from scan.merge(path, parse_blob(data, full_schema=full_schema))
