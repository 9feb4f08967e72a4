"""The git calls a command will make, started as its first step (repo.ask_early): git runs
on the other core while the command imports what it needs, 5 to 10 ms of a small command.
Only questions whose answers name no path but from the work tree's top (the same from any
folder in it); an answer not asked for is thrown away at the exit, one asked differently is
asked again."""

from __future__ import annotations

from bd_vpt import repo

IMPORT = (  # what `import claude-code` asks, in its order
    repo.WHERE_QUESTION,  # discover
    ("config", "user.name"),  # user_name (the actor, unless named otherwise)
    ("worktree", "list", "--porcelain"),  # worktree_roots
    repo.INDEX_QUESTION,  # index_blobs
    ("stash", "list", "--format=%H"),  # stash_ledger_blobs
)


def summary() -> None:
    repo.ask_early(repo.WHERE_QUESTION, repo.INDEX_QUESTION)


def importing() -> None:
    repo.ask_early(*IMPORT)
