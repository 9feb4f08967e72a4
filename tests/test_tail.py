"""A blob folded from the fold of the blob it grew from (ledger/tail.py) against the blob
folded whole: random ledgers of every kind of line (copies of a record across the boundary,
ids and source_refs repeated, retractions, bad lines, newer versions, offsets, outcomes) cut
at a random line, the tail folded and added to the head's fold; and reports after lines are
appended to a shard, committed or not, against the same reports with no cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bd_vpt.ledger import fast, tail
from bd_vpt.ledger.cache import BlobCache, forget_folds
from bd_vpt.ledger.rows import BlobFold, fold_blob
from tests.helpers import Repo, append, run_cli, ulid, usage
from tests.test_folds import KINDS, _line

LINES = st.lists(
    st.tuples(
        st.sampled_from([*KINDS, "same-id-new-ref", "no-ref"]),
        st.integers(1, 6),
        st.integers(0, 23),
        st.integers(0, 4),
    ),
    min_size=2,
    max_size=30,
)


def _blob(steps: list[tuple[str, int, int, int]]) -> list[bytes]:
    """test_folds' lines, and two kinds more: a record with another's id (not its source_ref),
    and a usage record with no source_ref."""
    made: list[dict[str, Any]] = []
    lines = []
    for n, (kind, day, hour, bead) in enumerate(steps):
        if kind == "same-id-new-ref" and made:
            record = {**made[n % len(made)], "source_ref": f"other-{n}"}
            made.append(record)
            lines.append(orjson.dumps(record) + b"\n")
            continue
        plain = kind in ("same-id-new-ref", "no-ref")
        line = _line(n, "usage" if plain else kind, day, hour, bead, made)
        if kind == "no-ref":
            made[-1]["source_ref"] = None
            line = orjson.dumps(made[-1]) + b"\n"
        lines.append(line)
    return lines


def _described(fold: BlobFold) -> dict[str, Any]:
    """A fold as reports read it: rows by key, outcomes in order, ids and refs as sets."""
    return {
        "rows": fold.rows,
        "outcomes": fold.outcomes,
        "ids": sorted(fold.ids),
        "refs": sorted(fold.refs),
        "problems": fold.problems,
        "lines": fold.lines_read,
        "duplicates": fold.duplicates,
        "withdrawn": fold.withdrawn,
        "retracts": fold.retracts,
    }


@settings(max_examples=300, deadline=None)
@given(steps=LINES, cut=st.integers(1, 29), compiled=st.booleans())
def test_a_tail_added_to_its_head_folds_as_the_whole_blob(
    steps: list[tuple[str, int, int, int]], cut: int, compiled: bool
) -> None:
    lines = _blob(steps)
    cut = min(cut, len(lines) - 1)
    head, rest = b"".join(lines[:cut]), b"".join(lines[cut:])
    with pytest.MonkeyPatch.context() as m:
        if not compiled:
            m.setattr(fast, "LANE", None)
        old, whole = fold_blob(head), fold_blob(head + rest)
        kept = _described(old)
        found = tail.merged(old, fold_blob(rest))
    assert _described(old) == kept  # (the head's fold is left as it was)
    plain = all(
        kind in ("usage", "unpriced", "unsplit", "outcome", "reopen", "int-cost")
        for kind, *_ in steps
    )
    if found is None:
        assert not plain  # (plain lines are always added)
        return
    assert _described(found) == _described(whole)


def test_only_the_blob_grown_from_the_noted_one_is_folded_from_it(tmp_path: Path) -> None:
    lines = _blob([("usage", 1, h, h % 3) for h in range(12)])
    head, rest = b"".join(lines[:8]), b"".join(lines[8:])
    cache = BlobCache(tmp_path)
    old_sha = tail.blob_id(head, "0" * 40)
    cache.put_fold(old_sha, fold_blob(head))
    noted = {"a.jsonl": (old_sha, len(head))}
    grown = tail.appended(cache, "a.jsonl", head + rest, noted)
    assert grown is not None and _described(grown) == _described(fold_blob(head + rest))
    changed = head.replace(b"agent-0", b"agent-9", 1)
    assert tail.appended(cache, "a.jsonl", changed + rest, noted) is None  # (not its bytes)
    assert tail.appended(cache, "b.jsonl", head + rest, noted) is None  # (nothing noted)
    assert tail.appended(cache, "a.jsonl", head, noted) is None  # (nothing appended)
    torn = head[:-1] + b"\n"[:0]
    assert (
        tail.appended(
            cache,
            "a.jsonl",
            torn + b"x" + rest,
            {"a.jsonl": (tail.blob_id(torn, old_sha), len(torn))},
        )
        is None
    )
    assert tail.blob_id(b"hi\n", "0" * 40) == "45b983be36b73c0788dc9cbcb76cbb80fc7bb057"  # (git's)
    cache.note_blobs({"b.jsonl": ("f" * 40, 3)}, noted)
    assert cache.noted_blobs() == {**noted, "b.jsonl": ("f" * 40, 3)}


SHARD = ".beads/vpt/ledger/2026-11/w1-aaaaaa.jsonl"


@pytest.mark.parametrize("commit", [False, True])
def test_reports_after_lines_are_appended_are_the_uncached_reports(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, commit: bool
) -> None:
    taken: list[BlobFold] = []
    merged = tail.merged

    def spy(old: BlobFold, rest: BlobFold) -> BlobFold | None:
        found = merged(old, rest)
        if found is not None:
            taken.append(found)
        return found

    monkeypatch.setattr(tail, "merged", spy)
    for n in range(30):
        ts = f"2026-11-{1 + n % 5:02d}T{n % 24:02d}:00:00.000Z"
        append(repo, SHARD, usage(ulid(n), ts, f"B-{n % 3}", "a", "m1", n, 2 * n, 0.001 * n))
    repo.commit_all("first")
    for n in range(30, 36):
        assert run_cli("summary", "--format", "json").code == 0
        ts = f"2026-11-0{1 + n % 5}T01:00:00.000Z"
        append(repo, SHARD, usage(ulid(n), ts, f"B-{n % 4}", "b", "m2", n, n, 0.01))
        if commit:
            repo.commit_all(f"more {n}")
        forget_folds()  # (a report of its own process)
        for argv in (["summary"], ["summary", "--by", "day"], ["trend", "--every", "day"]):
            cached = run_cli(*argv, "--format", "json")
            plain = run_cli(*argv, "--format", "json", "--no-cache")
            assert cached.code == plain.code == 0 and cached.out == plain.out
    assert len(taken) >= 5  # (the appended way was taken)


def test_a_summary_after_an_import_takes_the_import_s_word_for_the_old_bytes(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import that appends to a shard notes which blob the new one grew from
    (cache.note_grown): the next summary folds the lines appended without hashing the old
    bytes again, and says what it said with no cache. A note that names another blob is
    not taken."""
    from bench.agents import write_sessions

    home = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    hashed: list[int] = []
    taken: list[BlobFold] = []
    blob_id, merged = tail.blob_id, tail.merged

    def hashing(data: bytes | memoryview, like: str) -> str:
        hashed.append(len(data))
        return blob_id(data, like)

    def merging(old: BlobFold, rest: BlobFold) -> BlobFold | None:
        found = merged(old, rest)
        taken.extend([found] if found is not None else [])
        return found

    monkeypatch.setattr(tail, "blob_id", hashing)
    monkeypatch.setattr(tail, "merged", merging)

    def agree() -> None:
        forget_folds()  # (each command in a process of its own)
        cached = run_cli("summary", "--format", "json")
        plain = run_cli("summary", "--format", "json", "--no-cache")
        assert cached.code == plain.code == 0 and cached.out == plain.out

    for n in range(4):
        write_sessions(home, 1, 60, str(repo.root), first=n)
        assert run_cli("import", "claude-code").code == 0
        agree()
    assert len(taken) >= 2 and not hashed  # (the lines appended, the old bytes not hashed)
    (shard,) = (repo.root / ".beads/vpt/ledger").rglob("*.jsonl")
    cache = BlobCache(repo.root / ".git" / "bd-vpt")
    sha, size = cache.noted_blobs()[shard.relative_to(repo.root).as_posix()]
    write_sessions(home, 1, 60, str(repo.root), first=9)
    assert run_cli("import", "claude-code").code == 0
    new = blob_id(shard.read_bytes(), sha)
    assert cache.grown_from(new) == (sha, size)
    cache.note_grown(new, "0" * 40, size)  # a note that names another blob
    agree()
    assert hashed == [size]  # (the old bytes hashed, as with no note)
