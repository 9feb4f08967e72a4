"""repo.py asks git once per process for what full object ids alone decide (a commit's
ledger tree, two commits' merge base, the config at a commit...); a name that can move
(HEAD, a branch) is asked each time."""

from __future__ import annotations

from typing import Any

import pytest

from bd_vpt import repo
from tests.helpers import Repo


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    asked: list[list[str]] = []
    real = repo.run

    def counted(args: list[str], *rest: Any, **kw: Any) -> Any:
        asked.append(args)
        return real(args, *rest, **kw)

    monkeypatch.setattr(repo, "run", counted)
    monkeypatch.setattr(repo, "_FIXED", {})
    return asked


def test_answers_of_object_ids_are_asked_once(repo_: Repo, calls: list[list[str]]) -> None:
    root = repo_.root
    first = repo.rev_parse(root, "HEAD~1")
    second = repo.rev_parse(root, "HEAD")
    answers = [
        (
            repo.rev_parse(root, first),
            repo.merge_base(root, first, second),
            repo.ledger_tree(root, second),
            repo.ledger_diff(root, first, second),
            repo.ledger_tree_id(root, second),
            repo.commit_time(root, first),
            repo.show_file(root, first, ".beads/vpt/config.toml"),
            repo.show_file(root, first, "no/such/file"),
        )
        for _ in range(3)
    ]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == first and answers[0][2] and answers[0][3]
    assert answers[0][6] is not None and answers[0][7] is None
    # the two names, then each question once (rev_parse of a commit id: not asked at all)
    assert len(calls) == 2 + 7, calls
    answers[0][2].clear()  # a caller's list is its own
    assert repo.ledger_tree(root, second)


def test_a_name_that_can_move_is_asked_each_time(repo_: Repo, calls: list[list[str]]) -> None:
    root = repo_.root
    before = repo.rev_parse(root, "HEAD")
    repo_.ok("record", "B", "--model", "m", "--actor", "agent", "--input", "3", "--cost-usd", "0")
    repo_.commit_all("another")
    after = repo.rev_parse(root, "HEAD")
    assert after != before
    assert repo.ledger_tree(root, "HEAD") == repo.ledger_tree(root, after)
    assert repo.commit_time(root, "HEAD") == repo.commit_time(root, after)


@pytest.fixture
def repo_(repo: Repo) -> Repo:
    """Two commits, each adding a record."""
    for n, bead in enumerate(("A", "B")):
        repo.ok(
            "record",
            bead,
            "--model",
            "m",
            "--actor",
            "agent",
            "--input",
            str(n + 1),
            "--cost-usd",
            "0",
        )
        repo.commit_all(f"record {n}")
    return repo
