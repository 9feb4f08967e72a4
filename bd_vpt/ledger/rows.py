"""A ledger blob folded once: usage summed into rows, outcomes kept whole.

A report reads a million usage records, but what it needs of them is small: token and cost
sums per (bead, actor, model, UTC day). A blob never changes, so its fold is a pure function
of its bytes and is cached by blob id (cache.py): a commit that adds one record re-folds one
small blob, and a report over any revision merges the folds of its blobs.

Rows (ledger/usage.py) keep everything a usage fold needs, as exact integer sums, so the
folded route and the record route agree to the bit.

Dedupe stays the record route's (store.Scan): a blob is folded as if read alone; the view
merges folds only when no id and no (kind, source_ref) of one blob is in another (checked
from the keys kept with each fold; a hash collision only sends the report the exact way).
"""

from __future__ import annotations

import operator
import zlib
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any

import orjson

from bd_vpt.errors import Problem
from bd_vpt.ledger import fast
from bd_vpt.ledger.records import Record, check
from bd_vpt.ledger.store import LineReader, ParsedBlob, Scan, parse_blob
from bd_vpt.ledger.usage import (
    BY_DAY,
    INSIDE,
    OUTSIDE,
    PICO,
    UNPRICED,
    Row,
    RowKey,
    add_usage,
    fold_records,
    merge_row,
    utc_day,
)

_LAST12 = operator.itemgetter(slice(-12, None))
_UTF8 = operator.methodcaller("encode", "utf-8", "surrogatepass")


def id_keys(ids: Iterable[str]) -> array[int]:
    """A stable 63-bit key per ULID (its last 12 characters read in base 36): equal ids give
    equal keys in every process; unequal ids rarely share one (that costs only speed)."""
    return array("q", map(int, map(_LAST12, ids), repeat(36)))


def ref_keys(kind: str, refs: Iterable[str]) -> array[int]:
    """A stable 64-bit key per (kind, source_ref): crc32 and adler32 of kind NUL ref."""
    prefix = kind.encode() + b"\0"
    crc, adler = zlib.crc32(prefix), zlib.adler32(prefix)
    data = list(map(_UTF8, refs))
    highs = map(operator.lshift, map(zlib.adler32, data, repeat(adler)), repeat(32))
    return array("Q", map(operator.or_, map(zlib.crc32, data, repeat(crc)), highs))


SMALL = 200_000  # keys below which a set is quicker than numpy's sort (and its import)


def repeated(arrays: list[array[int]], keep: list[array[int]] | None = None) -> set[int]:
    """The keys found in more than one of the arrays (each holds distinct keys): one sort of
    all the keys (the compiled lane's radix sort, else numpy's), so a million records cost
    milliseconds, not a million set inserts.
    keep: given, the keys sorted are appended to it (ledger/delta.py keeps them)."""
    code = arrays[0].typecode if arrays else "q"
    if sum(len(a) for a in arrays) < SMALL:
        seen: set[int] = set()
        again: set[int] = set()
        for keys in arrays:
            again.update(seen.intersection(keys))
            seen.update(keys)
        if keep is not None:
            keep.append(array(code, sorted(seen)))
        return again
    if fast.LANE is not None:  # a radix sort in C (and no numpy to import)
        again, joined_keys = fast.LANE.repeated(list(arrays), code == "q")
        if keep is not None:
            keep.append(array(code, joined_keys))
        return again
    import numpy

    joined = numpy.concatenate([numpy.frombuffer(a, dtype=f"={a.typecode}") for a in arrays if a])
    joined.sort()
    if keep is not None:
        keep.append(array(code, joined.tobytes()))
    return {int(k) for k in joined[1:][joined[1:] == joined[:-1]]}


def repeated_both(
    ids: list[array[int]], refs: list[array[int]], keep: list[array[int]] | None = None
) -> tuple[set[int], set[int]]:
    """repeated() of the ids' and of the refs' keys (kept in that order): side by side, in
    this thread and one more, when both are many and the compiled lane sorts them (it lets
    go of the GIL)."""
    many = sum(map(len, ids)) >= SMALL and sum(map(len, refs)) >= SMALL
    if fast.LANE is None or not many:
        return repeated(ids, keep), repeated(refs, keep)
    from concurrent.futures import ThreadPoolExecutor

    kept_refs: list[array[int]] | None = [] if keep is not None else None
    with ThreadPoolExecutor(1) as pool:
        other = pool.submit(repeated, refs, kept_refs)
        twice = repeated(ids, keep)
        twice_refs = other.result()
    if keep is not None and kept_refs is not None:
        keep.extend(kept_refs)
    return twice, twice_refs


def collide(arrays: list[array[int]]) -> bool:
    """Whether any key is in two of the arrays."""
    return bool(repeated(arrays))


