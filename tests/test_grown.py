"""A blob a range changed is read from the first bytes of the file that grew from it (the work
tree's, as a ledger file grows by appends) when their git id is its id (history._first_bytes),
else from git: the same bytes either way, and GitPython is not needed for the first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bd_vpt import repo as repo_module
from bd_vpt.ledger import history as history_module
from bd_vpt.ledger.history import History
from bd_vpt.repo import cat_file_batch, discover
from tests.helpers import SHARD_A, SHARD_B, Repo, append, ulid, usage


def _spent(i: int) -> dict[str, Any]:
    return usage(ulid(500 + i), f"2026-11-{1 + i:02d}T10:00:00.000Z", "b", "a", "m", 9, 4, 0.2)


def _range(root: Path) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """The records the last commit added, and the old blobs as this History read them."""
    history_module._FROM_GIT.clear()
    history = History.open(discover(root), use_cache=False)
    records = [r for _, blob in history.added("HEAD~1..HEAD") for r in blob.records]
    olds = {sha: history._read(sha) for sha in history._grown}
    history.close()
    return records, olds


@pytest.fixture
def grown(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path)
    repo.git("init", "-q", "-b", "main")
    append(repo, SHARD_A, _spent(0), _spent(1))
    append(repo, SHARD_B, _spent(2))
    repo.commit_all("one")
    append(repo, SHARD_A, _spent(3), _spent(4))
    append(repo, SHARD_B, _spent(5))
    repo.commit_all("two")
    return repo


def _from_git(root: Path, olds: dict[str, bytes]) -> dict[str, bytes | None]:
    return dict(zip(olds, cat_file_batch(root, list(olds)), strict=True))


def test_an_appended_file_gives_the_old_blob_without_git(
    grown: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_reader(root: Path) -> None:
        raise AssertionError("read from git")

    monkeypatch.setattr(repo_module, "BlobReader", no_reader)
    records, olds = _range(grown.root)
    assert [r["id"] for r in records] == [ulid(503), ulid(504), ulid(505)]
    assert len(olds) == 2 and olds == _from_git(grown.root, olds)


def test_a_file_not_grown_from_it_leaves_the_read_to_git(grown: Repo) -> None:
    expected = _range(grown.root)
    path = grown.root / SHARD_A
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([lines[1], lines[0], *lines[2:]]))  # (not committed)
    (grown.root / SHARD_B).write_bytes(b"")
    reads: list[str] = []
    real = repo_module.BlobReader.read

    def counted(self: repo_module.BlobReader, sha: str) -> bytes:
        reads.append(sha)
        return real(self, sha)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repo_module.BlobReader, "read", counted)
        got = _range(grown.root)
    assert got == expected and set(expected[1]) <= set(reads)


def test_a_rev_s_files_clean_in_the_work_tree_are_read_as_they_are(grown: Repo) -> None:
    """--rev's blobs that the work tree holds, clean in the index, are marked on disk when
    asked (mark_clean: read without hashing) and git can tell that from stat data alone; a changed file is not,
    and a file as new as the index (racily clean) leaves every blob to History._read. The
    fold is the same either way."""
    import os
    import time

    from bd_vpt.ledger.cache import forget_folds
    from bd_vpt.ledger.view import mark_clean, open_view

    root = grown.root
    old = time.time() - 30
    for path in (SHARD_A, SHARD_B):
        os.utime(root / path, (old, old))
    grown.git("update-index", "--refresh")  # (the index written now: newer than the files)
    info = discover(root)

    def on_disk(rev: str) -> list[bool]:
        view = open_view(info, rev=rev)
        assert not any(e.on_disk for e in view.entries or [])  # (only when asked)
        mark_clean([view])
        return [e.on_disk for e in view.entries or []]

    def folded(rev: str) -> Any:
        forget_folds()
        view = open_view(info, rev=rev, use_cache=False)
        mark_clean([view])
        found = view.folded()
        return found.rows, found.outcomes, found.lines

    assert on_disk("HEAD") == [True, True] and on_disk("HEAD~1") == [False, False]
    expected = folded("HEAD")
    (root / SHARD_B).write_bytes(b"")  # changed: not the blob any more
    os.utime(root / SHARD_B, (old, old))
    assert on_disk("HEAD") == [True, False]
    (root / SHARD_B).write_bytes((root / SHARD_A).read_bytes())
    os.utime(root / SHARD_B, (old, old))
    assert folded("HEAD") == expected
    os.utime(root / SHARD_A)  # as new as the index: racily clean
    assert on_disk("HEAD") == [False, False]
    assert folded("HEAD") == expected


def test_the_blobs_kept_from_git_stay_under_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """history._keep holds the newest blobs up to _KEPT_BYTES (one more when a single blob is
    bigger), its count of bytes always that of what it holds."""
    monkeypatch.setattr(history_module, "_KEPT_BYTES", 100)
    history_module._FROM_GIT.clear()
    for n in range(10):
        history_module._keep(("repo", str(n)), b"x" * 30)
    held = history_module._FROM_GIT
    assert list(held) == [("repo", "7"), ("repo", "8"), ("repo", "9")]
    history_module._keep(("repo", "9"), b"y" * 10)  # the same blob kept again
    assert sum(map(len, held.values())) == history_module._HELD[0] == 70
    history_module._keep(("repo", "big"), b"z" * 500)
    assert list(held) == [("repo", "big")] and history_module._HELD[0] == 500
    history_module._FROM_GIT.clear()
