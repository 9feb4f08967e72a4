"""What the ledger already holds, as git can give it back to this work tree: its ledger files
(as they are on disk) and every stash entry's. A writer reads this under the ledger lock.

Read lazily: a hook that only syncs outcomes never parses a million usage records (outcomes
and retractions come from a compact per-blob cache entry).
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterator
from pathlib import Path
from typing import Any

from bd_vpt.ledger.cache import BlobCache, OutcomeKey
from bd_vpt.ledger.records import Record, parse_ts
from bd_vpt.ledger.store import ParsedBlob, ledger_files, parse_blob
from bd_vpt.repo import RepoInfo

KEY_LINE = re.compile(rb'"kind"\s*:\s*"(?:outcome|retraction)"')
RETRACTION = "retraction"
PRE_COMMIT_PATCH = "(unstaged lines the pre-commit framework set aside)"
# the files read for their usage marks are kept (to compare after an append) up to this
KEEP_BYTES = 32 * 1024 * 1024


def keys_in(data: bytes) -> list[OutcomeKey]:
    """A ledger file's outcomes, (bead, ts, id, result, source_ref), and retractions,
    (bead, ts, id, "retraction", retracted id); only lines that can be either are parsed."""
    if b'"outcome"' not in data and b'"retraction"' not in data:
        return []  # most usage shards: one fast scan, no split
    lines = b"\n".join(line for line in data.split(b"\n") if KEY_LINE.search(line))
    out: list[OutcomeKey] = []
    for r in parse_blob(lines + b"\n").records:
        if r["kind"] == "outcome":
            out.append((r["bead"], r["ts"], r["id"], r["result"], r.get("source_ref")))
        elif r["kind"] == RETRACTION:
            out.append((r["bead"] or "", r["ts"], r["id"], RETRACTION, r["retracts"]))
    return out


def retractions_in(data: bytes) -> list[str]:
    """The ids a ledger file's retractions withdraw (one fast scan when it has none)."""
    if b'"retraction"' not in data:
        return []
    return [k[4] for k in keys_in(data) if k[3] == RETRACTION and k[4]]


def held_by_pre_commit() -> bytes:
    """Ledger lines the pre-commit framework took out of the work tree while its hooks run.

    It saves unstaged changes to `$PRE_COMMIT_HOME/patch<time>-<its pid>` (and puts them
    back afterwards); a capture that did not count them would write them a second time. Only
    when this process runs under the framework (PRE_COMMIT=1, the patch named by our parent's
    pid); the added ledger lines of that patch, as one blob."""
    import os

    if os.environ.get("PRE_COMMIT") != "1":
        return b""
    import glob

    home = os.environ.get("PRE_COMMIT_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pre-commit"
    )
    patches = sorted(glob.glob(os.path.join(glob.escape(home), f"patch*-{os.getppid()}")))
    if not patches:
        return b""
    try:
        with open(patches[-1], "rb") as patch:
            diff = patch.read()
    except OSError:
        return b""
    added, in_ledger = [], False
    for line in diff.split(b"\n"):
        if line.startswith(b"+++ "):
            in_ledger = b"/.beads/vpt/ledger/" in line and line.endswith(b".jsonl")
        elif in_ledger and line.startswith(b"+"):
            added.append(line[1:])
    return b"".join(line + b"\n" for line in added)


