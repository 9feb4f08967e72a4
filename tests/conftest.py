"""Hermetic git: temp HOME, no system config, fixed identities and dates, empty templates."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Repo

ENV_DROP = (
    "BD_ACTOR",
    "BEADS_ACTOR",
    "BD_JSON_ENVELOPE",
    "BD_VPT_BEAD",
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
)


@pytest.fixture(autouse=True)
def hermetic_seal(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    templates = tmp_path_factory.mktemp("templates")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TEMPLATE_DIR", str(templates))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.invalid")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-20T12:00:00+00:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-20T12:00:00+00:00")
    monkeypatch.setenv("BD", "bd-vpt-tests-have-no-bd")  # a real bd on PATH must not leak in
    for name in ENV_DROP:
        monkeypatch.delenv(name, raising=False)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = user@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    """A fresh git repo with bd-vpt initialised, as the current directory."""
    root = tmp_path / "repo"
    root.mkdir()
    r = Repo(root)
    r.git("init", "-q")
    monkeypatch.chdir(root)
    r.vpt("init")
    yield r


def bash(script: str, cwd: Path) -> str:
    """Run setup steps that read like a bug report."""
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", textwrap.dedent(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    if proc.returncode != 0:
        raise AssertionError(f"bash failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout
