"""The views a report reads: the working tree, the ledger as committed at --rev, or what
--range added; the memo of finished reports; and what a read met on the way (problems,
strictness). Every report takes its records from here.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bd_vpt.config import Config
from bd_vpt.errors import EXIT_BAD, Problem, VptError, report_problems
from bd_vpt.ledger import store as ledger
from bd_vpt.ledger.history import History
from bd_vpt.ledger.records import Record
from bd_vpt.ledger.store import ParsedBlob
from bd_vpt.repo import RepoInfo


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a ledger is read and folded.

    A read makes a million small dicts; CPython's collector would scan the live ones again
    and again while they are made (a quarter of a cold 10^6-record report). Records hold no
    reference cycles, so reference counting frees them all the same. Nested pauses are fine;
    the collector is back on (if it was on) when the outermost one ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class LedgerView:
    """The records a report reads, and what was wrong on the way."""

    blobs: Iterable[tuple[str, ParsedBlob]]
    history: History | None = None
    scan: ledger.Scan = field(default_factory=ledger.Scan)
    label: str = "working tree"
    fingerprint: str | None = None  # names exactly the ledger content read; None: no memo
    retracted: Callable[[], frozenset[str]] | None = None  # ids withdrawn, known up front

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


def working_tree(root: Path) -> LedgerView:
    """Every ledger file as it is on disk (no cache: for tests and the demo)."""
    view = LedgerView([])
    sources = ledger.working_tree_sources(root, problems=view.scan.problems)
    view.blobs = ((p, ledger.parse_blob(data)) for p, data in sources)
    return view


def _worktree(history: History) -> LedgerView:
    """Files unchanged since `git add` come from the blob cache (by blob id); others are
    read and parsed. The fingerprint names each file by blob id or content hash."""
    import hashlib

    from bd_vpt.files import read_regular
    from bd_vpt.repo import ledger_index

    root = history.info.root
    clean = ledger_index(root)
    items: list[tuple[str, str | None, bytes | None]] = []
    digest = hashlib.sha256()
    skipped: list[Problem] = []  # FIFOs, symlinks out of the repository...: never read
    for path in ledger.ledger_files(root, skipped):
        rel = path.relative_to(root).as_posix()
        sha = clean.get(rel)
        data = None if sha else read_regular(path, root=root)
        items.append((rel, sha, data))
        digest.update(f"{rel}\0{sha or hashlib.sha1(data or b'').hexdigest()}\0".encode())

    def blobs() -> Iterator[tuple[str, ParsedBlob]]:
        for rel, sha, data in items:
            if sha is None:
                yield rel, ledger.parse_blob(data or b"")
                continue
            blob = history.cache.get(sha)
            if blob is None:  # clean: the file on disk is the blob, and faster to read
                blob = ledger.parse_blob(read_regular(root / rel, root=root))
                history.cache.put(sha, blob)
            yield rel, blob

    def retracted() -> frozenset[str]:
        from bd_vpt.ledger.known import retractions_in

        gone = set(history.retracted([(rel, sha) for rel, sha, _ in items if sha], root_files=True))
        for _rel, sha, data in items:
            if sha is None:
                gone.update(retractions_in(data or b""))
        return frozenset(gone)

    for problem in skipped:
        digest.update(f"{problem.path}\0{problem.message}\0".encode())
    view = LedgerView(
        blobs(), history, fingerprint="worktree:" + digest.hexdigest(), retracted=retracted
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
    return LedgerView(
        history.at(commit),
        history,
        label=rev,
        fingerprint=f"rev:{ledger_tree_id(info.root, commit)}",
        retracted=lambda: history.retracted(ledger_tree(info.root, commit)),
    )


def memoised(
    view: LedgerView,
    report: str,
    args: dict[str, Any],
    config: Config,
    strict: bool,
    fold: Callable[[Iterable[Record]], Any],
) -> tuple[Any, int]:
    """(fold(the view's records), problems met) once per (ledger content, report, args,
    config). The problems are kept with the result and printed again on a hit, so a warm
    report warns (and --strict fails) as a cold one does."""
    from bd_vpt.ledger.memo import Memo, key

    history = view.history
    usable = view.fingerprint is not None and history is not None and history.cache.dir is not None
    memo = Memo(history.info.state_dir if usable and history is not None else None)
    digest = key(report, args, config.raw, view.fingerprint or "")
    entry = memo.get(digest)
    if entry is not None:
        problems = [Problem(**p) for p in entry["problems"]]
        finish(ledger.Scan(problems=problems), strict=strict)
        return entry["result"], len(problems)
    with gc_paused():
        result = fold(view.records())
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