@dataclass
class BlobFold:
    """One blob's contribution to every usage report: a pure function of its bytes (and of
    the retracted ids it was folded with, when any were in it)."""

    rows: dict[RowKey, Row] = field(default_factory=dict)
    outcomes: list[Record] = field(default_factory=list)  # kept, in line order
    ids: array[int] = field(default_factory=lambda: array("q"))  # every kept record's id key
    refs: array[int] = field(default_factory=lambda: array("Q"))  # (kind, source_ref) keys
    problems: list[tuple[int, str, str | None, str]] = field(default_factory=list)
    lines_read: int = 0
    duplicates: int = 0
    withdrawn: int = 0
    retracts: list[str] = field(default_factory=list)  # ids its retractions withdraw
    # (the blob id it grew from, the fold of the lines appended) when tail.py made it so:
    # this process's knowledge only, never cached
    grown: tuple[str, BlobFold] | None = field(default=None, compare=False, repr=False)

    def days(self) -> set[str]:
        return {key[3] for key in self.rows}

    def dump(self) -> tuple[Any, ...]:
        """A marshal-able tuple (cache.py)."""
        return (
            self.rows,
            self.outcomes,
            self.ids.tobytes(),
            self.refs.tobytes(),
            self.problems,
            self.lines_read,
            self.duplicates,
            self.withdrawn,
            self.retracts,
        )

    @classmethod
    def load(cls, data: tuple[Any, ...]) -> BlobFold:
        rows, outcomes, ids, refs, problems, lines_read, duplicates, withdrawn, retracts = data
        fold = cls(rows, outcomes, array("q"), array("Q"), problems, lines_read)
        fold.ids.frombytes(ids)
        fold.refs.frombytes(refs)
        fold.problems = [tuple(p) for p in problems]
        fold.duplicates, fold.withdrawn, fold.retracts = duplicates, withdrawn, retracts
        return fold


def exact(
    parsed: ParsedBlob,
    retracted: frozenset[str] = frozenset(),
    cut: Any = None,
    scan: Scan | None = None,
) -> BlobFold:
    """A blob's fold through the record route's own dedupe (Scan): for blobs whose records
    repeat an id or a source_ref, hold a retracted record, or that a window cuts. scan: the
    dedupe shared by the blobs that repeat each other's ids (the view's), else the blob's."""
    scan = scan if scan is not None else Scan(retracted=retracted)
    had = (len(scan.problems), scan.lines, scan.duplicates, scan.withdrawn)
    kept = list(scan.merge("", parsed))
    fold = BlobFold()
    fold.rows, fold.outcomes = fold_records(kept, cut)
    every = parsed.records  # what Scan saw (retractions and withdrawn records included)
    fold.retracts = [r["retracts"] for r in every if r["kind"] == "retraction"]
    fold.ids = id_keys(dict.fromkeys(r["id"] for r in every))  # each id once
    by_kind: dict[str, dict[str, None]] = {}
    for r in every:
        if r.get("source_ref") is not None:
            by_kind.setdefault(r["kind"], {})[r["source_ref"]] = None
    for kind, refs in by_kind.items():
        fold.refs.extend(ref_keys(kind, refs))
    fold.problems = [(p.line or 0, p.message, p.hint, p.severity) for p in scan.problems[had[0] :]]
    fold.lines_read = scan.lines - had[1]
    fold.duplicates, fold.withdrawn = scan.duplicates - had[2], scan.withdrawn - had[3]
    return fold


def shared(fold: BlobFold) -> BlobFold:
    """fold with its equal strings made one object (row keys, outcomes' fields): a blob
    repeats its actor, models, days, beads and sessions on every row and outcome, and
    pickle and marshal keep one copy of an object named twice, so a million records' folds
    take far less memory once loaded. Values are unchanged."""
    one: dict[str, str] = {}
    share = one.setdefault
    fold.rows = {
        tuple([share(v, v) if type(v) is str else v for v in key]): row
        for key, row in fold.rows.items()
    }
    for outcome in fold.outcomes:
        for name, value in outcome.items():
            if type(value) is str:
                outcome[name] = share(value, value)
        snapshot = outcome.get("snapshot")
        if type(snapshot) is dict:
            for name, value in snapshot.items():
                if type(value) is str:
                    snapshot[name] = share(value, value)
                elif type(value) is list:
                    snapshot[name] = [share(v, v) if type(v) is str else v for v in value]
    return fold


def fold_blob(data: bytes) -> BlobFold:
    """Fold one ledger blob (shared strings: see shared; the compiled lane shares what it
    reads itself)."""
    fold, compiled = _fold_blob(data)
    return fold if compiled else shared(fold)


