"""Parsed ledger blobs cached by git blob id under $GIT_COMMON_DIR/bd-vpt/cache/.

A blob id names its content, so an entry never goes stale; closed months' shards never
change, so reports over history parse only the blobs they have not seen. Entries are
written atomically (safe when two reports run at once), versioned (a format change uses a
new directory), and checked on load: a corrupt or truncated entry is rebuilt, never trusted.
"""

from __future__ import annotations

import marshal
import os
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bd_vpt.files import temporary
from bd_vpt.ledger.records import SCHEMA_VERSION
from bd_vpt.ledger.store import ParsedBlob

if TYPE_CHECKING:
    from bd_vpt.ledger.rows import BlobFold

CACHE_FORMAT = 2  # 2: the one validator (bounds, real dates, retractions)
OutcomeKey = tuple[str, str, str, str, str | None]  # bead, ts, id, result, source_ref
_TAG = f"bd-vpt-blob-cache/{CACHE_FORMAT}/{SCHEMA_VERSION}"
ROWS_FORMAT = 3  # the layout of a cached fold (ledger/rows.py BlobFold.dump); 3: sessions
_FOLD = f".f{ROWS_FORMAT}"
_FOLD_TAG = f"bd-vpt-fold/{ROWS_FORMAT}/{CACHE_FORMAT}/{SCHEMA_VERSION}"


_PATHS = "paths-v1"  # the last blob folded at each ledger path (note_blobs)

_FOLDS: dict[str, BlobFold] = {}  # folds read or made by this process, by blob id (pure)
_KEEPS: dict[Path, bool] = {}  # per cache folder: whether this process writes folds there


def forget_folds() -> None:
    """Drop the folds kept in memory (the disk cache is what is left), and whether folds are
    written (keeps_folds decides again)."""
    _FOLDS.clear()
    _KEEPS.clear()


def fold_entry(sha: str, fold: BlobFold) -> bytes:
    """A cache entry's bytes for the blob's fold (worker processes write them, and hand
    them back: marshal is quicker than pickle both ways)."""
    return marshal.dumps((_FOLD_TAG, sha, fold.dump()))


def fold_of_entry(sha: str, data: bytes) -> BlobFold:
    """The fold an entry's bytes hold (ValueError: not an entry for this blob)."""
    from bd_vpt.ledger.rows import BlobFold

    tag, key, dump = marshal.loads(data)
    if tag != _FOLD_TAG or key != sha:
        raise ValueError("not an entry for this blob")
    return BlobFold.load(dump)


