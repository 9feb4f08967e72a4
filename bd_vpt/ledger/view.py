"""The views a report reads: the working tree, the ledger as committed at --rev, or what
--range added; the memo of finished reports; and what a read met on the way (problems,
strictness). Every report takes its records from here.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bd_vpt import gc_paused
from bd_vpt.config import Config
from bd_vpt.errors import EXIT_BAD, Problem, VptError, report_problems
from bd_vpt.ledger import store as ledger
from bd_vpt.ledger.history import History
from bd_vpt.ledger.records import Record
from bd_vpt.ledger.store import ParsedBlob
from bd_vpt.repo import RepoInfo

if TYPE_CHECKING:
    from bd_vpt.ledger.delta import Index, Step
    from bd_vpt.ledger.rows import BlobFold, Folded


@dataclass(frozen=True)
class Entry:
    """One ledger file of a view: its path, its blob id (of the bytes on disk for a file
    changed since `git add`), the bytes already read (changed files), and whether the file
    on disk is that blob (clean in the index, or --rev's blob checked out)."""

    path: str
    sha: str
    data: bytes | None = None
    on_disk: bool = False


@dataclass
class LedgerView:
    """The records a report reads, and what was wrong on the way."""

    blobs: Iterable[tuple[str, ParsedBlob]]
    history: History | None = None
    scan: ledger.Scan = field(default_factory=ledger.Scan)
    label: str = "working tree"
    fingerprint: str | None = None  # names exactly the ledger content read; None: no memo
    retracted: Callable[[], frozenset[str]] | None = None  # ids withdrawn, known up front
    # the blobs by id, when the view is whole blobs (the working tree, --rev): usage reports
    # can then merge per-blob folds (folded()) instead of reading every record
    entries: list[Entry] | None = None
    # after folded(keep=True): the entries' folds as merged, when none was re-folded but for
    # the ids retracted, every id key and every source_ref key sorted, and the blobs
    # re-folded for retracted ids (ledger/delta.py keeps them)
    kept: tuple[list[BlobFold], array[int], array[int], set[str]] | None = None
    memo_key: str | None = None  # after memoised(): the memo entry's key, when there is a memo
    # after folded() found no id and no source_ref in two blobs: each path's fold; a view
    # folded later that shares most blobs with this one (like) need not sort every key again
    distinct: dict[str, BlobFold] | None = None
    like: LedgerView | None = None
    # a window (and the days it cuts) another view will fold these blobs for next: the fold
    # workers place the lines of those days while they hold the bytes (rows.PLACED)
    ahead: tuple[Any, set[str]] | None = None

    def records(self) -> Iterator[Record]:
        """Every record once; a retracted record (bd-vpt undo) and its retraction never."""
        with gc_paused():
            if self.retracted is not None:  # from compact per-blob entries: records stream
                self.scan.retracted = self.retracted()
                blobs: Iterable[tuple[str, ParsedBlob]] = self.blobs
            else:  # a retraction can come after what it withdraws: look at every blob first
                blobs = list(self.blobs)
                self.scan.retracted = frozenset(
                    r["retracts"] for _, b in blobs for r in b.records if r["kind"] == "retraction"
                )
            for path, blob in blobs:
                yield from self.scan.merge(path, blob)
        if self.history is not None:
            self.scan.problems.extend(self.history.warnings)
            self.history.close()

    def folded(self, cut: Any = None, halves: Iterable[str] = (), keep: bool = False) -> Folded:
        """The view's usage as rows and its outcomes (ledger/rows.py): per-blob folds merged,
        each from the cache or folded once (in worker processes when there is much to fold).
        The same figures as folding records() (a test holds the two together): a blob with a
        retracted record, or with usage on a day the window cuts (halves; cut places its
        records one by one), is folded from its records; so are the blobs that share an id
        or a source_ref with another (a record copied into a second shard), through one
        dedupe in the blobs' order, as the record route reads them. keep: set self.kept."""
        from bd_vpt.ledger.rows import Folded, cut_fold, exact, id_keys, repeated_both

        with gc_paused():
            if self.entries is None or self.history is None:
                return self._through_records(cut if halves else None)
            history, entries = self.history, self.entries
            halves = set(halves)
            cut = cut if halves else None
            folds = list(_folds(history, entries, self.ahead))
            keys: list[array[int]] | None = [] if keep else None  # every id, every ref, sorted
            twice: set[int]
            twice_refs: set[int]
            if keys is None and _distinct_like(self.like, entries, folds):
                twice, twice_refs = set(), set()  # (what repeated_both finds, proven)
            else:
                twice, twice_refs = repeated_both(
                    [f.ids for f in folds], [f.refs for f in folds], keys
                )
            if not twice and not twice_refs:
                self.distinct = {e.path: f for e, f in zip(entries, folds, strict=True)}
            retracted = frozenset(rid for f in folds for rid in f.retracts)
            withdrawn = set(id_keys(retracted))
            shared = ledger.Scan(retracted=retracted)  # for blobs that repeat each other
            out = Folded()
            kept = True
            merged: list[BlobFold] = []
            rerouted: set[str] = set()  # only for the retracted ids
            for entry, fold in zip(entries, folds, strict=True):
                if (twice and not twice.isdisjoint(fold.ids)) or (
                    twice_refs and not twice_refs.isdisjoint(fold.refs)
                ):
                    fold = exact(_parsed(history, entry), retracted, cut, shared)
                    kept = False
                elif withdrawn and not withdrawn.isdisjoint(fold.ids):
                    fold = exact(_parsed(history, entry), retracted, cut)
                    rerouted.add(entry.sha)
                elif halves and not halves.isdisjoint(fold.days()):
                    placed = cut_fold(fold, partial(_data, history, entry), cut, halves, entry.sha)
                    fold = placed or exact(_parsed(history, entry), retracted, cut)
                    kept = False
                out.add(entry.path, fold)
                merged.append(fold)
            if kept and keys is not None and not halves:
                self.kept = (merged, keys[0], keys[1], rerouted)
            self.scan.problems.extend(out.problems)
            self.scan.problems.extend(history.warnings)
            out.problems = self.scan.problems
            history.close()
            return out

    def stepped(self, index: Index) -> Step | None:
        """The step from index's view to this one (ledger/delta.py): folds from the cache,
        else folded; None when it is not plain (the report then calls folded())."""
        from bd_vpt.ledger.delta import step

        history = self.history
        if self.entries is None or history is None or history.warnings:
            return None
        from bd_vpt.ledger.rows import exact

        def refold(item: Entry | tuple[str, str], retracted: frozenset[str]) -> BlobFold | None:
            entry = item if isinstance(item, Entry) else Entry(*item)
            try:
                return exact(_parsed(history, entry), retracted)
            except Exception:  # not in git (a file changed since `git add`, gone): full way
                return None

        with gc_paused():
            found = step(
                index,
                self.entries,
                lambda e: list(_folds(history, e)),
                history.cache.get_fold,
                refold,
            )
        if found is not None:
            self.scan.problems.extend(
                Problem(path, *p) for path, p in found.index.problems_in_order()
            )
            history.close()
        return found

    def _through_records(self, cut: Any) -> Folded:
        from bd_vpt.ledger.rows import Folded
        from bd_vpt.ledger.usage import fold_records

        if self.entries is not None and self.history is not None:
            self.blobs = _parsed_blobs(self.history, self.entries)
        rows, outcomes = fold_records(self.records(), cut)
        scan = self.scan
        return Folded(rows, outcomes, scan.problems, scan.lines, scan.duplicates, scan.withdrawn)


def _distinct_like(like: LedgerView | None, entries: list[Entry], folds: list[BlobFold]) -> bool:
    """Whether no id key and no ref key is in two of folds, known from like's (folded with
    none in two): each fold is like's fold at its path, or its keys are among that fold's
    (a blob that grew by appends); a key in two of these would then be in two of like's."""
    theirs = like.distinct if like is not None else None
    if theirs is None or len({e.path for e in entries}) != len(entries):
        return False
    for entry, fold in zip(entries, folds, strict=True):
        other = theirs.get(entry.path)
        if other is None:
            return False
        if other is not fold and not (
            set(fold.ids).issubset(other.ids) and set(fold.refs).issubset(other.refs)
        ):
            return False
    return True


def _parsed(history: History, entry: Entry) -> ParsedBlob:
    if entry.data is not None:  # changed since `git add`: no git object holds these bytes
        return ledger.parse_blob(entry.data)
    return history.parsed(entry.sha, entry.path if entry.on_disk else None)


def _data(history: History, entry: Entry) -> bytes:
    if entry.data is not None:
        return entry.data
    return history.read(entry.sha, entry.path if entry.on_disk else None)


def _parsed_blobs(history: History, entries: list[Entry]) -> Iterator[tuple[str, ParsedBlob]]:
    for entry in entries:
        yield entry.path, _parsed(history, entry)


def _folds(
    history: History, entries: list[Entry], ahead: tuple[Any, set[str]] | None = None
) -> Iterator[BlobFold]:
    """Each entry's fold, in order: from the cache, else folded (and cached): from the
    cached fold of the blob it grew from when it is that blob with lines appended (tail.py),
    else whole. ahead: a window whose cut days fold workers place too (LedgerView.ahead)."""
    from bd_vpt.ledger.rows import fold_blob, lane_spec
    from bd_vpt.ledger.tail import appended

    cache, root = history.cache, str(history.info.root)
    found = cache.get_folds([entry.sha for entry in entries])
    missing = [i for i, fold in enumerate(found) if fold is None and entries[i].data is None]
    jobs = [(entries[i].sha, entries[i].path if entries[i].on_disk else None) for i in missing]
    notes: dict[str, tuple[str, int]] = {}  # the blobs folded now, at their paths
    noted: dict[str, tuple[str, int]] | None = None  # the cache's notes, read at the first miss
    if jobs:
        from bd_vpt.ledger import parallel  # (multiprocessing: milliseconds to import)
    if jobs and parallel.worth_it(history.info.root, jobs):  # worker processes, in order
        spec = lane_spec(*ahead) if ahead is not None and ahead[1] else None
        place = () if spec is None else (spec,)  # (fold_all's own default otherwise)
        for i, folded in zip(missing, parallel.fold_all(history, jobs, *place), strict=True):
            found[i] = folded
            cache.put_fold(entries[i].sha, folded, written=True)
            if entries[i].on_disk:  # (its length: the file's, which is that blob)
                try:
                    size = os.stat(os.path.join(root, entries[i].path)).st_size
                except OSError:
                    continue
                notes[entries[i].path] = (entries[i].sha, size)
    for entry, have in zip(entries, found, strict=True):
        if have is not None:
            yield have
            continue
        data = _data(history, entry)
        if noted is None:
            noted = cache.noted_blobs()
        fold = appended(cache, entry.path, data, noted, entry.sha) or fold_blob(data)
        cache.put_fold(entry.sha, fold)
        notes[entry.path] = (entry.sha, len(data))
        yield fold
    if notes:
        cache.note_blobs(notes, cache.noted_blobs() if noted is None else noted)


def working_tree(root: Path) -> LedgerView:
    """Every ledger file as it is on disk (no cache: for tests and the demo)."""
    view = LedgerView([])
    sources = ledger.working_tree_sources(root, problems=view.scan.problems)
    view.blobs = ((p, ledger.parse_blob(data)) for p, data in sources)
    return view


def _worktree(history: History) -> LedgerView:
    """Files unchanged since `git add` come from the caches (by blob id); others are read,
    and cached by the blob id their bytes would have. The fingerprint names each file by
    blob id (ledger/tree.py)."""
    from bd_vpt.ledger.tree import worktree

    root = history.info.root
    files, skipped, fingerprint = worktree(root)
    entries = [Entry(rel, sha, data, on_disk=data is None) for rel, sha, data in files]

    def retracted() -> frozenset[str]:
        from bd_vpt.ledger.known import retractions_in

        gone = set(
            history.retracted([(e.path, e.sha) for e in entries if e.data is None], root_files=True)
        )
        for entry in entries:
            if entry.data is not None:
                gone.update(retractions_in(entry.data))
        return frozenset(gone)

    view = LedgerView(
        _parsed_blobs(history, entries),
        history,
        fingerprint=fingerprint,
        retracted=retracted,
        entries=entries,
    )
    view.scan.problems.extend(skipped)
    return view


def open_view(
    info: RepoInfo,
    *,
    rev: str | None = None,
    range_: str | None = None,
    use_cache: bool = True,
    progress: bool = False,
) -> LedgerView:
    """The working tree by default; the ledger committed at --rev; or what --range added."""
    if rev and range_:
        raise VptError(
            "--rev and --range do not go together", hint="a range names its own revisions"
        )
    from bd_vpt.ledger.history import parse_range
    from bd_vpt.repo import ledger_diff, ledger_tree, ledger_tree_id, rev_parse

    history = History.open(info, use_cache=use_cache, show_progress=progress)
    if not rev and not range_:
        return _worktree(history)
    if range_:
        base, head = parse_range(info, range_)
        print_ = f"range:{ledger_tree_id(info.root, base)}:{ledger_tree_id(info.root, head)}"
        return LedgerView(
            history.added(range_),
            history,
            label=range_,
            fingerprint=print_,
            retracted=lambda: history.retracted(  # retractions the range added
                [(p, new) for p, _old, new in ledger_diff(info.root, base, head) if new]
            ),
        )
    assert rev is not None
    commit = rev_parse(info.root, rev)
    tree = ledger_tree(info.root, commit)
    return LedgerView(
        history.walk(f"reading ledger at {rev}", tree),
        history,
        label=rev,
        fingerprint=f"rev:{ledger_tree_id(info.root, commit)}",
        retracted=lambda: history.retracted(tree),
        entries=[Entry(path, sha) for path, sha in tree],
    )


def mark_clean(views: list[LedgerView]) -> None:
    """Mark the entries of these --rev views that the work tree holds, clean in the index, as
    on disk: read without hashing them again (pr's base and head share most files with the
    checkout). One git status for all (_clean); a view of no entries is left as it is."""
    whole = [v for v in views if v.entries is not None and v.history is not None]
    if not whole:
        return
    assert whole[0].history is not None
    paths = sorted({e.path for v in whole for e in v.entries or [] if e.data is None})
    clean = _clean(whole[0].history.info, paths)
    for v in whole if clean else ():
        v.entries = [
            replace(e, on_disk=True) if e.data is None and clean.get(e.path) == e.sha else e
            for e in v.entries or []
        ]


def _clean(info: RepoInfo, paths: list[str]) -> dict[str, str]:
    """path -> blob id of the ledger files the work tree holds as the index names them
    (repo.ledger_index), asked only when git can tell from the files' stat data alone:
    each of these files older than the index by a second or more, else git would hash the
    racily clean ones (a fresh clone: a second at 10^6) and History._read hashes just as
    well the blobs it reads. Never in a git hook (GIT_INDEX_FILE: another index)."""
    from bd_vpt.repo import ledger_index

    if os.environ.get("GIT_INDEX_FILE") or not paths:
        return {}
    root = str(info.root)
    try:
        stamp = os.stat(os.path.join(info.git_dir, "index")).st_mtime_ns // 10**9
        for path in paths:
            if os.stat(os.path.join(root, path)).st_mtime_ns // 10**9 >= stamp:
                return {}
    except OSError:  # (no index; a file gone: read as before)
        return {}
    return ledger_index(info.root)


def memoised(
    view: LedgerView,
    report: str,
    args: dict[str, Any],
    config: Config,
    strict: bool,
    fold: Callable[[LedgerView], Any],
) -> tuple[Any, int]:
    """(fold(view), problems met) once per (ledger content, report, args, config); fold
    reads the view's records() or its folded() usage. The problems are kept with the result
    and printed again on a hit, so a warm report warns (and --strict fails) as a cold one
    does."""
    from bd_vpt.ledger.memo import Memo, key

    history = view.history
    usable = view.fingerprint is not None and history is not None and history.cache.dir is not None
    memo = Memo(history.info.state_dir if usable and history is not None else None)
    digest = key(report, args, config.raw, view.fingerprint or "")
    view.memo_key = digest if memo.dir is not None else None
    entry = memo.get(digest)
    if entry is not None:
        problems = [Problem(**p) for p in entry["problems"]]
        finish(ledger.Scan(problems=problems), strict=strict)
        return entry["result"], len(problems)
    with gc_paused():
        result = fold(view)
    finish(view.scan, strict=strict)
    memo.put(digest, result, [p.as_dict() for p in view.scan.problems])
    return result, len(view.scan.problems)


def finish(scan: ledger.Scan, *, strict: bool) -> None:
    """Print one warning per bad line; with --strict any problem fails the report."""
    report_problems(scan.problems)
    if strict and scan.problems:
        raise VptError(
            f"{len(scan.problems)} problem(s) in the ledger (--strict)",
            hint="run `bd-vpt validate` for the list; fix or remove the bad lines",
            exit_code=EXIT_BAD,
        )
