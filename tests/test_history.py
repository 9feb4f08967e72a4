"""Reports straight from git: --rev, --range, trend, bead, and the blob cache."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt.ledger.cache import ROWS_FORMAT, BlobCache, forget_folds
from bd_vpt.ledger.history import History
from bd_vpt.ledger.store import parse_blob
from bd_vpt.ledger.view import open_view
from bd_vpt.repo import discover
from tests.helpers import (
    CORPUS,
    SHARD_A,
    SHARD_B,
    Repo,
    append,
    golden,
    outcome,
    reported_before,
    run_cli,
    ulid,
    usage,
)


def totals(*argv: str) -> dict[str, Any]:
    result = run_cli("summary", "--format", "json", *argv)
    assert result.code == 0, result.err
    figures: dict[str, Any] = result.json()["totals"]
    return figures


@pytest.fixture
def history(repo: Repo) -> Repo:
    """Three commits on main (fixed records, fixed dates).

    c1: A (P1) 100k tokens $1, completed      -> 1 closed, weighted 4, BC/MT 40
    c2: B (P0) 300k tokens $2, completed      -> 2 closed, weighted 12, BC/MT 30
    c3: A reopened, 100k more on A            -> 1 closed, weighted 8, BC/MT 16
    """
    append(
        repo,
        SHARD_A,
        usage(ulid(1), "2026-11-02T09:00:00Z", "A", "a", "m", 60_000, 40_000, 1.0),
        outcome(ulid(2), "2026-11-02T17:00:00Z", "A", "a", "completed", 1),
    )
    repo.commit_all("c1")
    append(
        repo,
        SHARD_B,
        usage(ulid(3), "2026-11-09T09:00:00Z", "B", "b", "m", 200_000, 100_000, 2.0),
        outcome(ulid(4), "2026-11-09T17:00:00Z", "B", "b", "completed", 0),
    )
    repo.commit_all("c2")
    append(
        repo,
        SHARD_A,
        outcome(ulid(5), "2026-11-16T09:00:00Z", "A", "lead", "reopened", 1),
        usage(ulid(6), "2026-11-16T10:00:00Z", "A", "a", "m", 50_000, 50_000, 0.5),
    )
    repo.commit_all("c3")
    return repo


def test_rev_gives_each_commits_figures(history: Repo) -> None:
    c1 = totals("--rev", "HEAD~2")
    assert (c1["tokens"], c1["beads_closed"], c1["weighted_completions"], c1["bc_mt"]) == (
        100_000,
        1,
        4.0,
        40.0,
    )
    c2 = totals("--rev", "HEAD~1")
    assert (c2["tokens"], c2["beads_closed"], c2["bc_mt"], c2["cost_usd"]) == (
        400_000,
        2,
        30.0,
        3.0,
    )
    c3 = totals("--rev", "HEAD")
    assert (c3["tokens"], c3["beads_closed"], c3["bc_mt"], c3["reopen_rate"]) == (
        500_000,
        1,
        16.0,
        0.5,
    )


def test_rev_reads_git_objects_not_the_working_tree(history: Repo) -> None:
    append(history, SHARD_A, usage(ulid(7), "2026-11-17T09:00:00Z", None, "x", "m", 999, 0, 0.0))
    assert totals()["tokens"] == 500_999
    assert totals("--rev", "HEAD")["tokens"] == 500_000


def test_bad_revision_is_a_clear_error(history: Repo) -> None:
    result = run_cli("summary", "--rev", "no-such-branch")
    assert result.code == 2 and "unknown revision" in result.err and "Traceback" not in result.err
    result = run_cli("summary", "--range", "HEAD")
    assert result.code == 2 and "bad range" in result.err
    assert run_cli("summary", "--rev", "HEAD", "--range", "HEAD~1..HEAD").code == 2


def test_range_counts_each_record_once_across_merge_and_cherry_pick(history: Repo) -> None:
    repo = history
    repo.git("checkout", "-q", "-b", "feature", "HEAD~1")
    append(repo, SHARD_B, usage(ulid(20), "2026-11-10T09:00:00Z", "C", "b", "m", 10_000, 0, 0.1))
    repo.commit_all("f1")
    f1 = repo.git("rev-parse", "HEAD").strip()
    append(
        repo,
        SHARD_A,
        usage(ulid(21), "2026-11-10T10:00:00Z", "C", "a", "m", 5_000, 0, 0.1),
        outcome(ulid(22), "2026-11-10T17:00:00Z", "C", "a", "completed", 2),
    )
    repo.commit_all("f2")
    repo.git("merge", "-q", "--no-edit", "main")  # main's c3 comes in: not the feature's work
    repo.git("cherry-pick", "--keep-redundant-commits", f1)  # f1 again: already in, no change
    added = totals("--range", "main...feature")
    assert added["tokens"] == 15_000
    assert added["beads_closed"] == 1 and added["weighted_completions"] == 2.0
    by_bead = run_cli(
        "summary", "--range", "main...feature", "--by", "bead", "--format", "json"
    ).json()
    assert [g["key"] for g in by_bead["groups"]] == ["C"]
    # two-dot compares the two states: main's c3 is on both sides here too
    assert totals("--range", "main..feature")["tokens"] == 15_000
    assert totals("--range", "HEAD~3..HEAD")["tokens"] >= 15_000


def test_range_reports_a_removed_record(history: Repo) -> None:
    path = history.root / SHARD_B
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[1:]))  # drop B's usage
    history.commit_all("oops")
    result = run_cli("summary", "--range", "HEAD~1..HEAD", "--format", "json")
    assert result.code == 0
    assert f"{SHARD_B}:1: warning: record {ulid(3)} was removed" in result.err
    assert run_cli("summary", "--range", "HEAD~1..HEAD", "--strict").code == 2


def test_trend_golden(history: Repo) -> None:
    rows = run_cli("trend", "--every", "week", "--format", "json")
    assert rows.code == 0, rows.err
    assert rows.out == golden("trend_week.json", rows.out)
    got = orjson.loads(rows.out)
    # by hand: week 45 completes A (P1) but A is reopened in week 47 and its final state is
    # open, so A is closed nowhere; week 46 closes B (P0: 8 / 0.3 Mtok); week 47 has A's
    # reopen and 100k tokens, nothing closed. Rates: W45 0 reopens of 1 completion, W47 1 of 0
    assert [(r["period"], r["bc_mt"], r["completions"], r["reopens"]) for r in got] == [
        ("2026-W45", 0.0, 1, 0),
        ("2026-W46", 26.666667, 1, 0),
        ("2026-W47", 0.0, 0, 1),
    ]
    table = run_cli("trend", "--every", "week").out
    assert table == golden("trend_week.txt", table)


def test_trend_by_agent_csv(history: Repo) -> None:
    csv_text = run_cli("trend", "--every", "month", "--by", "agent", "--format", "csv").out
    header, *lines = csv_text.splitlines()
    assert header.startswith("period,key,tokens,")
    assert [tuple(x.split(",")[:3]) for x in lines] == [
        ("2026-11", "b", "300000"),  # groups by tokens, most first
        ("2026-11", "a", "200000"),
    ]


def test_bead_lists_the_commits_that_brought_each_record(history: Repo) -> None:
    result = run_cli("bead", "A", "--format", "json")
    assert result.code == 0, result.err
    story = result.json()
    subjects = [(r["kind"], r["brought_by"]["subject"]) for r in story["records"]]
    assert subjects == [("usage", "c1"), ("outcome", "c1"), ("outcome", "c3"), ("usage", "c3")]
    assert story["totals"]["tokens"] == 200_000 and story["totals"]["beads_closed"] == 0
    append(history, SHARD_A, usage(ulid(9), "2026-11-17T09:00:00Z", "A", "a", "m", 1, 0, 0.0))
    rows = run_cli("bead", "A", "--format", "json").json()["records"]
    assert rows[-1]["brought_by"] is None  # not committed yet
    table = run_cli("bead", "A").out
    assert table.startswith("A [P1 task] bead A") and "(not committed)" in table
    assert run_cli("bead", "nope").code == 2


def _random_history(repo: Repo, steps: list[tuple[int, int, int, bool]]) -> None:
    for i, (shard, tokens, prio, close) in enumerate(steps):
        name = [SHARD_A, SHARD_B][shard]
        bead = f"R{i % 3}"
        recs = [
            usage(
                ulid(1000 + 2 * i),
                f"2026-11-{1 + i % 20:02d}T09:00:00Z",
                bead,
                f"w{shard}",
                "m",
                tokens,
                1,
                0.01,
            )
        ]
        if close:
            recs.append(
                outcome(
                    ulid(1001 + 2 * i),
                    f"2026-11-{1 + i % 20:02d}T18:00:00Z",
                    bead,
                    "w",
                    "completed",
                    prio,
                )
            )
        append(repo, name, *recs)
        repo.commit_all(f"step {i}")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 10_000), st.integers(0, 4), st.booleans()),
        min_size=2,
        max_size=6,
    )
)
def test_cache_gives_the_same_results_as_no_cache(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[int, int, int, bool]]
) -> None:
    root = tmp_path_factory.mktemp("prop")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    repo = Repo(root)
    _random_history(repo, steps)
    os.chdir(root)
    for rev in ("HEAD", "HEAD~1"):
        for by in ("agent", "week", "bead"):
            argv = ("summary", "--rev", rev, "--by", by, "--format", "json")
            cold = run_cli(*argv, "--no-cache").json()
            first = run_cli(*argv).json()  # fills the cache
            warm = run_cli(*argv).json()  # reads it
            assert cold == first == warm
    spec = "HEAD~1..HEAD"
    assert (
        run_cli("summary", "--range", spec, "--format", "json").json()
        == run_cli("summary", "--range", spec, "--no-cache", "--format", "json").json()
    )


def test_truncated_cache_entry_is_rebuilt(history: Repo) -> None:
    info = discover(history.root)
    reported_before(info)  # (a first report writes no folds)
    expected = totals("--rev", "HEAD")  # fills the fold cache
    list(History(info, BlobCache(info.state_dir)).at("HEAD"))  # and the records cache
    entries = [p for p in (info.state_dir / "cache").glob("blobs-*/*/*") if p.is_file()]
    folds = [p for p in entries if p.suffix == f".f{ROWS_FORMAT}"]
    assert folds and len(entries) > len(folds)
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[: len(entry.read_bytes()) // 2])
    forget_folds()  # what this process folded is in memory: look at the disk
    cache = BlobCache(info.state_dir)
    hist = History(info, cache)
    list(hist.at("HEAD"))
    assert cache.rebuilt == len(entries) - len(folds) and cache.hits == 0
    for fold in folds:
        assert cache.get_fold(fold.parent.name + fold.stem) is None
    assert cache.rebuilt == len(entries) and cache.hits == 0
    open_view(info, rev="HEAD").folded()  # folds again, and caches the folds
    assert totals("--rev", "HEAD") == expected
    forget_folds()
    again = BlobCache(info.state_dir)
    list(History(info, again).at("HEAD"))
    for fold in folds:
        assert again.get_fold(fold.parent.name + fold.stem) is not None
    assert again.hits == len(entries)  # rebuilt entries are good again


def test_cache_entry_matches_a_fresh_parse(history: Repo) -> None:
    info = discover(history.root)
    assert len(list(History.open(info).at("HEAD"))) == 2  # fills the cache
    sha = history.git("rev-parse", f"HEAD:{SHARD_A}").strip()
    cached = BlobCache(info.state_dir).get(sha)
    fresh = parse_blob((history.root / SHARD_A).read_bytes())
    assert cached is not None and cached.records == fresh.records and cached.lines == fresh.lines


def test_corpus_history_with_ledger_on_top(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real beads history walks without error once ledger records are added on top."""
    if not CORPUS.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the corpus bundle is not at {CORPUS}")
        pytest.skip("no corpus")
    clone = tmp_path / "corpus"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(CORPUS), str(clone)], check=True)
    subprocess.run(
        ["git", "checkout", "-q", "c7bafc341f69adebb5618b89a2969e581e88e867"], cwd=clone, check=True
    )
    subprocess.run(["git", "switch", "-q", "-c", "vpt"], cwd=clone, check=True)
    monkeypatch.chdir(clone)
    repo = Repo(clone)
    assert run_cli("init").code == 0
    assert run_cli("sync", "--since", "2026-02-26").code == 0
    repo.commit_all("sync outcomes")
    for i, bead in enumerate(("bd-7vk", "bd-5x9", "bd-0dec")):
        assert (
            run_cli(
                "record",
                bead,
                "--model",
                "claude-sonnet-4-5",
                "--input",
                str(1000 * (i + 1)),
                "--output",
                "500",
                "--ts",
                f"2026-02-2{7 + i % 2}T10:00:00Z",
                "--actor",
                "beads/polecats/quartz",
            ).code
            == 0
        )
        repo.commit_all(f"usage {i}")
    trend = run_cli("trend", "--every", "week", "--rev", "HEAD", "--format", "json")
    assert trend.code == 0, trend.err
    assert sum(r["tokens"] for r in orjson.loads(trend.out)) == 1500 + 2500 + 3500
    story = run_cli("bead", "bd-7vk", "--format", "json")
    assert story.code == 0, story.err
    kinds = [(r["kind"], r["brought_by"]["subject"]) for r in story.json()["records"]]
    assert ("usage", "usage 0") in kinds and ("outcome", "sync outcomes") in kinds
    assert run_cli("trend", "--every", "day").code == 0


