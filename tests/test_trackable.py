"""Records reach git (init fixes ignore rules or refuses with the fix) and who the actor is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bd_vpt.capture.manual import resolve_actor
from tests.helpers import Repo, run_cli

REAL = Path(__file__).parent / "fixtures" / "real"


def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    r = Repo(root)
    r.git("init", "-q")
    monkeypatch.chdir(root)
    return r


def test_init_makes_the_ledger_trackable_under_gastowns_gitignore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """steveyegge/gastown's .gitignore ignores `.beads/` (line 65: a `!` rule cannot undo a
    directory rule) and `config.toml` at any depth (line 33)."""
    repo = fresh(tmp_path, monkeypatch)
    shutil.copy(REAL / "gitignore-gastown/.gitignore", repo.root / ".gitignore")
    lines = repo.vpt("init").out.splitlines()
    assert ".gitignore:65: `.beads/` -> `.beads/*` (so `!` rules work)" in lines
    text = (repo.root / ".gitignore").read_text().splitlines()
    assert text[64] == ".beads/*" and text[-2:] == ["!/.beads/vpt/", "!/.beads/vpt/**"]
    (repo.root / ".beads/vpt/ledger/2026-11").mkdir(parents=True)
    (repo.root / ".beads/vpt/ledger/2026-11/a.jsonl").write_text("")
    repo.git("add", "-A")
    staged = repo.git("diff", "--cached", "--name-only").split()
    assert ".beads/vpt/config.toml" in staged and ".beads/vpt/ledger/2026-11/a.jsonl" in staged
    assert ".beads/interactions.jsonl" not in staged  # gastown's other rules still hold
    before = (repo.root / ".gitignore").read_text()
    repo.vpt("init")
    assert (repo.root / ".gitignore").read_text() == before  # idempotent


def test_init_refuses_with_the_exact_fix_when_it_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ignore rule outside the repository (core.excludesFile) is not ours to edit."""
    repo = fresh(tmp_path, monkeypatch)
    excludes = tmp_path / "global-ignore"
    excludes.write_text("# mine\n.beads/\n")
    repo.git("config", "core.excludesFile", str(excludes))
    result = run_cli("init")
    assert result.code == 2
    assert f"{excludes}:2 ignores it (`.beads/`)" in result.err
    assert "replace line 2 `.beads/` with `.beads/*`" in result.err
    assert "Traceback" not in result.err


def test_validate_and_pre_commit_warn_about_records_git_ignores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = fresh(tmp_path, monkeypatch)
    repo.vpt("init")
    repo.ok("record", "bd-1", "--model", "m", "--tokens", "10", "--cost-usd", "0.1")
    (repo.root / ".gitignore").write_text("*.jsonl\n")  # added after init
    warned = repo.vpt("validate").out
    assert "git would never commit it (.gitignore:1 ignores it: `*.jsonl`)" in warned
    assert "run `bd-vpt init` to fix" in warned
    hook = repo.vpt("hook", "pre-commit")
    assert "git would never commit it (.gitignore:1 ignores it: `*.jsonl`)" in hook.err


def test_actor_in_bds_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bd: --actor > BD_ACTOR (viper's BD_ prefix binds the `actor` key) > actor: in
    .beads/config.yaml > BEADS_ACTOR > git user.name > $USER > unknown."""
    repo = fresh(tmp_path, monkeypatch)
    root = repo.root
    monkeypatch.setenv("BEADS_ACTOR", "beads-actor")
    assert resolve_actor(None, root) == "beads-actor"
    (root / ".beads").mkdir()
    (root / ".beads/config.yaml").write_text('# Default actor\nactor: "yaml-actor"\n')
    assert resolve_actor(None, root) == "yaml-actor"
    monkeypatch.setenv("BD_ACTOR", "bd-actor")
    assert resolve_actor(None, root) == "bd-actor"
    assert resolve_actor("flag", root) == "flag"
    for name in ("BD_ACTOR", "BEADS_ACTOR"):
        monkeypatch.delenv(name)
    (root / ".beads/config.yaml").write_text('# actor: ""\n')
    assert resolve_actor(None, root) == "Test User"  # git user.name (the hermetic gitconfig)
