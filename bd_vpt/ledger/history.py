"""The ledger as committed: at a revision, or what a range of revisions added.

Blobs are git objects, parsed once per blob id (see cache.py). A blob whose bytes are also in
the working tree (the index names it for that path, and hashing the file gives its id) is read
from the file: far cheaper than inflating a long delta chain through `git cat-file`, and
exactly the same bytes.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bd_vpt import repo
from bd_vpt.errors import Problem, VptError
from bd_vpt.ledger.cache import BlobCache
from bd_vpt.ledger.store import ParsedBlob, parse_blob
from bd_vpt.repo import RepoInfo


class Progress:
    """A one-line counter on stderr for walks that take more than a moment.

    Only on a terminal, never in CI or for machine formats."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        self.label, self.total = label, total
        self.enabled = enabled and sys.stderr.isatty() and not os.environ.get("CI")
        self.start = time.monotonic()
        self.shown = False

    def step(self, done: int) -> None:
        if self.enabled and time.monotonic() - self.start > 0.3:
            self.shown = True
            sys.stderr.write(f"\r{self.label}: {done}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


@dataclass
class History:
    info: RepoInfo
    cache: BlobCache
    show_progress: bool = False
    _reader: repo.BlobReader | None = None
    warnings: list[Problem] = field(default_factory=list)
    _on_disk: dict[str, str] | None = None  # blob id -> path, of the ledger files in the index
    # blob id -> the path of a file a range changed, whose work-tree file may begin with it
    # (a ledger file grows by appends): read from there when its git id says so (_read)
    _grown: dict[str, str] = field(default_factory=dict)
    _folders: dict[Path, bool] = field(default_factory=dict)  # folder -> lies under the root

    @classmethod
    def open(
        cls, info: RepoInfo, *, use_cache: bool = True, show_progress: bool = False
    ) -> History:
        return cls(info, BlobCache(info.state_dir if use_cache else None), show_progress)

    def parsed(self, sha: str, on_disk: str | None = None) -> ParsedBlob:
        """The blob's records (cached by blob id). on_disk: the work-tree path known to hold
        exactly this blob (clean in the index)."""
        blob = self.cache.get(sha)
        if blob is None:
            blob = parse_blob(self.read(sha, on_disk))
            self.cache.put(sha, blob)
        return blob

    def read(self, sha: str, on_disk: str | None = None) -> bytes:
        """The blob's bytes: from the work-tree file known to hold it, else _read."""
        if on_disk is not None:
            from bd_vpt.files import inside, read_regular

            path = self.info.root / on_disk
            folder = self._folders.get(path.parent)
            if folder is None:  # each folder resolved once (a cold report reads 720 files)
                folder = self._folders[path.parent] = inside(path.parent, self.info.root)
            return read_regular(path, root=self.info.root, folder_inside=folder)
        return self._read(sha)

    def retracted(self, items: list[tuple[str, str]], root_files: bool = False) -> frozenset[str]:
        """The ids the retractions in these blobs withdraw (bd-vpt undo), from the compact
        per-blob entry (outcomes and retractions) so a report need not hold every record to
        honour them. root_files: the blobs are the clean work-tree files at those paths."""
        from bd_vpt.ledger.known import RETRACTION, retractions_in

        gone: set[str] = set()
        for path, sha in items:
            keys = self.cache.get_keys(sha)
            if keys is not None:
                gone.update(k[4] for k in keys if k[3] == RETRACTION and k[4])
                continue
            data = (self.info.root / path).read_bytes() if root_files else self._read(sha)
            gone.update(retractions_in(data))
        return frozenset(gone)

    def _read(self, sha: str) -> bytes:
        if self._on_disk is None:
            self._on_disk = {s: p for p, s in repo.index_blobs(self.info.root).items()}
        path = self._on_disk.get(sha)
        if path is not None:
            try:
                data = (self.info.root / path).read_bytes()
            except OSError:
                data = None
            if data is not None and repo.blob_id(data, len(sha)) == sha:
                return data
        key = (str(self.info.common_dir), sha)
        data = _FROM_GIT.get(key)
        if data is None and sha in self._grown:
            data = self._first_bytes(sha, self._grown[sha])
            if data is not None:
                _keep(key, data)
        if data is None:
            if self._reader is None:
                self._reader = repo.BlobReader(self.info.root)
            data = self._reader.read(sha)
            _keep(key, data)
        return data

    def _first_bytes(self, sha: str, path: str) -> bytes | None:
        """The blob sha as the first bytes of the work-tree file at path, when they are it
        (their git id is sha), without git inflating it (nor GitPython imported); else None."""
        size = repo.git("cat-file", "-s", sha, cwd=self.info.root, check=False).strip()
        try:
            data = (self.info.root / path).read_bytes()
        except OSError:
            return None
        if not size.isdigit() or int(size) > len(data):
            return None
        first = data[: int(size)]
        return first if repo.blob_id(first, len(sha)) == sha else None

    def may_begin(self, sha: str, path: str) -> None:
        """The blob sha may be the first bytes of the work-tree file at path (an older
        version of a ledger file, which grows by appends): read from there when its git id
        says so (_read), before asking git."""
        self._grown[sha] = path

    def walk(self, label: str, items: list[tuple[str, str]]) -> Iterator[tuple[str, ParsedBlob]]:
        progress = Progress(label, len(items), self.show_progress)
        try:
            for done, (path, sha) in enumerate(items, 1):
                yield path, self.parsed(sha)
                progress.step(done)
        finally:
            progress.close()

    def at(self, rev: str) -> Iterator[tuple[str, ParsedBlob]]:
        """Every ledger blob as committed at rev."""
        commit = repo.rev_parse(self.info.root, rev)
        return self.walk(f"reading ledger at {rev}", repo.ledger_tree(self.info.root, commit))

    def added(self, spec: str) -> Iterator[tuple[str, ParsedBlob]]:
        """What the range added: records in B's changed blobs and not in A's.

        A..B compares A with B; A...B compares B with the merge base of A and B (what a
        branch or a pull request contributed). A record present on both sides counts once;
        one that the range removed is reported as a warning.
        """
        base, head = parse_range(self.info, spec)
        changes = repo.ledger_diff(self.info.root, base, head)
        self._grown.update((old, path) for path, old, new in changes if old and new)
        before: set[str] = set()
        olds: dict[str, ParsedBlob] = {}  # (read again below)
        for path, blob in self.walk("reading range base", [(p, o) for p, o, _ in changes if o]):
            before.update(r["id"] for r in blob.records)
            olds[path] = blob
        after: set[str] = set()
        for path, blob in self.walk(f"reading {spec}", [(p, n) for p, _, n in changes if n]):
            after.update(r["id"] for r in blob.records)
            yield path, _only_new(blob, before)
        for path, old, _new in changes:
            if old is None:
                continue
            for rid, line in _ids_and_lines(olds[path]):
                if rid not in after:
                    self.warnings.append(
                        Problem(
                            path,
                            line,
                            f"record {rid} was removed in {spec}",
                            "ledger records are append-only: restore it unless the removal was meant",
                            severity="warning",
                        )
                    )

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


# blobs read from git (or from the first bytes of a file that grew: _first_bytes) by this
# process, newest last: a blob is often read twice (pr reads a changed file's old blob for the
# range and for the base), and inflating one from a long delta chain costs tens of milliseconds
_FROM_GIT: dict[tuple[str, str], bytes] = {}  # (repository, blob id) -> bytes
_KEPT_BYTES = 8 * 2**20  # a few shards' worth: a report reading many blobs keeps only these


_HELD = [0]  # the bytes _FROM_GIT holds (kept as they come and go, not summed each time)


def _keep(key: tuple[str, str], data: bytes) -> None:
    if not _FROM_GIT:
        _HELD[0] = 0  # (emptied from outside: tests)
    before = _FROM_GIT.pop(key, None)
    _HELD[0] += len(data) - (len(before) if before is not None else 0)
    _FROM_GIT[key] = data
    while len(_FROM_GIT) > 1 and _HELD[0] > _KEPT_BYTES:
        _HELD[0] -= len(_FROM_GIT.pop(next(iter(_FROM_GIT))))


def _ids_and_lines(blob: ParsedBlob) -> Iterable[tuple[str, int]]:
    return ((r["id"], line) for r, line in zip(blob.records, blob.lines, strict=True))


def _only_new(blob: ParsedBlob, before: set[str]) -> ParsedBlob:
    keep = [i for i, r in enumerate(blob.records) if r["id"] not in before]
    return ParsedBlob(
        records=[blob.records[i] for i in keep],
        fingerprints=[blob.fingerprints[i] for i in keep],
        lines=[blob.lines[i] for i in keep],
        problems=blob.problems,
        lines_read=blob.lines_read,
    )


def parse_range(info: RepoInfo, spec: str) -> tuple[str, str]:
    """(base commit, head commit) of `A..B` or `A...B` (an empty side means HEAD)."""
    three = "..." in spec
    parts = spec.split("..." if three else "..")
    if len(parts) != 2 or (three and spec.count("...") != 1):
        raise VptError(f"bad range {spec!r}", hint="write A..B or A...B, e.g. main...HEAD")
    a = repo.rev_parse(info.root, parts[0] or "HEAD")
    b = repo.rev_parse(info.root, parts[1] or "HEAD")
    return (repo.merge_base(info.root, a, b) if three else a), b
