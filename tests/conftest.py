"""Hermetic git: temp HOME, no system config, fixed identities and dates, empty templates."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import SHARD_A, SHARD_B, Repo, append, outcome, ulid, usage

ENV_DROP = (
    "BD_ACTOR",
    "BEADS_ACTOR",
    "BD_JSON_ENVELOPE",
    "BD_VPT_BEAD",
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "OPENCLAW_STATE_DIR",
    "CLAWDBOT_STATE_DIR",
    "OPENCLAW_HOME",
    "PI_CODING_AGENT_DIR",
    "GT_HOME",
    "XDG_DATA_HOME",
    "GEMINI_CLI_HOME",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
)


@pytest.fixture(autouse=True)
def hermetic_seal(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    from bd_vpt.economics.timeline import forget_states
    from bd_vpt.ledger.cache import forget_folds

    forget_folds()  # each test reads its repos afresh (the process keeps folds by blob id)
    forget_states()  # and bead states by their records
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
    yield
    parallel = sys.modules.get("bd_vpt.ledger.parallel")
    if parallel is not None:
        parallel.settle()  # worker processes write their cache entries as they exit


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


@pytest.fixture
def branched(repo: Repo) -> Repo:
    """main: A (P1) and B (P0) closed in the baseline; then main moves on (D).
    feature (from main before D): C (P2) closed, A reopened with more tokens on it."""
    repo.write_beads(
        {"id": "A", "title": "Fix login redirect", "status": "open", "priority": 1},
        {"id": "B", "title": "Add audit log", "status": "closed", "priority": 0},
        {"id": "C", "title": "Paginate the orders API", "status": "closed", "priority": 2},
    )
    append(
        repo,
        SHARD_A,
        usage(ulid(1), "2026-11-02T09:00:00Z", "A", "agent-a", "m", 60_000, 40_000, 1.0),
        outcome(ulid(2), "2026-11-02T17:00:00Z", "A", "agent-a", "completed", 1),
        usage(ulid(3), "2026-11-09T09:00:00Z", "B", "agent-a", "m", 200_000, 100_000, 2.0),
        outcome(ulid(4), "2026-11-09T17:00:00Z", "B", "agent-a", "completed", 0),
    )
    repo.commit_all("baseline work")
    repo.git("branch", "feature")
    append(
        repo,
        SHARD_A,
        usage(ulid(5), "2026-11-18T09:00:00Z", "D", "agent-a", "m", 10_000, 10_000, 0.2),
    )
    repo.commit_all("main moves on")
    repo.git("checkout", "-q", "feature")
    append(
        repo,
        SHARD_B,
        usage(ulid(6), "2026-11-16T09:00:00Z", "C", "agent-b", "m", 150_000, 50_000, 1.5),
        outcome(ulid(7), "2026-11-16T17:00:00Z", "C", "agent-b", "completed", 2),
        outcome(ulid(8), "2026-11-17T10:00:00Z", "A", "reviewer", "reopened", 1),
        usage(ulid(9), "2026-11-17T12:00:00Z", "A", "agent-b", "m", 40_000, 10_000, 0.5),
    )
    repo.write_beads(
        {"id": "A", "title": "Fix login redirect", "status": "open", "priority": 1},
        {"id": "B", "title": "Add audit log", "status": "closed", "priority": 0},
        {"id": "C", "title": "Paginate the orders API", "status": "closed", "priority": 2},
    )
    repo.commit_all("feature work")
    return repo
