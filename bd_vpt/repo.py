"""The one place that talks to git.

Plain `git` subprocesses for what hooks and capture need (fast start-up, honours
GIT_INDEX_FILE and friends); GitPython for walking history, imported only there.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bd_vpt.errors import VptError


class GitError(VptError):
    pass


def git(
    *args: str, cwd: Path | str | None = None, check: bool = True, input: bytes | None = None
) -> str:
    """Run git and return stdout as text; raise GitError (exit 2) on failure when check."""
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=False)
    if check and proc.returncode != 0:
        raise GitError(
            f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}"
        )
    return proc.stdout.decode(errors="replace")


@dataclass(frozen=True)
class RepoInfo:
    root: Path  # the work tree's top level
    git_dir: Path  # this worktree's git dir
    common_dir: Path  # shared by all worktrees: hooks and bd-vpt's local state live here

    @property
    def state_dir(self) -> Path:
        """Local-only state (locks, caches, spool): never committed, shared by worktrees."""
        return self.common_dir / "bd-vpt"


def discover(cwd: Path | str | None = None) -> RepoInfo:
    """Find the repository that contains cwd."""
    proc = subprocess.run(
        ["git", "rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"],
        cwd=cwd,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise VptError(
            f"not inside a git work tree: {Path(cwd or os.getcwd()).resolve()}",
            hint="bd-vpt keeps its ledger in git: run it inside a repository (git init)",
        )
    top, git_dir, common = proc.stdout.decode().splitlines()[:3]
    common_path = Path(common)
    if not common_path.is_absolute():
        common_path = (Path(cwd or os.getcwd()) / common_path).resolve()
    return RepoInfo(root=Path(top), git_dir=Path(git_dir), common_dir=common_path)


def user_name(root: Path) -> str | None:
    name = git("config", "user.name", cwd=root, check=False).strip()
    return name or None


def show_file(root: Path, rev: str, path: str) -> bytes | None:
    """The bytes of path as committed at rev, or None when it is not there."""
    proc = subprocess.run(
        ["git", "cat-file", "blob", f"{rev}:{path}"], cwd=root, capture_output=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else None
