"""Speed work that must not change a figure: the index refresh before `git diff-files`, the
collector paused while a ledger is read, and the DuckDB anchor of the benchmark."""

from __future__ import annotations

import gc
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt import gc_paused
from tests.helpers import SHARD_A, SHARD_B, Repo, append, outcome, run_cli, two_shards, ulid, usage

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
    two_shards(repo)
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


def _random_branches(repo: Repo, steps: list[tuple[int, int, int, bool, bool]]) -> None:
    """Two branches appending to two shards, merged back and forth (merge=union), and one
    record cherry-picked into the other shard (the same id twice: counted once)."""
    repo.commit_all("init")
    repo.git("branch", "side")
    for i, (branch, shard, tokens, close, merge) in enumerate(steps):
        name = ("main", "side")[branch]
        repo.git("switch", "-q", name)
        bead = f"R{i % 3}"
        day = f"2026-11-{1 + i % 20:02d}"
        recs = [
            usage(ulid(2000 + 2 * i), f"{day}T09:00:00Z", bead, f"w{shard}", "m", tokens, 1, 0.01)
        ]
        if close:
            recs.append(
                outcome(ulid(2001 + 2 * i), f"{day}T18:00:00Z", bead, "w", "completed", i % 5)
            )
        append(repo, (SHARD_A, SHARD_B)[shard], *recs)
        repo.commit_all(f"step {i} on {name}")
        if merge:
            repo.git("merge", "-q", "--no-edit", ("side", "main")[branch])
    repo.git("switch", "-q", "main")
    repo.git("merge", "-q", "--no-edit", "side")
    shards = [repo.root / SHARD_A, repo.root / SHARD_B]
    if all(shard.exists() for shard in shards):
        first = shards[0].read_bytes().split(b"\n", 1)[0]
        with shards[1].open("ab") as out:
            out.write(first + b"\n")
        repo.commit_all("the same record in a second shard")


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 1),
            st.integers(0, 1),
            st.integers(0, 10_000),
            st.booleans(),
            st.booleans(),
        ),
        min_size=2,
        max_size=7,
    )
)
def test_cached_and_uncached_routes_give_equal_figures_on_random_merged_repos(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[int, int, int, bool, bool]]
) -> None:
    """Every route through the caches (blob cache, report memo, blobs read from the working
    tree, the index refresh) gives exactly the figures of a read without any cache."""
    root = tmp_path_factory.mktemp("merged")
    repo = Repo(root)
    repo.git("init", "-q")
    os.chdir(root)
    assert run_cli("init").code == 0
    _random_branches(repo, steps)
    questions = [
        ("summary", "--by", "bead"),
        ("trend", "--every", "day"),
        ("summary", "--rev", "HEAD~1", "--by", "agent"),
        ("summary", "--range", "side...main"),
        ("summary", "--range", "HEAD~1..HEAD"),
        ("pr", "--base", "side", "--head", "main"),
    ]
    for argv in questions:
        uncached = run_cli(*argv, "--no-cache", "--format", "json")
        assert uncached.code == 0, (argv, uncached.err)
        first = run_cli(*argv, "--format", "json")  # fills the caches
        warm = run_cli(*argv, "--format", "json")  # reads them
        assert uncached.json() == first.json() == warm.json(), argv


def _launch(*argv: str) -> tuple[int, str]:
    import contextlib
    import io

    from bd_vpt import launch

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = launch.main(list(argv))
    return code, out.getvalue()


def test_help_is_clicks_help_and_is_kept_for_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "91")
    expected = run_cli("--help")
    assert expected.code == 0 and "summary" in expected.out
    assert _launch("--help") == (0, expected.out)  # a miss: rendered by click, then kept
    kept = list((tmp_path / "cache" / "bd-vpt").glob("help-*.txt"))
    assert len(kept) == 1 and kept[0].read_text() == expected.out
    assert _launch("-h") == (0, expected.out)  # a hit
    probe = "import sys; from bd_vpt import launch; launch.main(['--help']); print('click' in sys.modules)"
    hit = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert hit.stdout == expected.out + "False\n"  # answered without importing click
    monkeypatch.setenv("COLUMNS", "120")  # another width wraps differently: another entry
    wide = run_cli("--help").out
    assert _launch("--help") == (0, wide)
    assert len(list((tmp_path / "cache" / "bd-vpt").glob("help-*.txt"))) == 2


def test_help_key_changes_with_a_command_module(tmp_path: Path) -> None:
    from bd_vpt.launch import help_key

    module = tmp_path / "reports.py"
    module.write_text("x = 1\n")
    before = help_key([str(module)])
    assert help_key([str(module)]) == before
    module.write_text("x = 22\n")
    os.utime(module, ns=(1, 1))
    assert help_key([str(module)]) != before


@pytest.mark.parametrize(
    "argv",
    [
        ("shell-init",),
        ("shell-init", "--shell", "fish"),
        ("shell-init", "--shell=zsh"),
        ("shell-init", "--shell", "tcsh"),  # not a choice: click's error, exit 2
        ("shell-init", "--help"),
    ],
)
def test_shell_init_fast_path_answers_as_click_does(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    expected = run_cli(*argv)
    code, out = _launch(*argv)
    assert (code, out) == (expected.code, expected.out)
