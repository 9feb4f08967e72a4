"""repo.BlobReader: one `git cat-file --batch` for many blobs, without GitPython."""

from __future__ import annotations

import sys

import pytest

from bd_vpt.repo import BlobReader, blob_id
from tests.helpers import SHARD_A, Repo, two_shards


def test_blobs_are_read_missing_ones_refused_and_a_lost_process_replaced(repo: Repo) -> None:
    two_shards(repo)
    data = (repo.root / SHARD_A).read_bytes()
    sha = blob_id(data)
    reader = BlobReader(repo.root)
    assert reader.read(sha) == data
    assert reader.read(sha) == data  # the same process answers again
    with pytest.raises(ValueError, match="no such object"):
        reader.read("0" * 40)
    assert reader.read(sha) == data  # a missing object does not end the process
    assert reader._proc is not None
    reader._proc.kill()
    reader._proc.wait()
    with pytest.raises(OSError):
        reader.read(sha)  # cut off: said, and closed
    assert reader._proc is None
    assert reader.read(sha) == data  # a new process next time
    reader.close()
    reader.close()
    assert reader.read(sha) == data  # reopened after close
    reader.close()
    assert "git" not in sys.modules  # no GitPython


def test_a_blob_read_from_git_is_read_once_per_process(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bd_vpt.ledger import history as module
    from bd_vpt.ledger.cache import BlobCache
    from bd_vpt.ledger.history import History
    from bd_vpt.repo import discover

    two_shards(repo)
    data = (repo.root / SHARD_A).read_bytes()
    (repo.root / SHARD_A).write_bytes(data + b"\n")  # the file is no longer the blob
    asked: list[str] = []
    read = BlobReader.read

    def counted(self: BlobReader, sha: str) -> bytes:
        asked.append(sha)
        return read(self, sha)

    monkeypatch.setattr(BlobReader, "read", counted)
    monkeypatch.setattr(module, "_KEPT_BYTES", len(data) + 1)
    info = discover(repo.root)
    for _ in range(2):  # two views, as pr's range and base
        history = History(info, BlobCache(None))
        assert history.read(blob_id(data)) == data
        history.close()
    assert asked == [blob_id(data)]
    other = blob_id((repo.root / ".beads/vpt/config.toml").read_bytes())
    History(info, BlobCache(None)).read(other)  # more than the bytes kept: the oldest goes
    History(info, BlobCache(None)).read(blob_id(data))
    assert asked == [blob_id(data), other, blob_id(data)]
