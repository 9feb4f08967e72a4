"""Folding many blobs at once: worker processes and this one, for a cold report.

A cold report over a big ledger folds every blob (rows.py). Blobs are independent, so they
are folded side by side when there is enough to fold to pay for starting processes: worker
processes (one per core but one) fold runs of blobs from the first on, each reading its blobs
(the work-tree file, or git) and sending their cache entries back; this process folds blobs
from the last on, and takes the workers' entries in as they come, in the order the blobs were
given: the result is the same as folding them one after another. What this process folds is
never sent nor unmarshalled (the outcomes alone are 80,000 dicts at 10^6): a worker that folds
everything costs this process about a third of the fold again to take it in.

A worker writes its entries to the cache as it exits, not while the report waits for its folds:
the report goes on (its figures take one core) while the workers write on the other. The
entries of the folds made here are written by settle(). The process waits for the workers
before it ends (launch.run settles before it leaves; concurrent.futures joins them at an
ordinary exit); settle() also serves sooner (tests, which read the cache next).

Given a window's cut days (pr: the baseline's, as base is folded next), a worker also places
the lines of those days in each blob it reads (rows.placement): the base then needs neither to
read nor to hash those blobs again.

Threads were tried (the compiled lane reads usage lines without the GIL, and nothing is sent
back): 0.2 s slower at 10^6 than two processes, as making the outcomes' and rows' objects
holds the GIL. BD_VPT_WORKERS=1 folds in this process.

beside() runs one pure function in a forked child while this process goes on: two halves of a
report's figures at once (the child reads the folds as they are at the fork, copy-on-write).
"""

from __future__ import annotations

import gc
import marshal
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bd_vpt.ledger.history import History
from bd_vpt.ledger.rows import PLACED, BlobFold
from bd_vpt.repo import RepoInfo

T = TypeVar("T")

Job = tuple[str, str | None]  # blob id, work-tree path holding exactly it (or None: git)
MIN_BYTES = 24 * 2**20  # below this, one process folds faster than starting workers
MIN_JOBS = 4
_WORKER: History | None = None  # each worker's own reader (one `git cat-file` per worker)
_WRITES: list[tuple[str, bytes]] | None = None  # each worker's entries, written as it exits
# (None: this worker writes none, a repository's first report: BlobCache.keeps_folds)
_POOLS: list[ProcessPoolExecutor] = []  # pools whose workers may still be writing
_LATER: list[tuple[History, str, BlobFold]] = []  # folds made here, their entries unwritten
Spec = tuple[Any, ...]  # the lane's spec of a window's cut days (rows.lane_spec)
_PLACE: Spec | None = None  # each worker's: the cut days it places (rows.placement)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worth_it(root: Path, jobs: list[Job]) -> bool:
    """Enough to fold (by the sizes of the files on disk; a blob only in git counts as a
    shard of average size) on a machine with more than one core, where fork is available."""
    if len(jobs) < MIN_JOBS or cores() < 2 or os.environ.get("BD_VPT_WORKERS") == "1":
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    total = 0
    for _sha, path in jobs:
        try:
            total += (root / path).stat().st_size if path else 512 * 1024
        except OSError:
            total += 512 * 1024
        if total >= MIN_BYTES:
            return True
    return False


def _start(info: RepoInfo, use_cache: bool, keep: bool, place: Spec | None = None) -> None:
    """keep: write the folds (the parent's BlobCache.keeps_folds); place: a window's cut days
    whose lines are placed too (rows.placement), as the lane's spec."""
    from multiprocessing.util import Finalize

    global _WORKER, _WRITES, _PLACE
    _WORKER = History.open(info, use_cache=use_cache)
    _PLACE = place
    _WRITES = [] if keep else None
    if keep:
        Finalize(None, _write_all, exitpriority=10)  # run as the worker exits


def _fold(job: Job) -> tuple[bytes, Any]:
    from bd_vpt.ledger.cache import fold_entry
    from bd_vpt.ledger.rows import fold_blob, placement

    assert _WORKER is not None
    sha, path = job
    data = _WORKER.read(sha, path)
    fold = fold_blob(data)
    entry = fold_entry(sha, fold)
    if _WRITES is not None:
        _WRITES.append((sha, entry))
    placed = placement(data, fold, _PLACE) if _PLACE is not None else None
    return entry, placed  # what the cache holds: the parent loads it as it loads the cache


def _write_all() -> None:
    global _WRITES
    if _WORKER is not None and _WRITES is not None:
        for sha, entry in _WRITES:
            _WORKER.cache.put_fold_entry(sha, entry)
    _WRITES = None


def settle() -> None:
    """Write the cache entries of the folds made here (fold_all), and wait for the workers
    of every pool to exit (theirs written)."""
    from bd_vpt.ledger.cache import fold_entry

    for history, sha, fold in _LATER:
        history.cache.put_fold_entry(sha, fold_entry(sha, fold))
    _LATER.clear()
    if _POOLS:  # (shut down already, without waiting: their worker processes are joined)
        _POOLS.clear()
        for child in multiprocessing.active_children():
            child.join()


