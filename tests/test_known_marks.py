"""What a writer knows of the ledger's usage (ids, source_refs, import marks) is the same
read from the cache as parsed from the files: a file changed since `git add` is cached under
the blob id of its bytes, and a writer that appends to it notes the marks of the bytes it
leaves (unless the file is not what it read followed by what it wrote)."""

from __future__ import annotations

import random
import shutil
from typing import Any

import pytest

from bd_vpt.ledger.known import KEEP_BYTES, Known
from bd_vpt.ledger.writer import writing
from bd_vpt.repo import blob_id, discover
from tests.helpers import SHARD_A, SHARD_B, Repo, append, ulid, usage


def marked(rnd: random.Random, n: int) -> dict[str, object]:
    ts = f"2026-11-{rnd.randint(10, 20)}T10:00:{n % 60:02d}.000Z"
    extra: dict[str, Any] = {"source_ref": f"claude-code:S{n % 4}:m{n}"}
    if rnd.random() < 0.7:
        extra["session"] = f"S{n % 4}"
        extra["last_message"] = [ts, f"m{n}"]
    return usage(ulid(n), ts, None, "a", "m", n, 1, **extra)


def fresh(repo: Repo, cached: bool) -> list[dict[str, object]]:
    if not cached:
        shutil.rmtree(repo.root / ".git" / "bd-vpt" / "cache", ignore_errors=True)
    return sorted(Known(discover(repo.root)).usage(), key=lambda r: str(r["id"]))


@pytest.mark.parametrize("keep", [0, KEEP_BYTES])  # (0: the bytes read are not kept)
def test_marks_read_from_the_cache_are_those_of_the_files(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, keep: int
) -> None:
    monkeypatch.setattr("bd_vpt.ledger.known.KEEP_BYTES", keep)
    rnd = random.Random(3)
    append(repo, SHARD_A, *[marked(rnd, n) for n in range(30)])
    info = discover(repo.root)
    n = 30
    for step in range(6):
        with writing(info) as writer:
            before = len(writer.known.usage())
            if step == 3:  # a line written behind the lock's back: the file is not old + new
                append(repo, SHARD_A, marked(rnd, 1000))
            if step == 5:  # a torn last line, which the write cuts: old + new again
                with (repo.root / SHARD_A).open("ab") as torn:
                    torn.write(b'{"v":1,"kind":"us')
            shard = repo.root / (SHARD_A if step % 2 else SHARD_B)
            writer.append([marked(rnd, n + i) for i in range(5)], shard)
            n += 5
        data = shard.read_bytes()
        entry = repo.root / ".git" / "bd-vpt" / "cache" / "blobs-v2-r1"
        sha = blob_id(data)
        assert (entry / sha[:2] / sha[2:]).with_suffix(".u2").exists() == (step != 3)
        got = fresh(repo, cached=True)
        assert got == fresh(repo, cached=False)
        assert len(got) > before or step == 3
