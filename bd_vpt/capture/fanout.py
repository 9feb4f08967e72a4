"""Reading many transcript files at once: worker processes read some of the files while
this process reads the rest, results handed back in the files' order (so what is built from
them is the same, byte for byte, as from a serial read).

$BD_VPT_JOBS sets the number of processes reading (this one included): 1 reads serially;
unset or 0 picks one per core, only for more than PARALLEL_BYTES of files. Handing a file's
messages back costs about a third of reading it, so this process, which would otherwise
wait, reads files itself: the runs of files no worker has started yet, from the last one
on, which shares the work out however busy the cores are (on 2 cores: one worker and this
process; measured faster than one process, where a pool of workers alone was slower).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar, cast

T = TypeVar("T")
U = TypeVar("U")

PARALLEL_BYTES = 24 * 1024 * 1024  # below this much to read, a pool costs more than it saves
CHUNK_BYTES = 4 * 1024 * 1024  # files are handed to workers in runs of about this many bytes


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def jobs(total_bytes: int, files: int) -> int:
    """How many processes read `files` files of `total_bytes` bytes (1: this one alone)."""
    wanted = os.environ.get("BD_VPT_JOBS", "").strip()
    try:
        asked = int(wanted) if wanted else 0
    except ValueError:
        asked = 0
    if asked < 0:
        asked = 0
    if sys.platform != "linux":  # workers fork (cheap, nothing to re-import): Linux only
        return 1
    if asked:
        return max(1, min(asked, files))
    if total_bytes < PARALLEL_BYTES:
        return 1
    return max(1, min(cores(), files))


def _sizes(paths: Sequence[Path]) -> list[int]:
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(0)
    return sizes


def _runs(sizes: list[int], workers: int) -> list[list[int]]:
    """Consecutive runs of file indexes, each about CHUNK_BYTES (at least workers * 4 runs
    when the files allow, so the workers finish together), a quarter of that around where
    this process (from the last run back) and the workers (from the first on) are expected to
    meet: a worker holds a few runs ahead, which this process can no longer take, and waits
    for."""
    total = sum(sizes)
    target = max(1, min(CHUNK_BYTES, total // (workers * 4) or 1))
    meet = total * (workers - 1) / workers  # (this process reads as fast as one worker)
    runs: list[list[int]] = [[]]
    held = at = 0
    for index, size in enumerate(sizes):
        limit = max(1, target // 4) if abs(at - meet) < total / 8 else target
        if runs[-1] and held + size > limit:
            runs.append([])
            held = 0
        runs[-1].append(index)
        held += size
        at += size
    return runs


def _run(read: Callable[[Path], U], paths: list[Path]) -> list[U]:
    return [read(path) for path in paths]


def read_all(
    read: Callable[[Path], T],
    paths: Sequence[Path],
    packed: Callable[[Path], U],
    unpack: Callable[[U], T],
    meanwhile: Callable[[], None] | None = None,
) -> list[T]:
    """read(path) for each path, in the paths' order. With enough to read, the files are
    handed to worker processes in runs, each run()ning packed(path) (module-level, its result
    picklable and quick to pickle); this process runs meanwhile(), then takes back the runs
    no worker has started yet, from the last one on, and read()s them itself, then
    unpack()s the workers' results in order. Else read() runs here."""
    shared = share(partial(_run, packed), partial(_run, read), paths, meanwhile)
    if shared is None:
        return [read(path) for path in paths]
    found: list[T] = []
    for here, results in shared:
        if here:
            found += cast(list[T], results)
        else:
            found += [unpack(result) for result in cast(list[U], results)]
    return found


def share(
    remote: Callable[[list[Path]], U],
    local: Callable[[list[Path]], T],
    paths: Sequence[Path],
    meanwhile: Callable[[], None] | None = None,
    first: Callable[[], None] | None = None,
) -> list[tuple[bool, T | U]] | None:
    """The paths in runs (in order), each run done by remote(run) in a worker process
    (module-level, picklable, its result quick to pickle) or by local(run) here: this
    process runs first() before the workers start (what they inherit), meanwhile() once
    they have, then takes back the runs no worker has started yet, from the last one on. (done here?, result) per run, in order; None when one process should do it
    all (too little to read, $BD_VPT_JOBS=1, not Linux) or no pool could start."""
    sizes = _sizes(paths)
    processes = jobs(sum(sizes), len(paths))
    if processes <= 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    runs = [[paths[i] for i in run] for run in _runs(sizes, processes)]
    if first is not None:
        first()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=processes - 1, mp_context=context) as pool:
            futures = [pool.submit(remote, run) for run in runs]
            if meanwhile is not None:
                meanwhile()
            here: dict[int, T] = {}
            for index in reversed(range(len(runs))):
                if not futures[index].cancel():  # a worker has it (and every run before it)
                    break
                here[index] = local(runs[index])
            done: list[tuple[bool, T | U]] = []
            for index, future in enumerate(futures):
                done.append((True, here[index]) if index in here else (False, future.result()))
            return done
    except (OSError, ImportError, BrokenProcessPool):  # no pool here (no /dev/shm), a worker killed
        return None
