"""A view folded after another it shares most blobs with (LedgerView.like: pr folds head, then
base) does not sort every id and source_ref key again when it can prove none is in two of its
blobs from the other's folds (view._distinct_like). On random branched repositories (merges
both ways, a record copied into a second shard, a copy the head removed) the fold is the one
made without the other view, and the proof is taken only where it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from bd_vpt.economics.metrics import window
from bd_vpt.ledger import rows as rows_module
from bd_vpt.ledger.cache import forget_folds
from bd_vpt.ledger.rows import Folded
from bd_vpt.ledger.view import LedgerView, open_view
from bd_vpt.repo import discover
from tests.helpers import SHARD_A, SHARD_B, Repo, append, ulid, usage
from tests.test_pr_routes import STEPS, Step, _repository

CUT = window("2026-11-03T12:00:00Z", "2026-11-20T06:00:00Z")  # both ends cut a day


def _folded(view: LedgerView) -> tuple[Any, ...]:
    found: Folded = view.folded(CUT, {"2026-11-03", "2026-11-20"})
    problems = [p.as_dict() for p in found.problems]
    return (list(found.rows.items()), found.outcomes, problems, found.lines)


def _both(root: Path, base: str, head: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    """base folded alone and after head: the same fold; whether the keys were sorted."""
    info = discover(root)
    forget_folds()
    alone = _folded(open_view(info, rev=base))  # (the folds stay in memory: same objects)
    sorts: list[int] = []
    real = rows_module.repeated_both

    def counted(*args: Any) -> Any:
        sorts.append(1)
        return real(*args)

    monkeypatch.setattr(rows_module, "repeated_both", counted)
    ahead = open_view(info, rev=head)
    ahead.folded()
    after = open_view(info, rev=base)
    after.like = ahead
    sorts.clear()
    assert _folded(after) == alone
    monkeypatch.setattr(rows_module, "repeated_both", real)
    return not sorts


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(STEPS)
def test_base_folded_after_head_is_base_folded_alone(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, steps: list[Step]
) -> None:
    root = tmp_path_factory.mktemp("like")
    _repository(root, steps)
    _both(root, "main", "feature", monkeypatch)
    _both(root, "feature", "main", monkeypatch)


def test_the_proof_is_taken_for_appends_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo(tmp_path)
    repo.git("init", "-q", "-b", "main")
    spent = [
        usage(ulid(100 + i), f"2026-11-{3 + i:02d}T1{i}:00:00.000Z", "b", "a", "m", 10, 5, 0.1)
        for i in range(4)
    ]
    append(repo, SHARD_A, *spent[:2])
    append(repo, SHARD_B, spent[2])
    repo.commit_all("one")
    append(repo, SHARD_A, spent[3])
    repo.commit_all("appended")
    assert _both(tmp_path, "HEAD~1", "HEAD", monkeypatch)  # the proof holds
    append(repo, SHARD_B, spent[0])  # a copy in a second shard: head repeats an id
    repo.commit_all("copied")
    assert not _both(tmp_path, "HEAD~1", "HEAD", monkeypatch)
    (tmp_path / SHARD_B).write_text((tmp_path / SHARD_B).read_text().splitlines()[0] + "\n")
    repo.commit_all("the copy removed")  # base repeats it, head does not: sorted
    assert not _both(tmp_path, "HEAD~1", "HEAD", monkeypatch)


def test_cut_days_placed_by_the_fold_workers_are_those_placed_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """head folded by worker processes that also place the lines of the days a window cuts
    (LedgerView.ahead): base's fold over that window is the one made alone, and reads no
    blob for those days."""
    from bd_vpt.ledger import parallel, view

    repo = Repo(tmp_path)
    repo.git("init", "-q", "-b", "main")
    for i in range(12):
        day, hour = (3, 6 + i) if i % 2 else (20, i)  # both days the window cuts
        ts = f"2026-11-{day:02d}T{hour:02d}:00:00.000Z"
        append(
            repo,
            f".beads/vpt/ledger/2026-11/agent-w{i % 4}-000001.jsonl",
            usage(ulid(200 + i), ts, "b", "a", "m", i, 1),
        )
    repo.commit_all("one")
    append(repo, SHARD_A, usage(ulid(300), "2026-11-04T10:00:00.000Z", "b", "a", "m", 1, 1))
    repo.commit_all("two")
    info = discover(tmp_path)
    forget_folds()
    alone = _folded(open_view(info, rev="HEAD~1"))
    forget_folds()
    rows_module.PLACED.clear()
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_JOBS", 2)
    ahead = open_view(info, rev="HEAD")
    ahead.ahead = (CUT, {"2026-11-03", "2026-11-20"})
    ahead.folded()
    assert len(rows_module.PLACED) == 4 or rows_module.lane_spec(*ahead.ahead) is None
    read: list[str] = []
    real = view._data

    def counted(history: Any, entry: Any) -> bytes:
        read.append(entry.path)
        return real(history, entry)

    monkeypatch.setattr(view, "_data", counted)
    after = open_view(info, rev="HEAD~1")
    after.like = ahead
    assert _folded(after) == alone
    assert not read or rows_module.lane_spec(*ahead.ahead) is None


def test_folds_are_looked_up_on_disk_only_when_the_cache_folder_is_there(tmp_path: Path) -> None:
    from bd_vpt.ledger.cache import BlobCache, fold_entry
    from bd_vpt.ledger.rows import fold_blob

    forget_folds()
    cache = BlobCache(tmp_path)
    fold = fold_blob(b"")
    assert cache.get_folds(["a" * 40, "b" * 40]) == [None, None]  # (no folder: none looked at)
    assert cache.dir is not None
    path = cache._path("b" * 40)
    path.parent.mkdir(parents=True, exist_ok=True)
    from bd_vpt.ledger.cache import _FOLD

    path.with_suffix(_FOLD).write_bytes(fold_entry("b" * 40, fold))
    got = cache.get_folds(["a" * 40, "b" * 40])
    assert got[0] is None and got[1] is not None and got[1].rows == fold.rows
    assert cache.get_folds(["b" * 40]) == [cache.get_fold("b" * 40)]
