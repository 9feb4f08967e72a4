"""The ledger: append-only JSONL shards under .beads/vpt/ledger/YYYY-MM/<writer>.jsonl.

Writes go through ledger/writer.py (one lock, dedupe by source_ref, whole lines or nothing). Reads stream records from (path, bytes) pairs, skip and report bad lines,
and drop union-merge duplicates by record id.
"""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bd_vpt.config import LEDGER_DIR
from bd_vpt.errors import Problem
from bd_vpt.ledger.records import SCHEMA_VERSION, Record, check

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
    # the host's name: gethostname(2) is uname's nodename (without importing socket)
    place = f"{os.uname().nodename}\0{root.resolve()}".encode()
    return f"{name}-{hashlib.sha1(place).hexdigest()[:6]}"


def shard_path(root: Path, actor: str, moment: datetime | None = None) -> Path:
    moment = moment or datetime.now(UTC)
    return root / LEDGER_DIR / moment.strftime("%Y-%m") / f"{writer_slug(actor, root)}.jsonl"


def encode(record: Record) -> bytes:
    return orjson.dumps(record) + b"\n"


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


class LineReader:
    """One ledger line at a time: a checked record, or a problem with its line number (a
    blob's version warning is given once). parse_blob and the fold (rows.py) read lines
    the same way through it."""

    def __init__(self, blob: ParsedBlob, *, full_schema: bool = False) -> None:
        self.blob = blob
        self.full_schema = full_schema
        self.newer_warned = False

    def read(self, raw: bytes, lineno: int, torn_last: bool) -> Record | None:
        """raw is a non-blank line; torn_last: it is the last line and has no newline."""
        blob = self.blob
        if raw.startswith(CONFLICT_PREFIXES):
            _problem(blob, lineno, "merge conflict marker", CONFLICT_HINT)
            return None
        if self.full_schema:  # `validate`: what the hook blocks, validate reports
            from bd_vpt.ledger.lines import line_problem

            unfit = line_problem(raw)
            if unfit:
                _problem(blob, lineno, unfit, "a ledger line is one line of JSON text, no keys")
                return None
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if torn_last:
                _problem(
                    blob,
                    lineno,
                    "torn last line (a write was cut off)",
                    "the next bd-vpt write cuts it back to the last whole line (its bytes are "
                    "kept under $GIT_COMMON_DIR/bd-vpt/torn/)",
                )
            else:
                _problem(
                    blob, lineno, f"malformed JSON: {exc}", "each line must be one JSON object"
                )
            return None
        wrong = check(record)
        if wrong is None and self.full_schema:
            from bd_vpt.ledger.schemas import record_errors

            errs = record_errors(record)
            wrong = "; ".join(errs) if errs else None
        if wrong is not None:
            _problem(blob, lineno, wrong, "see schema/record.schema.json")
            return None
        if record["v"] > SCHEMA_VERSION and not self.newer_warned:
            self.newer_warned = True
            _problem(
                blob,
                lineno,
                f"record version {record['v']} is newer than this bd-vpt knows "
                f"({SCHEMA_VERSION}); read as v{SCHEMA_VERSION}",
                "upgrade bd-vpt",
                "warning",
            )
        if torn_last:
            _problem(blob, lineno, "last line has no newline", "the next write ends it", "warning")
        return record  # type: ignore[no-any-return]


def split_lines(data: bytes) -> tuple[list[bytes], bool]:
    """A blob's lines, and whether the last one is torn (bytes after the final newline)."""
    lines = data.split(b"\n")
    torn = bool(lines[-1].strip())
    if not torn:
        lines.pop()
    return lines, torn


def parse_blob(data: bytes, *, full_schema: bool = False) -> ParsedBlob:
    """Parse one ledger file; bad lines become problems, never exceptions."""
    blob = ParsedBlob()
    lines, torn = split_lines(data)
    last = len(lines) - 1
    reader = LineReader(blob, full_schema=full_schema)
    records, fingerprints, numbers = blob.records, blob.fingerprints, blob.lines
    for index, raw in enumerate(lines):
        if not raw or raw.isspace():
            continue
        blob.lines_read += 1
        record = reader.read(raw, index + 1, torn and index == last)
        if record is not None:
            records.append(record)
            fingerprints.append(zlib.crc32(raw.strip()))
            numbers.append(index + 1)
    return blob


@dataclass
class Scan:
    """What a read saw besides good records: problems, duplicates, lines.

    A record counts once: by id (a union merge can repeat a line), and by (kind,
    source_ref) (two branches that captured the same bd transition or agent message, each
    in its own commit, are merged). Records named in `retracted` (bd-vpt undo) and the
    retraction records themselves are left out, so no report ever sees them."""

    problems: list[Problem] = field(default_factory=list)
    duplicates: int = 0
    lines: int = 0
    retracted: frozenset[str] = frozenset()
    withdrawn: int = 0  # records left out because a retraction names them (and retractions)
    _seen: dict[int, int] = field(default_factory=dict)
    _refs: set[int] = field(default_factory=set)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def merge(self, path: str, blob: ParsedBlob) -> Iterator[Record]:
        """The blob's records not seen before (by id); problems get their path."""
        self.lines += blob.lines_read
        for line, message, hint, severity in blob.problems:
            self.problems.append(Problem(path, line, message, hint, severity))
        seen, refs, retracted = self._seen, self._refs, self.retracted
        for record, fingerprint, line in zip(
            blob.records, blob.fingerprints, blob.lines, strict=True
        ):
            rid = record["id"]
            key = hash(rid)  # a million id strings need not stay alive to dedupe
            held = seen.get(key)
            if held is None:
                seen[key] = fingerprint
                ref = record.get("source_ref")
                if ref is not None:
                    ref_key = hash((record["kind"], ref))
                    if ref_key in refs:
                        self.duplicates += 1  # the same capture, made on two branches
                        continue
                    refs.add(ref_key)
                if record["kind"] == "retraction" or (retracted and rid in retracted):
                    self.withdrawn += 1
                    continue
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