class Sources:
    """Each ledger file git can give back here: (shown path, blob id or None for a file
    changed since `git add`). Identical blobs (a stash of an unchanged file) count once."""

    def __init__(self, info: RepoInfo) -> None:
        from bd_vpt.repo import ledger_index, stash_ledger_blobs

        self.info = info
        self.cache = BlobCache(info.state_dir)
        clean = ledger_index(info.root)
        self.items: list[tuple[str, str | None]] = []
        for path in ledger_files(info.root):
            rel = path.relative_to(info.root).as_posix()
            self.items.append((rel, clean.get(rel)))
        seen = {sha for _, sha in self.items if sha}
        for shown, sha in stash_ledger_blobs(info.root):
            if sha not in seen:
                seen.add(sha)
                self.items.append((shown, sha))
        self._stashed = {shown for shown, _ in self.items if shown.startswith("stash@")}
        # work-tree files changed since `git add` whose usage marks were read: (the blob id
        # of the bytes read, the bytes themselves when small, else their length)
        self.read_as: dict[str, tuple[str, bytes | int]] = {}
        self._kept = 0  # bytes held in read_as
        self._marks: dict[str, UsageMarks] = {}  # the usage marks of the blobs in read_as
        self._held = held_by_pre_commit()
        if self._held:
            self.items.append((PRE_COMMIT_PATCH, None))

    def _data(self, wanted: list[tuple[str, str | None]]) -> Iterator[tuple[str, bytes]]:
        """The bytes of each item: from disk for a work-tree file (a clean one is its blob),
        from git for a stash's."""
        from bd_vpt.repo import cat_file_batch

        from_git = [(shown, sha) for shown, sha in wanted if shown in self._stashed and sha]
        fetched = dict(
            zip(
                [sha for _, sha in from_git],
                cat_file_batch(self.info.root, [sha for _, sha in from_git]),
                strict=True,
            )
        )
        for shown, sha in wanted:
            if shown == PRE_COMMIT_PATCH:
                yield shown, self._held
            elif shown in self._stashed:
                yield shown, fetched.get(sha or "") or b""
            else:
                yield shown, (self.info.root / shown).read_bytes()

    def outcome_keys(self) -> list[OutcomeKey]:
        found: list[OutcomeKey] = []
        missing: list[tuple[str, str | None]] = []
        for shown, sha in self.items:
            cached = self.cache.get_keys(sha) if sha else None
            if cached is None:
                missing.append((shown, sha))
            else:
                found += cached
        shas = dict(self.items)
        for shown, data in self._data(missing):
            keys = keys_in(data)
            sha = shas[shown]
            if sha:
                self.cache.put_keys(sha, keys)
            found += keys
        return found

    def usage_marks(self) -> Iterator[UsageMarks]:
        """Per item, what a writer needs of its usage records (usage_marks_of), from a
        compact cache entry: a capture at a million records reads refs, not records."""
        missing: list[tuple[str, str | None]] = []
        for shown, sha in self.items:
            cached = self.cache.get_usage(sha) if sha else None
            if cached is None:
                missing.append((shown, sha))
            else:
                yield cached
        from bd_vpt.repo import blob_id

        shas = dict(self.items)
        for shown, data in self._data(missing):
            sha = shas[shown]
            if sha is None:  # changed since `git add`: the entry of the blob its bytes make
                sha = blob_id(data)
                self._note(shown, sha, data)
                cached = self.cache.get_usage(sha)
                if cached is not None:
                    self._marks[sha] = cached
                    yield cached
                    continue
            blob = self.cache.get(sha)
            marks = usage_marks_of(blob if blob is not None else parse_blob(data))
            self.cache.put_usage(sha, marks)
            self._marks[sha] = marks
            yield marks

    def _note(self, shown: str, sha: str, data: bytes) -> None:
        """Note the blob id of a work-tree file's bytes; the bytes too while those kept stay
        under KEEP_BYTES in all (else only their length: then an append hashes them again)."""
        held = self.read_as.get(shown)
        if held is not None and isinstance(held[1], bytes):
            self._kept -= len(held[1])
        if self._kept + len(data) <= KEEP_BYTES:
            self._kept += len(data)
            self.read_as[shown] = (sha, data)
        else:
            self.read_as[shown] = (sha, len(data))

    def appended(self, shown: str, path: Path, payload: bytes, records: list[Record]) -> None:
        """payload, the lines of records, was just appended to path (the ledger lock held):
        when that file is now the bytes its usage marks were read from and then payload, note
        the marks of those bytes, so that the next writer finds them instead of parsing the
        file again."""
        if self.cache.dir is None:
            return
        from bd_vpt.repo import blob_id

        before = self.read_as.get(shown)
        if before is None and any(item == shown for item, _ in self.items):
            return  # (a clean file: its entry is the index's blob's)
        sha, kept = before if before is not None else ("", b"")
        size = len(kept) if isinstance(kept, bytes) else kept
        try:
            data = path.read_bytes()
        except OSError:
            return
        if len(data) != size + len(payload) or data[size:] != payload:
            return
        if size:
            old = self._marks.get(sha) or self.cache.get_usage(sha)
            if (
                old is None
                or data[size - 1 : size] != b"\n"
                or (data[:size] != kept if isinstance(kept, bytes) else blob_id(data[:size]) != sha)
            ):
                return
        else:
            old = ([], [])
        # what parsing payload gives (its lines are these records, each checked; a tuple
        # would read back as a list)
        refs, marked = marks_of(records)
        marked = [(i, s, n, list(m) if isinstance(m, tuple) else m, g) for i, s, n, m, g in marked]
        new = blob_id(data)
        self.cache.put_usage(new, (old[0] + refs, old[1] + marked))
        if size:  # (the next report folds the lines appended alone: ledger/tail.py)
            self.cache.note_grown(new, sha, size)
        self._note(shown, new, data)

    def blobs(self) -> Iterator[tuple[str, ParsedBlob]]:
        missing: list[tuple[str, str | None]] = []
        for shown, sha in self.items:
            blob = self.cache.get(sha) if sha else None
            if blob is None:
                missing.append((shown, sha))
            else:
                yield shown, blob
        shas = dict(self.items)
        for shown, data in self._data(missing):
            blob = parse_blob(data)
            sha = shas[shown]
            if sha:
                self.cache.put(sha, blob)
            yield shown, blob


