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
