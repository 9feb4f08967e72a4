"""Folds shared between worker processes and the report's own process (ledger/parallel.py
fold_all), and keys found in two blobs without sorting them all (the lane's repeats).

- The runs a worker folds and the runs this process takes back give the view that one
  process folding every blob gives: rows, outcomes (in the blobs' order) and problems.
- A run a worker could not fold is folded here, with the same result.
- The cache entries of the folds made here are written by settle(), as the workers write
  theirs as they exit: the next report reads every fold from the cache.
- repeats() finds exactly the keys repeated() finds, whatever the keys (repeats within an
  array, many equal keys, signed and unsigned, keys that all fall in one pile).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from array import array
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bd_vpt.ledger import fast
from bd_vpt.ledger.view import open_view
from bd_vpt.repo import discover
from tests.helpers import Repo, reported_before, run_cli, ulid, usage
from tests.test_folds import KINDS, Step, _write

needs_lane = pytest.mark.skipif(fast.LANE is None, reason="the compiled lane is not built")
needs_fork = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="worker processes need fork"
)


def _many_shards(tmp_path: Path) -> Path:
    root = tmp_path / "many"
    root.mkdir()
    repo = Repo(root)
    repo.git("init", "-q")
    os.chdir(root)
    assert run_cli("init").code == 0
    steps: list[Step] = [(n % 3, KINDS[n % 11], 1 + n % 6, n % 24, n % 5) for n in range(60)]
    _write(root, steps, 100)
    for n in range(30):  # thirty more shards: runs for the worker and for this process
        path = root / f".beads/vpt/ledger/2026-11/w{n}-cccccc.jsonl"
        recs = [
            usage(
                ulid(1000 + 10 * n + k),
                f"2026-11-0{1 + k % 5}T10:00:00.000Z",
                "F-1",
                f"agent-{n}",
                "m1",
                k + 1,
                2 * k,
            )
            for k in range(8)
        ]
        bad = b"not json\n" if n % 7 == 0 else b""
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs) + bad)
    repo.commit_all("shards")
    return root


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
    """parallel, set to fold even a small ledger in a worker and here, with runs of one
    blob; and counts of the blobs folded here."""
    from bd_vpt.ledger import parallel

    if parallel.cores() < 2:
        pytest.skip("worker processes need two cores")
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_JOBS", 2)
    monkeypatch.setattr(parallel, "RUNS", 1000)  # (a run per blob)
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
    monkeypatch.setattr(parallel, "_fold", failing)
    assert _folded(root, "0", monkeypatch) == one
    blobs = len(list((root / ".beads/vpt/ledger").rglob("*.jsonl")))
    assert len(here) == blobs  # every blob folded here in the end


def _twice(arrays: list[list[int]]) -> set[int]:
    counts = Counter(k for keys in arrays for k in keys)
    return {k for k, n in counts.items() if n > 1}


@needs_lane
@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["q", "Q"]),
    st.lists(
        st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 40) | st.just(2**63), max_size=40),
        max_size=8,
    ),
    st.integers(0, 3000),
)
def test_repeats_finds_the_keys_repeated_finds(
    code: str, lists: list[list[int]], many: int
) -> None:
    shift = 2**63 if code == "q" else 0
    arrays = [array(code, [k - shift for k in keys]) for keys in lists]
    arrays.append(array(code, [(k * 7919) % 2**64 - shift for k in range(many)]))
    assert fast.LANE is not None
    expected = _twice([list(a) for a in arrays])
    assert fast.LANE.repeats(list(arrays), code == "q") == expected
    assert fast.LANE.repeated(list(arrays), code == "q")[0] == expected


@needs_lane
def test_repeats_with_many_keys_in_one_pile_and_many_piles() -> None:
    from bd_vpt.ledger.rows import SMALL, repeated

    assert fast.LANE is not None
    same = [array("Q", [5] * 3000), array("Q", [5, 6])]  # one pile holds them all
    assert fast.LANE.repeats(same, False) == {5}
    big = [array("q", range(k, SMALL + 7, 3)) for k in range(3)] + [array("q", [5, 9, -1])]
    kept: list[Any] = []
    assert repeated(big) == repeated(big, kept) == {5, 9}
    assert fast.LANE.repeats([], True) == set() == fast.LANE.repeats([array("q")], True)