class Known:
    """Ids, source_refs, outcomes and usage the ledger holds, plus what this writer added."""

    def __init__(self, info: RepoInfo) -> None:
        self.info = info
        self._sources: Sources | None = None
        self._keys: dict[str, OutcomeKey] | None = None  # by id
        self._gone: frozenset[str] | None = None  # retracted()
        self._usage: dict[str, Mark | Record] | None = None  # by id (see _held)
        self._refs: dict[str, set[str]] = {}
        self.written: list[Record] = []  # appended through this writer

    @property
    def sources(self) -> Sources:
        if self._sources is None:
            self._sources = Sources(self.info)
        return self._sources

    def keys(self) -> dict[str, OutcomeKey]:
        """Outcome and retraction keys by record id."""
        if self._keys is None:
            self._keys = {key[2]: key for key in self.sources.outcome_keys()}
            for record in self.written:
                if record["kind"] != "usage":
                    self._keys[record["id"]] = _key(record)
        return self._keys

    def _held(self) -> dict[str, Mark | Record]:
        """By id: the marks of the usage records held that carry an import mark (see
        usage_marks_of), the first of an id; the records written through this writer."""
        if self._usage is None:
            self._usage = {}
            refs: set[str] = set()
            for blob_refs, marked in self.sources.usage_marks():
                refs.update(blob_refs)
                for mark in marked:
                    self._usage.setdefault(mark[0], mark)
            for rec in self.written:
                if rec["kind"] == "usage":
                    if rec.get("source_ref"):
                        refs.add(rec["source_ref"])
                    if rec.get("last_message") is not None:
                        self._usage[rec["id"]] = rec
            self._refs.setdefault("usage", refs)
        return self._usage

    def usage(self) -> list[Record]:
        """The usage records held that carry an import mark (`last_message`), as far as
        marks go: kind, id, source, session, last_message (see usage_marks_of)."""
        return [
            held if isinstance(held, dict) else _marked(*held) for held in self._held().values()
        ]

    def marks(self) -> list[Mark]:
        """usage() as marks: (id, source, session, last_message, gt_session) each."""
        return [
            (
                held["id"],
                held["source"],
                held.get("session"),
                held["last_message"],
                held.get("gt_session"),
            )
            if isinstance(held, dict)
            else held
            for held in self._held().values()
        ]

    def retracted(self) -> frozenset[str]:
        """The ids the ledger's retractions withdraw (read again once a record is added)."""
        if self._gone is None:
            self._gone = frozenset(
                k[4] for k in self.keys().values() if k[3] == RETRACTION and k[4]
            )
        return self._gone

    def outcomes(
        self, ordered: bool = True, beads: Container[str] | None = None
    ) -> dict[str, list[Record]]:
        """Outcomes by bead (bead, ts, id, result, source_ref), oldest first (ordered=False:
        in the ledger's order, for a caller that orders the beads it reads; at 10^6 records
        ordering them all is most of a hook's capture); retracted ones are left out, as every
        report leaves them out. beads: only theirs (a capture judges the beads bd knows, a
        few hundred of the ledger's tens of thousands)."""
        gone = self.retracted()
        by_bead: dict[str, list[Record]] = {}
        for bead, ts, rid, result, ref in self.keys().values():
            if result != RETRACTION and rid not in gone and (beads is None or bead in beads):
                by_bead.setdefault(bead, []).append(
                    {"bead": bead, "ts": ts, "id": rid, "result": result, "source_ref": ref}
                )
        if ordered:
            for items in by_bead.values():
                items.sort(key=lambda r: (parse_ts(r["ts"]), r["id"]))
        return by_bead

    def outcome_refs(self) -> set[str | None]:
        """The source_refs of the outcomes outcomes() gives, every bead's."""
        gone = self.retracted()
        return {
            ref
            for _bead, _ts, rid, result, ref in self.keys().values()
            if result != RETRACTION and rid not in gone
        }

    def refs(self, kind: str) -> set[str]:
        """source_refs held by records of kind; retracted ones too, so an undone capture
        is not captured again."""
        if kind not in self._refs:
            if kind == "usage":
                self._held()  # reads the usage source_refs too
                return self._refs[kind]
            else:
                held = {k[4] for k in self.keys().values() if k[3] != RETRACTION and k[4]}
            self._refs[kind] = held
        return self._refs[kind]

    def holds(self, record: Record) -> bool:
        ref = record.get("source_ref")
        if ref is None or record["kind"] == RETRACTION:
            return False  # a new id: manual records are never the same record twice
        return ref in self.refs(record["kind"])

    def appended(self, path: Path, payload: bytes, records: list[Record]) -> None:
        """payload, the lines of records (each checked), was just appended to the ledger
        file at path."""
        if self._sources is None or self._usage is None:
            return  # (the usage marks were not read: none to carry on)
        try:
            shown = path.resolve().relative_to(self.info.root.resolve()).as_posix()
        except (OSError, ValueError):
            return
        self._sources.appended(shown, path, payload, records)

    def add(self, record: Record) -> None:
        """Note a record just written (so the rest of a batch, or the next, sees it)."""
        self.written.append(record)
        kind, ref = record["kind"], record.get("source_ref")
        if ref and kind in self._refs:
            self._refs[kind].add(ref)
        if kind == "usage" and self._usage is not None and record.get("last_message") is not None:
            self._usage[record["id"]] = record
        elif kind != "usage" and self._keys is not None:
            self._keys[record["id"]] = _key(record)
            self._gone = None


