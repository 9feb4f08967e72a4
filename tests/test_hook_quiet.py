"""The pre-commit hook's nothing-to-do check (bd_vpt/integrations/quiet.py) on real repos with
the hooks installed: it answers only when the full hook would find nothing, and never skips a
bead to capture, a record to stage or a bad line to refuse."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from bd_vpt.integrations import quiet
from bd_vpt.launch import main as launch
from bd_vpt.repo import discover
from tests.helpers import Repo, run_cli
from tests.test_hooks import close_bead, head_records, install, manual


def stamp_file(repo: Repo) -> Path:
    info = discover(repo.root)
    return Path(quiet.stamp_path(str(info.common_dir), str(info.git_dir)))


def commit(repo: Repo, text: str) -> None:
    """A commit of an ordinary file (the hooks run)."""
    (repo.root / "README").write_text(text)
    repo.git("add", "README")
    repo.git("commit", "-q", "-m", text)


def settle() -> None:
    """Let the files just written age past the racy window (a stamp never holds a file
    changed in the last RACY_NS)."""
    time.sleep(quiet.RACY_NS / 1e9 + 0.02)


def quiet_repo(repo: Repo) -> Path:
    """Hooks installed, a bead captured, then commits until the stamp is written."""
    install(repo, "native")
    close_bead(repo, "q-1")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "close q-1")  # captures the outcome
    settle()
    commit(repo, "one")  # the capture finds nothing: the stamp is written
    path = stamp_file(repo)
    assert path.is_file()
    assert quiet.nothing_to_do()
    return path


def completed(repo: Repo) -> list[str]:
    return sorted(
        r["bead"]
        for r in head_records(repo)
        if r["kind"] == "outcome" and r["result"] == "completed"
    )


def test_a_quiet_commit_is_answered_without_the_full_hook(repo: Repo) -> None:
    path = quiet_repo(repo)
    before = path.stat()
    commit(repo, "two")
    after = path.stat()
    # the full hook rewrites the stamp (a new file) or removes it: this one was only read
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert repo.git("log", "-1", "--format=%s").strip() == "two"
    assert completed(repo) == ["q-1"]
    assert launch(["hook", "pre-commit"]) == 0  # the pre-commit framework's entry, too
    assert path.stat().st_ino == before.st_ino


def test_a_bead_closed_after_the_stamp_is_still_captured(repo: Repo) -> None:
    quiet_repo(repo)
    close_bead(repo, "q-2", day=11)
    assert not quiet.nothing_to_do()
    commit(repo, "two")
    assert completed(repo) == ["q-1", "q-2"]


def test_a_bad_staged_line_is_still_refused(repo: Repo) -> None:
    quiet_repo(repo)
    shard = repo.root / ".beads/vpt/ledger/2026-11/hand-000001.jsonl"
    shard.parent.mkdir(parents=True, exist_ok=True)
    shard.write_bytes(b'{"v": 1, "id": "x", "kind": "usage"}\n')
    repo.git("add", str(shard))
    assert not quiet.nothing_to_do()
    (repo.root / "README").write_text("bad\n")
    repo.git("add", "README")
    proc = repo_commit(repo, "bad")
    assert proc.returncode != 0
    assert "hand-000001.jsonl:1" in proc.stderr and "commit blocked" in proc.stderr


def repo_commit(repo: Repo, message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-q", "-m", message], cwd=repo.root, capture_output=True, text=True
    )


def test_a_record_typed_by_hand_is_still_staged(repo: Repo) -> None:
    quiet_repo(repo)
    rid = manual(repo, "q-1", 7)
    assert not quiet.nothing_to_do()  # an unstaged ledger change
    commit(repo, "two")
    assert rid in {r["id"] for r in head_records(repo)}


def test_an_ignored_ledger_file_runs_the_full_hook(repo: Repo) -> None:
    quiet_repo(repo)
    (repo.root / ".beads/vpt/ledger/.gitignore").write_text("stray-*.jsonl\n")
    repo.git("add", ".beads/vpt/ledger/.gitignore")
    repo.git("commit", "-q", "-m", "ignore rule")
    (repo.root / ".beads/vpt/ledger/stray-1.jsonl").write_bytes(b"")
    assert not quiet.nothing_to_do()


def test_no_stamp_for_agent_sources_or_with_bd(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = quiet_repo(repo)
    fake = tmp_path / "bin" / "bd"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("BD", str(fake))
    assert not quiet.nothing_to_do()  # bd's database has no file to stat: bd is asked
    monkeypatch.setenv("BD", "bd-vpt-tests-have-no-bd")
    assert quiet.nothing_to_do()
    config = repo.root / ".beads/vpt/config.toml"
    config.write_text(config.read_text().replace("sources = []", 'sources = ["claude-code"]'))
    assert 'sources = ["claude-code"]' in config.read_text()
    assert not quiet.nothing_to_do()  # the config changed
    repo.git("add", str(config))
    repo.git("commit", "-q", "-m", "import claude-code in the hook")
    settle()
    commit(repo, "two")
    assert not path.exists()  # transcripts are not watched: the full hook runs every time
    assert not quiet.nothing_to_do()


def test_a_stamp_never_holds_a_file_changed_just_now(repo: Repo) -> None:
    path = quiet_repo(repo)
    info = discover(repo.root)
    where = (str(info.root), str(info.git_dir), str(info.common_dir))
    (repo.root / ".beads/issues.jsonl").write_bytes(b"")  # now
    assert not quiet.remember(*where, [".beads/issues.jsonl"])
    assert not path.exists()
    settle()
    assert quiet.remember(*where, [".beads/issues.jsonl"])
    lines = path.read_text().splitlines()
    assert lines[:2] == [quiet.STAMP_HEADER, str(info.root)]
    watched = [line.split("\t", 1)[1] for line in lines[2:]]
    assert str(repo.root / ".beads/issues.jsonl") in watched
    assert str(repo.root / ".beads/vpt/config.toml") in watched


def test_each_worktree_has_its_own_stamp(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main_stamp = quiet_repo(repo)
    other = tmp_path / "other"
    repo.git("worktree", "add", "-q", str(other), "-b", "other")
    monkeypatch.chdir(other)
    assert not quiet.nothing_to_do()  # its sync state is its own
    (other / "README").write_text("other\n")
    subprocess_git(other, "add", "README")
    subprocess_git(other, "commit", "-q", "-m", "other")
    settle()
    (other / "README").write_text("other 2\n")
    subprocess_git(other, "add", "README")
    subprocess_git(other, "commit", "-q", "-m", "other 2")
    info = discover(other)
    assert Path(quiet.stamp_path(str(info.common_dir), str(info.git_dir))) != main_stamp
    assert quiet.nothing_to_do()
    assert main_stamp.is_file()
    records = [orjson.loads(x) for x in (other / ".beads/issues.jsonl").read_bytes().splitlines()]
    assert [r["id"] for r in records] == ["q-1"]
    assert run_cli("validate").code == 0


def subprocess_git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_the_check_imports_nothing_heavy(repo: Repo) -> None:
    """What a pre-commit with nothing to do imports beyond a bare Python start (each heavy
    module costs milliseconds at every commit). Run without site-packages: nothing third-party
    can be imported, and nothing the site machinery loads hides what the check imports."""
    quiet_repo(repo)
    code = (
        "import sys; before = set(sys.modules); from bd_vpt.hookrun import main; "
        "done = main(['pre-commit']); print(done, *sorted(set(sys.modules) - before))"
    )
    source = str(Path(quiet.__file__).parents[2])  # bd_vpt's folder, without site-packages
    env = {**os.environ, "PYTHONPATH": source}
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=repo.root, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    done, *imported = proc.stdout.split()
    assert done == "0"
    assert "bd_vpt.integrations.quiet" in imported
    heavy = {"subprocess", "pathlib", "dataclasses", "inspect", "re", "typing", "orjson"}
    assert heavy & set(imported) == set()
    assert not [m for m in imported if m.startswith(("click", "bd_vpt.ledger", "bd_vpt.capture"))]


def test_an_agent_source_without_transcripts_reads_no_usage(repo: Repo) -> None:
    """The marks of an import come from every usage record of the ledger (seconds at 10^6):
    a hook's capture with no transcript to judge reads none."""
    import shutil

    from bd_vpt.ledger.cache import BlobCache

    install(repo, "native")
    manual(repo, "q-1", 7)
    config = repo.root / ".beads/vpt/config.toml"
    config.write_text(config.read_text().replace("sources = []", 'sources = ["claude-code"]'))
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "a record, claude-code captured by the hook")
    info = discover(repo.root)
    listing = repo.git("ls-tree", "-r", "HEAD", "--", ".beads/vpt/ledger").split("\n")
    blobs = [line.split()[2] for line in listing if line]
    assert blobs
    shutil.rmtree(info.state_dir / "cache", ignore_errors=True)
    commit(repo, "no transcripts")
    assert [BlobCache(info.state_dir).get_usage(sha) for sha in blobs] == [None] * len(blobs)
    transcript = Path.home() / ".claude" / "projects" / "elsewhere" / "s.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_bytes(b"")
    commit(repo, "a transcript to judge")  # now the marks are read (and cached per blob)
    assert all(BlobCache(info.state_dir).get_usage(sha) is not None for sha in blobs)