def fold_all(history: History, jobs: list[Job], place: Spec | None = None) -> Iterator[BlobFold]:
    """The folds of jobs, in order: worker processes (one per core but one) fold runs of them
    from the first on, and this process folds them one by one from the last on (what it
    folds is not sent back: the outcomes alone are 80,000 dicts at 10^6, a third of what a
    worker spends on a blob to hand over and unmarshal), taking the workers' runs in as they
    come. Each worker holds two runs at most, of a quarter of what no process has yet: the
    runs shrink as the two ends meet, and the processes end close together. place: the lane's
    spec of a window's cut days, whose lines they place too (kept in rows.PLACED). A run a
    worker could not fold (it raised, or died) is folded here: the same folds, or the same
    error; so is every job when no pool could start."""
    from concurrent.futures import Future

    from bd_vpt.ledger.cache import fold_of_entry

    workers = max(1, min(cores(), 8) - 1)
    keep = history.cache.keeps_folds()
    try:
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start,
            initargs=(history.info, history.cache.dir is not None, keep, place),
        )
    except (OSError, ImportError):  # no pool here (no /dev/shm, say): every job folded here
        yield from [_fold_here(history, job, place, keep) for job in jobs]
        return
    _POOLS.append(pool)
    largest = max(1, len(jobs) // (8 * (workers + 1)))
    given: list[tuple[int, int, Future[list[tuple[bytes, Any]]]]] = []  # (from, to, its run)
    taken: list[BlobFold] = []  # the runs given, folded, in order (up to given[len(...)])
    runs_taken = 0
    here: list[BlobFold] = []  # jobs[high:], folded here (last first)
    low, high = 0, len(jobs)  # jobs[low:high]: given to no process yet

    def take_in(run: tuple[int, int, Future[list[tuple[bytes, Any]]]]) -> None:
        first, last, future = run
        try:
            got = future.result()
        except Exception:  # (BrokenProcessPool, an error of the blob's: met again here)
            taken.extend(_fold_here(history, job, place, keep) for job in jobs[first:last])
            return
        for (sha, _path), (entry, placed) in zip(jobs[first:last], got, strict=True):
            if placed is not None and place is not None:
                PLACED[(sha, place)] = placed
            taken.append(fold_of_entry(sha, entry))

    giving = True  # (False: the pool could not take a run)
    try:
        while low < high:
            while giving and sum(not f.done() for *_, f in given[runs_taken:]) < 2 * workers:
                size = min(largest, max(1, (high - low) // (4 * workers)))
                try:
                    future = pool.submit(_fold_run, jobs[low : low + size])
                except Exception:  # (a worker that could not start: the rest is folded here)
                    giving = False
                    break
                given.append((low, low + size, future))
                low += size
                if low >= high:
                    break
            while runs_taken < len(given) and given[runs_taken][2].done():
                take_in(given[runs_taken])
                runs_taken += 1
            if low < high:
                high -= 1
                here.append(_fold_here(history, jobs[high], place, keep))
        for run in given[runs_taken:]:
            take_in(run)
        yield from taken
        yield from reversed(here)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # the workers write theirs as they exit


def _fold_run(run: list[Job]) -> list[tuple[bytes, Any]]:
    return [_fold(job) for job in run]


def _fold_here(history: History, job: Job, place: Spec | None, keep: bool) -> BlobFold:
    """A job folded in this process (its placement kept as a worker's is); its cache entry,
    when folds are kept, is written by settle() (after the report)."""
    from bd_vpt.ledger.rows import fold_blob, placement

    sha, path = job
    data = history.read(sha, path)
    fold = fold_blob(data)
    if place is not None:
        placed = placement(data, fold, place)
        if placed is not None:
            PLACED[(sha, place)] = placed
    if keep:
        _LATER.append((history, sha, fold))
    return fold


def beside(fn: Callable[[], T]) -> Callable[[], T]:
    """fn() computed in a forked child while this process goes on; the returned function
    gives its result (sent back marshal-ed: plain data only). fn must be pure: where fork is
    not available, with one core or BD_VPT_WORKERS=1, or when the child fails in any way
    (fn raised, the result cannot be marshal-ed, the child was killed), fn() runs here, so
    the result, or the error, is the same as calling it."""
    if cores() < 2 or os.environ.get("BD_VPT_WORKERS") == "1" or not hasattr(os, "fork"):
        return _here(fn)
    try:
        read, write = os.pipe()
        pid = os.fork()
    except OSError:
        return _here(fn)
    if pid == 0:  # the child: compute, send, and leave without running the parent's exits
        code = 1
        try:
            os.close(read)
            gc.disable()
            data = marshal.dumps(fn())  # type: ignore[arg-type]
            with os.fdopen(write, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write)

    def collect() -> T:
        with os.fdopen(read, "rb") as got:
            data = got.read()
        _pid, status = os.waitpid(pid, 0)
        if status == 0:
            try:
                return marshal.loads(data)  # type: ignore[no-any-return]
            except (EOFError, ValueError, TypeError):
                pass
        return fn()

    return collect


def _here(fn: Callable[[], T]) -> Callable[[], T]:
    result = fn()
    return lambda: result
