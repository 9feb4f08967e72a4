"""Speed work that must not change a figure: the index refresh before `git diff-files`, the
collector paused while a ledger is read, and the DuckDB anchor of the benchmark."""

from __future__ import annotations

import gc
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from bd_vpt.ledger.view import gc_paused
from tests.helpers import SHARD_A, SHARD_B, Repo, append, outcome, run_cli, ulid, usage

RACY = 1_790_000_000  # a moment in the past, in whole seconds


def totals() -> dict[str, Any]:
    result = run_cli("summary", "--format", "json")
    assert result.code == 0, result.err
    figures: dict[str, Any] = result.json()["totals"]
    return figures


@pytest.fixture
def racy(repo: Repo) -> Repo:
    """A committed ledger whose index is racily clean, as a fresh clone leaves it: the files
    and the index carry the same modification time, so git re-hashes the files on every
    `git diff-files` until the index is written again."""
    append(
        repo,
        SHARD_A,
        usage(ulid(1), "2026-11-02T09:00:00Z", "A", "a", "m", 60_000, 40_000, 1.0),
        outcome(ulid(2), "2026-11-02T17:00:00Z", "A", "a", "completed", 1),
    )
    append(repo, SHARD_B, usage(ulid(3), "2026-11-03T09:00:00Z", None, "b", "m", 7, 3, 0.5))
    repo.commit_all("ledger")
    for shard in (SHARD_A, SHARD_B):
        os.utime(repo.root / shard, (RACY, RACY))
    repo.git("update-index", "-q", "--refresh")  # the index records the files' time...
    os.utime(repo.root / ".git" / "index", (RACY, RACY))  # ...and was written in that second
    return repo


def test_a_report_refreshes_a_racily_clean_index(racy: Repo) -> None:
    index = racy.root / ".git" / "index"
    figures = totals()
    assert index.stat().st_mtime > RACY  # written again: diff-files compares stat data now
    assert figures["tokens"] == 60_000 + 40_000 + 7 + 3 and figures["beads_closed"] == 1
    assert totals() == figures
    assert racy.git("status", "--porcelain").strip() == ""  # content untouched


def test_no_refresh_inside_a_hook(racy: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a hook (GIT_INDEX_FILE set) the index changes only through `git add`."""
    index = racy.root / ".git" / "index"
    before = index.read_bytes()
    monkeypatch.setenv("GIT_INDEX_FILE", str(index))
    assert totals()["tokens"] == 100_010
    assert index.stat().st_mtime == RACY and index.read_bytes() == before


def test_dirty_file_is_still_read_from_disk_after_the_refresh(racy: Repo) -> None:
    assert totals()["tokens"] == 100_010
    append(racy, SHARD_B, usage(ulid(4), "2026-11-04T09:00:00Z", None, "b", "m", 5, 0, 0.1))
    os.utime(racy.root / SHARD_B, (RACY, RACY))  # the old time again: git must still see it
    assert totals()["tokens"] == 100_015
    assert totals() == run_cli("summary", "--format", "json", "--no-cache").json()["totals"]


def test_gc_paused_restores_the_collector_state() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the inner one leaves it paused
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_an_abandoned_read_turns_the_collector_back_on(racy: Repo) -> None:
    from bd_vpt.ledger.view import open_view
    from bd_vpt.repo import discover

    records = open_view(discover(Path.cwd())).records()
    assert isinstance(records, Generator)
    next(records)
    assert not gc.isenabled()
    records.close()
    assert gc.isenabled()


def test_rev_reads_a_blob_from_the_working_tree_only_when_its_bytes_are_the_blob(
    racy: Repo,
) -> None:
    from bd_vpt.ledger.cache import BlobCache
    from bd_vpt.ledger.history import History
    from bd_vpt.repo import discover

    info = discover(racy.root)
    history = History(info, BlobCache(None))
    committed = [(path, blob.records) for path, blob in history.at("HEAD")]
    assert history._reader is None  # both files came from the disk: same bytes, same ids
    assert [path for path, _ in committed] == [SHARD_A, SHARD_B]
    # the same size and an old time, but other bytes: the file is not the blob any more
    shard = racy.root / SHARD_A
    shard.write_bytes(shard.read_bytes().replace(b"60000", b"60001"))
    os.utime(shard, (RACY, RACY))
    history = History(info, BlobCache(None))
    assert [(path, blob.records) for path, blob in history.at("HEAD")] == committed
    assert history._reader is not None  # read from git: the figures are the committed ones
    history.close()
    cold = run_cli("summary", "--rev", "HEAD", "--no-cache", "--format", "json").json()["totals"]
    assert cold["tokens"] == 100_010
    assert totals()["tokens"] == 100_011  # the working tree has the edit