class BlobCache:
    def __init__(self, state_dir: Path | None) -> None:
        self.dir = (
            state_dir / "cache" / f"blobs-v{CACHE_FORMAT}-r{SCHEMA_VERSION}" if state_dir else None
        )
        self.hits = self.misses = self.rebuilt = 0

    def _path(self, sha: str) -> Path:
        assert self.dir is not None
        return self.dir / sha[:2] / sha[2:]

    def get(self, sha: str) -> ParsedBlob | None:
        if self.dir is None:
            return None
        path = self._path(sha)
        try:
            data = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        try:
            tag, key, records, fingerprints, lines, problems, lines_read = marshal.loads(data)
            if tag != _TAG or key != sha or not (len(records) == len(fingerprints) == len(lines)):
                raise ValueError("not an entry for this blob")
            blob = ParsedBlob(
                records, fingerprints, lines, [tuple(p) for p in problems], lines_read
            )
        except (ValueError, EOFError, TypeError):
            self.rebuilt += 1  # corrupt or truncated: parse the blob again
            return None
        self.hits += 1
        return blob

    def put(self, sha: str, blob: ParsedBlob) -> None:
        if self.dir is None:
            return
        payload = marshal.dumps(
            (_TAG, sha, blob.records, blob.fingerprints, blob.lines, blob.problems, blob.lines_read)
        )
        write_atomic(self._path(sha), payload)

    def get_folds(self, shas: list[str]) -> list[BlobFold | None]:
        """get_fold of each; with no cache folder (a repository's first report, a cold one)
        only those in memory: one look at the folder, not a failed open per blob."""
        if self.dir is not None and not self.dir.is_dir():
            return [_FOLDS.get(sha) for sha in shas]
        return [self.get_fold(sha) for sha in shas]

    def get_fold(self, sha: str) -> BlobFold | None:
        """The blob's fold (ledger/rows.py), or None: not cached, or not a good entry.
        A fold read once stays in memory for the process: `pr` reads base and head, which
        share all but a few blobs."""
        held = _FOLDS.get(sha)
        if held is not None:
            return held
        if self.dir is None:
            return None
        try:
            data = self._path(sha).with_suffix(_FOLD).read_bytes()
        except OSError:
            return None
        try:
            fold = fold_of_entry(sha, data)
        except (ValueError, EOFError, TypeError):
            self.rebuilt += 1  # corrupt or truncated: fold the blob again
            return None
        self.hits += 1
        _FOLDS[sha] = fold
        return fold

    def put_fold(self, sha: str, fold: BlobFold, *, written: bool = False) -> None:
        """Keep the fold (in memory, and on disk unless a worker process wrote it, or this is
        the repository's first report: see keeps_folds)."""
        _FOLDS[sha] = fold
        if not written and self.keeps_folds():
            self.put_fold_entry(sha, fold_entry(sha, fold))

    def keeps_folds(self) -> bool:
        """Whether folds are written: from the second report in a repository on. The first
        (a fresh clone, a CI run: most never make a second) only leaves the cache's folder
        behind, so a report made once does not pay for writing a million records' folds (a
        tenth of a cold report at 10^6). Decided once per process."""
        if self.dir is None:
            return False
        keeps = _KEEPS.get(self.dir)
        if keeps is None:
            keeps = _KEEPS[self.dir] = self.dir.is_dir()
            if not keeps:
                with suppress(OSError):
                    self.dir.mkdir(parents=True, exist_ok=True)
        return keeps

    def put_fold_entry(self, sha: str, entry: bytes) -> None:
        """Write a fold's entry (fold_entry) on disk."""
        if self.dir is not None:
            write_atomic(self._path(sha).with_suffix(_FOLD), entry)

    def noted_blobs(self) -> dict[str, tuple[str, int]]:
        """The last blob folded at each ledger path: path -> (blob id, length) (tail.py)."""
        if self.dir is None:
            return {}
        try:
            tag, noted = marshal.loads((self.dir / _PATHS).read_bytes())
            if tag != _TAG or not isinstance(noted, dict):
                raise ValueError("not the paths' entry")
        except (OSError, ValueError, EOFError, TypeError):
            return {}
        return noted

    def note_blobs(
        self, blobs: dict[str, tuple[str, int]], noted: dict[str, tuple[str, int]]
    ) -> None:
        """Note these blobs as the last folded at their paths (noted: what noted_blobs()
        gave; a hint only, checked before use, so two reports writing at once lose nothing
        but speed)."""
        if self.dir is not None and blobs:
            write_atomic(self.dir / _PATHS, marshal.dumps((_TAG, {**noted, **blobs})))

    def _small(self, sha: str, suffix: str, kind: type) -> Any:
        """A small entry beside the blob's full one (suffix names what it holds), or None."""
        if self.dir is None:
            return None
        try:
            tag, key, value = marshal.loads(self._path(sha).with_suffix(suffix).read_bytes())
            if tag != _TAG or key != sha or not isinstance(value, kind):
                raise ValueError("not an entry for this blob")
        except (OSError, ValueError, EOFError, TypeError):
            return None
        return value

    def _put_small(self, sha: str, suffix: str, value: Any) -> None:
        if self.dir is not None:
            write_atomic(self._path(sha).with_suffix(suffix), marshal.dumps((_TAG, sha, value)))

    def get_outcomes(self, sha: str) -> list[OutcomeKey] | None:
        """The blob's outcomes, compact: (bead, ts, id, result, source_ref) each, what `sync`
        needs to stay idempotent."""
        found: list[OutcomeKey] | None = self._small(sha, ".o2", list)
        return found

    def put_outcomes(self, sha: str, outcomes: list[OutcomeKey]) -> None:
        self._put_small(sha, ".o2", outcomes)

    def get_usage(self, sha: str) -> Any:
        """The blob's usage marks (known.usage_marks_of: source_refs and import marks)."""
        marks = self._small(sha, ".u2", tuple)
        return marks if marks is not None and len(marks) == 2 else None

    def put_usage(self, sha: str, marks: Any) -> None:
        self._put_small(sha, ".u2", marks)

    def grown_from(self, sha: str) -> tuple[str, int] | None:
        """(blob id, length) of the blob whose bytes begin this blob's, whole lines, as the
        writer that appended the rest noted it (known.Sources.appended hashed both), or None."""
        found = self._small(sha, ".g1", tuple)
        if found is None or len(found) != 2:
            return None
        old, size = found
        return (old, size) if isinstance(old, str) and type(size) is int else None

    def note_grown(self, sha: str, old: str, size: int) -> None:
        self._put_small(sha, ".g1", (old, size))

    def get_keys(self, sha: str) -> list[OutcomeKey] | None:
        """The blob's outcomes and retractions, compact (see ledger.known.keys_in): what a
        writer needs to dedupe outcomes and honour undo without parsing usage records."""
        found: list[OutcomeKey] | None = self._small(sha, ".k1", list)
        return found

    def put_keys(self, sha: str, keys: list[OutcomeKey]) -> None:
        self._put_small(sha, ".k1", keys)


def write_atomic(path: Path, payload: bytes | list[bytes | memoryview]) -> None:
    """All or nothing, so a concurrent reader never sees half an entry. payload: the bytes,
    or the pieces they are made of (written one after the other, never joined)."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = temporary(path.parent, ".tmp-")
        with os.fdopen(fd, "wb") as out:
            for piece in [payload] if isinstance(payload, bytes) else payload:
                out.write(piece)
        os.replace(tmp, path)
    except OSError:  # a cache that cannot be written is only slower (no fsync: a cache)
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)  # a full disk keeps no half entry
