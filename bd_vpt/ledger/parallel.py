"""Folding many blobs at once: worker processes and this one, for a cold report.

A cold report over a big ledger folds every blob (rows.py). Blobs are independent, so they
are folded side by side when there is enough to fold to pay for starting processes: worker
processes (one per core but one, forked) fold runs of blobs from the first on, each reading
its blobs (the work-tree file, or git) and sending their cache entries back through a pipe;
this process folds blobs from the last on, and takes the workers' entries in as they come, in
the order the blobs were given: the result is the same as folding them one after another.
What this process folds is never sent nor unmarshalled (the outcomes alone are 80,000 dicts at
10^6): a worker that folds everything costs this process about a third of the fold again to
take it in. The workers are plain forks with two pipes each (no multiprocessing nor
concurrent.futures: their imports were 11 ms of a cold report, and their threads took the
GIL from the fold).

A worker writes its entries to the cache as it exits, not while the report waits for its folds:
the report goes on (its figures take one core) while the workers write on the other. The
entries of the folds made here are written by settle(), which then waits for the workers
(launch.run settles before the process leaves; tests settle before they read the cache).

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
import os
from collections.abc import Callable, Iterator
from contextlib import suppress
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
_PIDS: list[int] = []  # worker processes that may still be writing their entries
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
    if not hasattr(os, "fork"):
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
    """A worker's own reader; keep: write the folds (the parent's BlobCache.keeps_folds, as
    the worker exits: _serve); place: a window's cut days whose lines are placed too
    (rows.placement), as the lane's spec."""
    global _WORKER, _WRITES, _PLACE
    _WORKER = History.open(info, use_cache=use_cache)
    _PLACE = place
    _WRITES = [] if keep else None


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
    to exit (theirs written)."""
    from bd_vpt.ledger.cache import fold_entry

    for history, sha, fold in _LATER:
        history.cache.put_fold_entry(sha, fold_entry(sha, fold))
    _LATER.clear()
    while _PIDS:
        with suppress(ChildProcessError):  # (waited for already)
            os.waitpid(_PIDS.pop(), 0)


def fold_all(history: History, jobs: list[Job], place: Spec | None = None) -> Iterator[BlobFold]:
    """The folds of jobs, in order: worker processes (one per core but one, forked) fold runs
    of them from the first on, and this process folds them one by one from the last on (what
    it folds is not sent back: the outcomes alone are 80,000 dicts at 10^6, a third of what a
    worker spends on a blob to hand over and unmarshal), taking the workers' runs in as they
    come. Each worker holds two runs at most, of a quarter of what no process has yet: the
    runs shrink as the two ends meet, and the processes end close together. place: the lane's
    spec of a window's cut days, whose lines they place too (kept in rows.PLACED). A run a
    worker could not fold (it raised, or died) is folded here: the same folds, or the same
    error; so is every job when no worker could start."""
    import select

    from bd_vpt.ledger.cache import fold_of_entry

    keep = history.cache.keeps_folds()
    opened: list[int] = []  # this process's ends of the workers' pipes (closed in each worker)
    workers: list[_Worker] = []
    try:
        for _ in range(max(1, min(cores(), 8) - 1)):
            worker = _Worker.fork(history, keep, place, opened)
            if worker is not None:
                workers.append(worker)
        largest = max(1, len(jobs) // (8 * (len(workers) + 1)))
        folded: dict[int, list[BlobFold]] = {}  # the start of a run given -> its folds
        here: list[BlobFold] = []  # jobs[high:], folded here (last first)
        low, high = 0, len(jobs)  # jobs[low:high]: given to no process yet
        waiting = select.poll()
        for worker in workers:
            waiting.register(worker.results, select.POLLIN)

        def take_in(worker: _Worker) -> None:
            """The worker's next run, folded; folded here if it failed or the worker died."""
            first, last = worker.given.pop(0)
            got = worker.take()
            if got is None:
                folded[first] = [_fold_here(history, job, place, keep) for job in jobs[first:last]]
                return
            folds = folded[first] = []
            for (sha, _path), (entry, placed) in zip(jobs[first:last], got, strict=True):
                if placed is not None and place is not None:
                    PLACED[(sha, place)] = placed
                folds.append(fold_of_entry(sha, entry))

        while low < high:
            for worker in workers:
                while worker.alive and len(worker.given) < 2 and low < high:
                    size = min(largest, max(1, (high - low) // (4 * len(workers))))
                    if worker.give(low, low + size, jobs[low : low + size]):
                        low += size
            for fd, _event in waiting.poll(0):
                worker = next(w for w in workers if w.results == fd)
                if worker.given:
                    take_in(worker)
                if not worker.alive:  # (its end of the pipe is readable from now on)
                    waiting.unregister(fd)
            if low < high:
                high -= 1
                here.append(_fold_here(history, jobs[high], place, keep))
        for worker in workers:
            while worker.given:
                take_in(worker)
    finally:  # no more runs: each worker writes its entries and exits (settle waits for it)
        while opened:
            os.close(opened.pop())
    for first in sorted(folded):
        yield from folded[first]
    yield from reversed(here)


class _Worker:
    """A forked worker process (_serve): runs of jobs in through one pipe, their folds back
    through another (marshal, after a byte for success and the length). This process reads
    a run's folds whole once the first of them is there (fold_all polls between its own)."""

    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid, self.tasks, self.results = pid, tasks, results
        self.given: list[tuple[int, int]] = []  # the runs sent, not yet taken in, in order
        self.alive = True
        with suppress(OSError, ImportError):  # (Linux: room for most of a run's folds, so the
            import fcntl  # worker seldom waits for this process to take them in)

            fcntl.fcntl(results, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)

    @classmethod
    def fork(
        cls, history: History, keep: bool, place: Spec | None, opened: list[int]
    ) -> _Worker | None:
        """A worker started (None: no pipe or no process could be made). opened: this
        process's ends of the pipes of the workers before it, closed in the new one (else a
        worker would never see the end of its runs)."""
        try:
            tasks_in, tasks_out = os.pipe()
            results_in, results_out = os.pipe()
        except OSError:
            return None
        try:
            pid = os.fork()
        except OSError:
            for fd in (tasks_in, tasks_out, results_in, results_out):
                os.close(fd)
            return None
        if pid == 0:  # the worker: fold what comes, and leave without the parent's exits
            code = 1
            try:
                for fd in (*opened, tasks_out, results_in):
                    os.close(fd)
                _start(history.info, history.cache.dir is not None, keep, place)
                _serve(tasks_in, results_out)
                code = 0
            finally:
                os._exit(code)
        os.close(tasks_in)
        os.close(results_out)
        opened.extend((tasks_out, results_in))
        _PIDS.append(pid)
        return cls(pid, tasks_out, results_in)

    def give(self, first: int, last: int, run: list[Job]) -> bool:
        data = marshal.dumps(run)
        try:
            _write_all_of(self.tasks, len(data).to_bytes(8, "little") + data)
        except OSError:  # (the worker died: what it holds is folded here)
            self.alive = False
            return False
        self.given.append((first, last))
        return True

    def take(self) -> Any:
        """The next run's folds, or None: it failed, or the worker died."""
        head = _read_all_of(self.results, 9)
        if len(head) == 9 and head[0] == 1:
            size = int.from_bytes(head[1:], "little")
            data = _read_all_of(self.results, size)
            if len(data) == size:
                try:
                    return marshal.loads(data)
                except (EOFError, ValueError, TypeError):
                    return None
        if len(head) < 9:
            self.alive = False
        return None


def _serve(tasks: int, results: int) -> None:
    """A worker's loop: each run read, folded and sent back (or a failure sent), until no
    more come; then its entries are written (_write_all)."""
    try:
        while True:
            head = _read_all_of(tasks, 8)
            if len(head) < 8:
                break
            run = marshal.loads(_read_all_of(tasks, int.from_bytes(head, "little")))
            try:
                data = marshal.dumps(_fold_run(run))
            except Exception:  # (folded again by the parent: the same folds, or its error)
                _write_all_of(results, b"\0" + bytes(8))
                continue
            _write_all_of(results, b"\1" + len(data).to_bytes(8, "little"))
            _write_all_of(results, data)
    finally:
        _write_all()


def _write_all_of(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_all_of(fd: int, size: int) -> bytes | bytearray:
    """size bytes from fd, or fewer at its end."""
    if size <= 0:
        return b""
    got = bytearray(size)
    at = 0
    while at < size:
        n = os.readv(fd, [memoryview(got)[at:]])
        if n == 0:
            return got[:at]
        at += n
    return got


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