def _fold_blob(data: bytes) -> tuple[BlobFold, bool]:
    """Fold one ledger blob. Usage lines in bd-vpt's own shape are summed by the compiled
    lane (fast.take) or decoded typed (fast.decode); any other line is read by the record
    route's LineReader, so problems are the same, line by line. A blob with a repeated id or
    source_ref, a retraction, a torn tail, or an id or time not in the shape bd-vpt writes is
    folded the exact way instead (rare)."""
    if data[data.rfind(b"\n") + 1 :].strip():  # a torn tail
        return exact(parse_blob(data)), False
    rows, taken_ids, taken_refs, rest, lines_read = fast.take(data)
    compiled = True  # every line was read by the compiled lane
    decode = fast.decode
    parsed = ParsedBlob()
    reader = LineReader(parsed)
    outcomes: list[Record] = []
    ids: list[str] = []
    stamps: list[str] = []
    refs: list[str] = []
    other_refs: list[tuple[str, str]] = []
    for index, raw in rest:
        if type(raw) is dict:  # an outcome the compiled lane read (its id and ref taken)
            outcomes.append(raw)
            continue
        compiled = False
        u = decode(raw)
        if u is not None:
            t = u.tokens
            inp, out = t.input, t.output
            if type(inp) is not int:  # (msgspec's UNSET: a Count is an int)
                inp = 0
            elif type(out) is not int:
                out = 0
        if u is None:
            record = reader.read(raw, index + 1, False)
            if record is None:
                continue
            kind = record["kind"]
            ids.append(record["id"])
            if record.get("source_ref") is not None:
                other_refs.append((kind, record["source_ref"]))
            if kind == "outcome":
                outcomes.append(record)
            elif kind == "usage":
                add_usage(rows, record, utc_day(record["ts"]))
            else:  # a retraction withdraws itself here, and its target in the view
                return exact(parse_blob(data)), False
            continue
        ts = u.ts
        ids.append(u.id)
        stamps.append(ts)
        ref = u.source_ref
        if ref is not None:
            refs.append(ref)
        cost = u.cost_usd
        key = (
            u.bead,
            u.actor,
            u.model,
            ts[:10],
            0 if cost is not None else UNPRICED,
            BY_DAY,
            u.session,
        )
        row = rows.get(key)
        if row is None:
            row = rows[key] = [0, 0, 0, 0, 0, 0, 0, 0, ts]
        elif ts < row[8]:
            row[8] = ts
        row[0] += 1
        row[1] += inp
        row[2] += out
        row[3] += t.cache_read
        row[4] += t.cache_write
        row[5] += t.reasoning
        if cost is not None:
            row[7] += round(cost * PICO)
    usage_refs = set(refs)
    id_array, ref_array = array("q", taken_ids), array("Q", taken_refs)
    if (
        len(set(ids)) != len(ids)
        or len(usage_refs) != len(refs)
        or (other_refs and len(set(other_refs)) != len(other_refs))
        or any(k == "usage" and r in usage_refs for k, r in other_refs)
        or not fast.columns_ok(ids, stamps)
    ):
        return exact(parse_blob(data)), False
    ids_left, usage_left = id_keys(ids), ref_keys("usage", refs)
    by_kind: dict[str, list[str]] = {}
    for kind, ref in other_refs:
        by_kind.setdefault(kind, []).append(ref)
    refs_left = usage_left
    for kind, kind_refs in by_kind.items():
        refs_left.extend(ref_keys(kind, kind_refs))
    # the lanes' ids or refs may meet (or only their keys: that costs only speed)
    if (id_array and ids_left and collide([id_array, ids_left])) or (
        ref_array and refs_left and collide([ref_array, refs_left])
    ):
        return exact(parse_blob(data)), False
    fold = BlobFold(rows, outcomes, id_array, ref_array, parsed.problems)
    fold.ids.extend(ids_left)
    fold.refs.extend(refs_left)
    fold.lines_read = lines_read
    return fold, compiled and fast.LANE is not None


def lane_spec(cut: Any, halves: set[str]) -> tuple[Any, ...] | None:
    """What the compiled lane places a blob's lines of the days a window cuts by (None: no
    lane, or too many days)."""
    if fast.LANE is None or len(halves) > 64:
        return None
    return (tuple(sorted(halves)), _micros(cut.since), _micros(cut.until))


def placement(data: bytes, fold: BlobFold, spec: tuple[Any, ...]) -> Any:
    """The lane's placement of the blob's lines on spec's days, made where its bytes are at
    hand (a fold worker), for cut_fold (PLACED); None: none to make."""
    if _plain(fold) and not fold.days().isdisjoint(spec[0]) and fast.LANE is not None:
        try:
            return fast.LANE.fold(data, spec)
        except Exception:  # (cut_fold places it where it is needed, and raises there)
            return None
    return None