Mark = tuple[str, str, str | None, Any, str | None]  # id, source, session, last_message, gt
UsageMarks = tuple[list[str], list[Mark]]


def usage_marks_of(blob: ParsedBlob) -> UsageMarks:
    """A blob's usage source_refs, and (id, source, session, last_message, gt_session) of
    its usage records that carry an import mark: all a writer reads of usage (dedupe, high
    water, Gas Town's join)."""
    return marks_of(blob.records)


def marks_of(records: list[Record]) -> UsageMarks:
    """usage_marks_of() of a blob of these records."""
    refs: list[str] = []
    marked: list[Mark] = []
    for rec in records:
        if rec["kind"] != "usage":
            continue
        if rec.get("source_ref"):
            refs.append(rec["source_ref"])
        if rec.get("last_message") is not None:
            marked.append(
                (
                    rec["id"],
                    rec["source"],
                    rec.get("session"),
                    rec["last_message"],
                    rec.get("gt_session"),
                )
            )
    return refs, marked


def _marked(rid: str, source: str, session: str | None, last: Any, gt: str | None) -> Record:
    found: Record = {
        "kind": "usage",
        "id": rid,
        "source": source,
        "session": session,
        "last_message": last,
    }
    if gt is not None:
        found["gt_session"] = gt
    return found


def _key(record: Record) -> OutcomeKey:
    if record["kind"] == RETRACTION:
        return (record["bead"] or "", record["ts"], record["id"], RETRACTION, record["retracts"])
    return (record["bead"], record["ts"], record["id"], record["result"], record.get("source_ref"))
