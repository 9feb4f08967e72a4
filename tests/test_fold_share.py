"""Folds shared between worker processes and the report's own process (ledger/parallel.py
fold_all), as one process folds them.

- The runs a worker folds and the runs this process takes back give the view that one
  process folding every blob gives: rows, outcomes (in the blobs' order) and problems.
- A run a worker could not fold is folded here, with the same result.
- The cache entries of the folds made here are written by settle(), as the workers write
  theirs as they exit: the next report reads every fold from the cache.
(The lane's repeats, which finds the keys in two blobs for a cold report, is tested in
tests/test_lane.py, which the sanitizer build runs.)
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from bd_vpt.ledger.view import open_view
from bd_vpt.repo import discover
from tests.helpers import reported_before
from tests.test_folds import many_shards

needs_fork = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="worker processes need fork"
)


def _many_shards(tmp_path: Path) -> Path:
    return many_shards(tmp_path, 30, 7)  # (thirty more shards: runs for the worker and for us)


def _folded(root: Path, workers: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    from bd_vpt.ledger import parallel
    from bd_vpt.ledger.cache import forget_folds

    info = discover(root)
    forget_folds()
    parallel.settle()
    shutil.rmtree(info.state_dir / "cache", ignore_errors=True)
    reported_before(info)  # (folds are written: the workers' as they exit, this one's later)
    monkeypatch.setenv("BD_VPT_WORKERS", workers)
    ledger = open_view(info).folded()
    problems = [p.render() for p in ledger.problems]
    return ledger.rows, [o["id"] for o in ledger.outcomes], problems


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> Any:
    """parallel, set to fold even a small ledger in a worker and here; and the blobs
    folded here."""
    from bd_vpt.ledger import parallel

    if parallel.cores() < 2:
        pytest.skip("worker processes need two cores")
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_JOBS", 2)
    here: list[str] = []
    real = parallel._fold_here

    def counted(history: Any, job: Any, *rest: Any) -> Any:
        import time

        here.append(job[0])
        time.sleep(0.02)  # (slow here: the worker takes runs too)
        return real(history, job, *rest)

    monkeypatch.setattr(parallel, "_fold_here", counted)
    return parallel, here


@needs_fork
def test_folds_shared_with_this_process_are_the_folds_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: Any
) -> None:
    parallel, here = shared
    root = _many_shards(tmp_path)
    one = _folded(root, "1", monkeypatch)
    assert not here
    many = _folded(root, "0", monkeypatch)
    assert many == one
    blobs = len(list((root / ".beads/vpt/ledger").rglob("*.jsonl")))
    assert 0 < len(here) < blobs  # some runs folded here, the others by the worker
    # the entries of every fold (the worker's as it exits, this process's in settle)
    from bd_vpt.ledger.cache import BlobCache, forget_folds

    parallel.settle()
    forget_folds()
    info = discover(root)
    cache = BlobCache(info.state_dir)
    view = open_view(info)
    assert view.entries is not None
    assert all(cache.get_fold(e.sha) is not None for e in view.entries if e.data is None)
    monkeypatch.setattr(parallel, "fold_all", None)  # (nothing left to fold)
    ledger = view.folded()
    assert (ledger.rows, [o["id"] for o in ledger.outcomes]) == many[:2]


@needs_fork
def test_a_run_a_worker_could_not_fold_is_folded_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: Any
) -> None:
    parallel, here = shared
    root = _many_shards(tmp_path)
    one = _folded(root, "1", monkeypatch)
    real = parallel._fold

    def failing(job: Any) -> Any:  # (what the worker runs: it is forked with this)
        if os.getpid() != parent:
            raise RuntimeError("a worker that fails")
        return real(job)

    parent = os.getpid()
    monkeypatch.setattr(parallel, "_fold", failing)  # (the worker sends a failure back)
    assert _folded(root, "0", monkeypatch) == one
    blobs = len(list((root / ".beads/vpt/ledger").rglob("*.jsonl")))
    assert len(here) == blobs  # every blob folded here in the end


@needs_fork
def test_with_no_worker_or_a_worker_that_dies_every_run_is_folded_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: Any
) -> None:
    parallel, here = shared
    root = _many_shards(tmp_path)
    one = _folded(root, "1", monkeypatch)
    blobs = len(list((root / ".beads/vpt/ledger").rglob("*.jsonl")))

    real_fork = parallel._Worker.fork
    monkeypatch.setattr(parallel._Worker, "fork", classmethod(lambda cls, *a: None))
    assert _folded(root, "0", monkeypatch) == one  # (no pipe or no process could be made)
    assert len(here) == blobs
    monkeypatch.setattr(parallel._Worker, "fork", real_fork)

    real_run = parallel._fold_run
    runs: list[int] = []

    def dying(run: Any) -> Any:  # (in the worker: it dies after its first run)
        runs.append(1)
        if len(runs) > 1:
            os._exit(3)
        return real_run(run)

    here.clear()
    monkeypatch.setattr(parallel, "_fold_run", dying)
    assert _folded(root, "0", monkeypatch) == one
    assert len(here) < blobs  # (the worker's first run was taken in, the rest folded here)