def test_working_tree_cache_and_memo_never_serve_stale_figures(history: Repo) -> None:
    assert totals() == totals("--no-cache")  # fills blob cache and memo
    append(
        history, SHARD_A, usage(ulid(30), "2026-11-17T09:00:00Z", "A", "a", "m", 7, 0, 0.0)
    )  # dirty
    append(
        history,
        ".beads/vpt/ledger/2026-11/new-000003.jsonl",  # untracked
        usage(ulid(31), "2026-11-17T09:00:00Z", None, "n", "m", 3, 0, 0.0),
    )
    warm = totals()
    assert warm["tokens"] == 500_010 and warm == totals("--no-cache")
    history.git("add", "-A")  # now clean against the index: read through the blob cache
    assert totals() == warm


def test_memo_hit_reports_the_same_problems(history: Repo) -> None:
    append(history, SHARD_B, {"kind": "mystery"})
    history.commit_all("bad line")
    cold = run_cli("summary", "--format", "json")
    warm = run_cli("summary", "--format", "json")
    assert cold.out == warm.out and cold.err == warm.err and "unknown kind" in warm.err
    assert run_cli("summary", "--strict").code == 2  # a hit honours --strict too
    info = discover(history.root)
    for entry in (info.state_dir / "cache").glob("memo-*/*.json"):
        entry.write_bytes(b"{not json")
    assert run_cli("summary", "--format", "json").out == cold.out  # a bad entry is rebuilt