# (blob id, lane spec) -> the lane's placement of that blob's lines on those days: a pure
# function of the blob's bytes, made where they were read (placement)
PLACED: dict[tuple[str, tuple[Any, ...]], Any] = {}


def _plain(fold: BlobFold) -> bool:
    return not (fold.problems or fold.duplicates or fold.withdrawn or fold.retracts)


def cut_fold(
    fold: BlobFold,
    data: bytes | Callable[[], bytes],
    cut: Any,
    halves: set[str],
    sha: str = "",
) -> BlobFold | None:
    """fold (of data, or data(): the blob sha's bytes, folded by fold_blob) with the usage of the days
    a window cuts (halves) placed record by record (cut.holds): what exact(parsed, cut=cut)
    gives, without reading every record. Only the lines that name such a day are read (by
    the lane, or its placement made where the blob was read: PLACED); the records found must
    be exactly the ones the fold counted on those days (same number, from a fold that kept
    every line: no problem, duplicate, retraction), else None: fold the blob the exact way."""
    if not _plain(fold):
        return None
    read = data if callable(data) else lambda: data
    expected: dict[str, int] = {}
    rows: dict[RowKey, Row] = {}
    for key, row in fold.rows.items():
        if key[3] in halves:
            expected[key[3]] = expected.get(key[3], 0) + row[0]
        else:
            rows[key] = row
    spec = lane_spec(cut, halves)
    if spec is not None and fast.LANE is not None:
        # the compiled lane reads and places the lines naming a cut day (in its own shape);
        # taken when they are the records the fold counted on those days, else read below
        taken = PLACED.get((sha, spec)) if sha else None
        if taken is None:
            taken = fast.LANE.fold(read(), spec)
        if taken is not None:
            placed_rows = taken[0]
            counts = dict.fromkeys(expected, 0)
            for key, row in placed_rows.items():
                counts[key[3]] = counts.get(key[3], 0) + row[0]
            if counts == expected:
                rows.update(placed_rows)
                return BlobFold(rows, fold.outcomes, fold.ids, fold.refs, [], fold.lines_read)
    marks = [day.encode() for day in expected]
    found: dict[str, int] = dict.fromkeys(expected, 0)
    records: list[Record] = []
    ids: list[str] = []
    stamps: list[str] = []
    decode = fast.decode
    for raw in read().split(b"\n"):
        if not any(mark in raw for mark in marks):
            continue
        u = decode(raw)
        if u is not None:
            if u.ts[:10] not in found:
                continue
            from bd_vpt.ledger.typed import record_of

            record: Record | None = record_of(u)
            ids.append(u.id)
            stamps.append(u.ts)
        else:
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if check(record) is not None or record["kind"] != "usage":
                continue
        assert record is not None
        day = utc_day(record["ts"])
        if day in found:
            found[day] += 1
            records.append(record)
    if found != expected or not fast.columns_ok(ids, stamps):
        return None
    for record in records:
        where = INSIDE if cut.holds(record["ts"]) else OUTSIDE
        add_usage(rows, record, utc_day(record["ts"]), where)
    placed = BlobFold(rows, fold.outcomes, fold.ids, fold.refs, [], fold.lines_read)
    return placed


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _micros(moment: datetime | None) -> int | None:
    """A window's bound as microseconds since the epoch (exact: datetimes hold microseconds)."""
    return None if moment is None else (moment - _EPOCH) // _MICRO


@dataclass
class Folded:
    """The folds of a view's blobs merged: what collect (metrics.py) reads."""

    rows: dict[RowKey, Row] = field(default_factory=dict)
    outcomes: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    lines: int = 0
    duplicates: int = 0
    withdrawn: int = 0
    _merged: set[RowKey] = field(default_factory=set, repr=False)  # rows this owns

    def add(self, path: str, fold: BlobFold) -> None:
        """Merge fold in. A row only one blob has stays that blob's list (folds are not
        changed once made); it is copied when a second blob adds to it."""
        rows = self.rows
        if rows.keys().isdisjoint(fold.rows):  # (most blobs: another writer, month or day)
            rows.update(fold.rows)  # what the loop below does then, in C
        else:
            self._merge(fold.rows)
        self.outcomes.extend(fold.outcomes)
        self.problems.extend(Problem(path, *p) for p in fold.problems)
        self.lines += fold.lines_read
        self.duplicates += fold.duplicates
        self.withdrawn += fold.withdrawn

    def _merge(self, more: dict[RowKey, Row]) -> None:
        rows, merged = self.rows, self._merged
        for key, row in more.items():
            have = rows.get(key)
            if have is None:
                rows[key] = row
            else:
                if key not in merged:
                    have = rows[key] = list(have)
                    merged.add(key)
                merge_row(have, row)
