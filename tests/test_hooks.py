"""Git hooks on real repos: native hooks and the pre-commit framework, every commit form."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import Repo, run_cli, ulid, usage

FORMS = ("commit", "commit-a", "commit-path", "amend", "merge", "stash-pop", "rebase", "worktree")


def set_sync_since(repo: Repo, day: str = "2026-01-01") -> None:
    path = repo.root / ".beads/vpt/config.toml"
    text = path.read_text()
    start = text.index("sync_since")
    end = text.index("\n", start)
    path.write_text(text[:start] + f'sync_since = "{day}"' + text[end:])


def close_bead(repo: Repo, bead: str, day: int = 10) -> None:
    """bd closed a bead: the git-tracked export says so (what the capture reads)."""
    path = repo.root / ".beads/issues.jsonl"
    beads = [orjson.loads(x) for x in path.read_bytes().splitlines()] if path.exists() else []
    beads.append(
        {
            "id": bead,
            "title": f"bead {bead}",
            "status": "closed",
            "priority": 2,
            "issue_type": "task",
            "closed_at": f"2026-11-{day:02d}T10:00:00Z",
            "updated_at": f"2026-11-{day:02d}T10:00:00Z",
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(b) + b"\n" for b in beads))


def records_at(repo: Repo, rev: str = "HEAD") -> list[dict[str, Any]]:
    """Every ledger line in rev's tree, read with plain git (duplicates kept)."""
    listing = repo.git("ls-tree", "-r", "--name-only", rev, "--", ".beads/vpt/ledger")
    out = []
    for path in listing.split():
        for line in repo.git("show", f"{rev}:{path}").splitlines():
            if line.strip():
                out.append(orjson.loads(line))
    return out


def head_records(repo: Repo) -> list[dict[str, Any]]:
    return records_at(repo, "HEAD")


def on_disk(repo: Repo) -> list[dict[str, Any]]:
    """Every ledger line in the work tree."""
    return [orjson.loads(x) for p in repo.shards() for x in p.read_bytes().splitlines() if x]


def manual(repo: Repo, bead: str, tokens: int) -> str:
    """`bd-vpt record` by hand; returns the new record's id."""
    out = run_cli(
        "record",
        bead,
        "--model",
        "m",
        "--input",
        str(tokens),
        "--cost-usd",
        "0",
        "--format",
        "json",
    )
    assert out.code == 0, out.err
    rid: str = out.json()["records"][0]["id"]
    return rid


def check_invariants(
    repo: Repo, closed: list[str], made: list[str], *, waiting: bool = False
) -> None:
    """Each captured completion and each manual record is in HEAD exactly once (or, with
    waiting, still in the work tree for the next commit); nothing is reopened."""
    records = head_records(repo)
    ids = Counter(r["id"] for r in records)
    assert all(n == 1 for n in ids.values()), "a record is twice in HEAD"
    completed = Counter(
        r["bead"] for r in records if r["kind"] == "outcome" and r["result"] == "completed"
    )
    disk = on_disk(repo)
    disk_done = {r["bead"] for r in disk if r["kind"] == "outcome" and r["result"] == "completed"}
    for bead in closed:
        assert completed[bead] <= 1, f"{bead}: completed twice in HEAD"
        assert completed[bead] == 1 or (waiting and bead in disk_done), f"{bead} lost"
    disk_ids = {r["id"] for r in disk}
    for rid in made:
        assert ids[rid] == 1 or (waiting and rid in disk_ids), f"manual record {rid} lost"
    assert not [r for r in records if r["kind"] == "outcome" and r["result"] == "reopened"]
    assert repo.git("diff", "--cached", "--name-only", "--", ".beads/vpt/ledger") == ""
    assert run_cli("validate").code == 0


def install(repo: Repo, mode: str) -> None:
    set_sync_since(repo)
    if mode == "native":
        assert run_cli("hooks", "install").code == 0
    else:
        config = f"""repos:
- repo: local
  hooks:
  - id: bd-vpt-capture
    name: bd-vpt capture
    entry: {sys.executable} -m bd_vpt.hookrun pre-commit
    language: system
    pass_filenames: false
    always_run: true
    stages: [pre-commit]
  - id: bd-vpt-post-merge
    name: bd-vpt post-merge
    entry: {sys.executable} -m bd_vpt.hookrun post-merge
    language: system
    pass_filenames: false
    always_run: true
    stages: [post-merge]
"""
        (repo.root / ".pre-commit-config.yaml").write_text(config)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pre_commit",
                "install",
                "--hook-type",
                "pre-commit",
                "--hook-type",
                "post-merge",
            ],
            cwd=repo.root,
            check=True,
            capture_output=True,
        )
    attributes = repo.root / ".gitattributes"  # beads merges its export with a driver of its own
    attributes.write_text(attributes.read_text() + ".beads/issues.jsonl merge=union\n")
    (repo.root / "README").write_text("hello\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "setup")


@pytest.mark.parametrize("mode", ["native", "framework"])
@pytest.mark.parametrize("form", FORMS)
def test_commit_matrix(repo: Repo, mode: str, form: str, tmp_path: Path) -> None:
    """Every record (captured by the hook or typed by hand) lands once, in the branch where
    it was made, whatever the commit form."""
    install(repo, mode)
    closed = ["m-1"]
    close_bead(repo, "m-1")
    made = [manual(repo, "m-1", 5)]
    waiting = False
    if form == "commit":
        (repo.root / "README").write_text("changed\n")
        repo.git("add", "README", ".beads/issues.jsonl")
        repo.git("commit", "-q", "-m", "work")
    elif form == "commit-a":
        repo.git("add", ".beads/issues.jsonl")
        (repo.root / "README").write_text("changed\n")
        repo.git("commit", "-q", "-a", "-m", "work")
    elif form == "commit-path":
        (repo.root / "README").write_text("changed\n")
        repo.git("commit", "-q", "-m", "only the readme", "README")
        assert repo.git("show", "--name-only", "--format=", "HEAD").split() == ["README"]
        waiting = True  # git commits only the path named: the records wait in the work tree
    elif form == "amend":
        repo.git("add", "-A")
        repo.git("commit", "-q", "--amend", "-m", "setup, amended")
    elif form == "merge":
        repo.git("checkout", "-q", "-b", "side")
        repo.git("add", "-A")
        repo.git("commit", "-q", "-m", "side work")  # captures m-1 on the side branch
        check_invariants(repo, closed, made)
        repo.git("checkout", "-q", "main")
        close_bead(repo, "m-2", day=11)
        made_main = manual(repo, "m-2", 6)
        repo.git("add", "-A")
        repo.git("commit", "-q", "-m", "main work")  # captures m-2; m-1 stays on side
        main_beads = {r["bead"] for r in head_records(repo)}
        assert main_beads == {"m-2"}, "a record of the side branch landed on main"
        check_invariants(repo, ["m-2"], [made_main])
        proc = subprocess.run(
            ["git", "merge", "-q", "--no-ff", "--no-edit", "side"],
            cwd=repo.root,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        ran = "the merge brought" if mode == "native" else "bd-vpt post-merge....."
        assert ran in proc.stderr and "Failed" not in proc.stderr  # post-merge ran, read-only
        assert repo.git("status", "--porcelain", "--", ".beads") == ""
        closed.append("m-2")
        made.append(made_main)
    elif form == "stash-pop":
        repo.git("stash", "-q", "-u")  # the closed bead and the manual record go away
        (repo.root / "README").write_text("meanwhile\n")
        repo.git("add", "README")
        repo.git("commit", "-q", "-m", "meanwhile")
        assert head_records(repo) == []
        repo.git("stash", "pop", "-q")
        repo.git("add", "-A")
        repo.git("commit", "-q", "-m", "after the stash")
    elif form == "rebase":
        repo.git("checkout", "-q", "-b", "feature")
        repo.git("add", "-A")
        repo.git("commit", "-q", "-m", "feature work")
        repo.git("checkout", "-q", "main")
        (repo.root / "OTHER").write_text("x\n")
        repo.git("add", "OTHER")
        repo.git("commit", "-q", "-m", "main moves on")
        repo.git("checkout", "-q", "feature")
        repo.git("rebase", "-q", "main")
    elif form == "worktree":
        repo.git("add", "-A")
        repo.git("commit", "-q", "-m", "main work")
        second = tmp_path / "second"
        repo.git("worktree", "add", "-q", str(second), "-b", "wt")
        wt = Repo(second)
        os.chdir(second)
        close_bead(wt, "w-1", day=13)
        made_wt = manual(wt, "w-1", 7)
        wt.git("add", "-A")
        wt.git("commit", "-q", "-m", "worktree work")
        check_invariants(wt, ["m-1", "w-1"], [*made, made_wt])
        os.chdir(repo.root)
        repo.git("commit", "-q", "--allow-empty", "-m", "main again")
        assert "w-1" not in {r["bead"] for r in head_records(repo)}, "worktree capture on main"
        assert made_wt not in {r["id"] for r in on_disk(repo)}
    check_invariants(repo, closed, made, waiting=waiting)
    # one more ordinary commit: whatever waited lands, nothing twice
    close_bead(repo, "m-3", day=12)
    closed.append("m-3")
    made.append(manual(repo, "m-3", 9))
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "later")
    check_invariants(repo, closed, made)
    completed = Counter(r["bead"] for r in head_records(repo) if r["kind"] == "outcome")
    assert all(completed[b] == 1 for b in closed), completed


def test_a_completion_on_a_branch_is_never_replayed_as_a_reopen_elsewhere(repo: Repo) -> None:
    """The issue's case: a plain `bd close` captured on a feature branch, then commits on
    main whose export still says open (and is newer): main never gets a false reopen, and
    after the merge the bead counts closed once."""
    install(repo, "native")
    repo.git("checkout", "-q", "-b", "feature")
    close_bead(repo, "f-1", day=10)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "feature closes f-1")
    repo.git("checkout", "-q", "main")
    path = repo.root / ".beads/issues.jsonl"
    path.write_bytes(
        orjson.dumps(
            {
                "id": "f-1",
                "title": "bead f-1",
                "status": "open",
                "priority": 2,
                "issue_type": "task",
                "updated_at": "2026-11-15T10:00:00Z",  # newer than the close on the branch
            }
        )
        + b"\n"
    )
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "main edits f-1")
    repo.git("commit", "-q", "--allow-empty", "-m", "main again")
    assert [r for r in head_records(repo) if r["kind"] == "outcome"] == []
    proc = subprocess.run(
        ["git", "merge", "-q", "--no-edit", "-X", "theirs", "feature"],
        cwd=repo.root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    outcomes = [r for r in head_records(repo) if r["kind"] == "outcome"]
    assert [(r["bead"], r["result"]) for r in outcomes] == [("f-1", "completed")]
    assert run_cli("summary", "--format", "json").json()["totals"]["beads_closed"] == 1


def test_framework_with_an_unstaged_change_to_a_shard(repo: Repo) -> None:
    """The known trap: the pre-commit framework stashes unstaged changes while hooks run.
    Captures go to their own shard, so the user's unstaged manual record survives intact."""
    install(repo, "framework")
    assert run_cli("record", "b-9", "--model", "m", "--input", "5", "--cost-usd", "0").code == 0
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "a manual record")
    assert run_cli("record", "b-9", "--model", "m", "--input", "7", "--cost-usd", "0").code == 0
    (manual_shard,) = [p for p in repo.shards() if ".capture." not in p.name]
    unstaged = manual_shard.read_bytes()
    close_bead(repo, "t-1")
    repo.git("add", ".beads/issues.jsonl")
    repo.git("commit", "-q", "-m", "capture while a shard has unstaged changes")
    assert manual_shard.read_bytes() == unstaged  # the unstaged change is back, untouched
    assert repo.git("diff", "--name-only").strip() == manual_shard.relative_to(repo.root).as_posix()
    check_invariants(repo, ["t-1"], [])
    assert any(r["bead"] == "t-1" for r in head_records(repo))


def test_foreign_hook_runs_first_and_is_restored_byte_for_byte(repo: Repo) -> None:
    hook = repo.root / ".git/hooks/pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    original = b"#!/bin/sh\necho 'lint says no' >&2\nexit 3\n"
    hook.write_bytes(original)
    hook.chmod(0o750)
    out = run_cli("hooks", "install")
    assert out.code == 0 and "pre-commit.legacy" in out.out
    assert run_cli("hooks", "install").code == 0  # idempotent
    (repo.root / "f").write_text("x")
    repo.git("add", "f")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "x"], cwd=repo.root, capture_output=True, text=True
    )
    assert proc.returncode != 0 and "lint says no" in proc.stderr
    assert run_cli("hooks", "uninstall").code == 0
    assert hook.read_bytes() == original
    assert stat.S_IMODE(hook.stat().st_mode) == 0o750
    assert not (repo.root / ".git/hooks/pre-commit.legacy").exists()
    assert not (repo.root / ".git/hooks/post-merge").exists()


def test_hooks_status_and_core_hooks_path(repo: Repo) -> None:
    status = run_cli("hooks", "status", "--format", "json").json()
    assert {h["name"]: h["state"] for h in status["hooks"]} == {
        "pre-commit": "none",
        "post-merge": "none",
    }
    repo.git("config", "core.hooksPath", ".husky/_")
    refused = run_cli("hooks", "install")
    assert (
        refused.code == 2
        and "core.hooksPath" in refused.err
        and "bd-vpt hook pre-commit" in refused.err
    )
    forced = run_cli("hooks", "install", "--force")
    assert forced.code == 0 and (repo.root / ".husky/_/pre-commit").exists()
    status = run_cli("hooks", "status", "--format", "json").json()
    assert status["hooks"][0]["state"] == "bd-vpt" and "core.hooksPath" in status["notes"][0]


def test_beads_own_hook_is_detected_and_chained(repo: Repo) -> None:
    hook = repo.root / ".git/hooks/pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/usr/bin/env sh\n# bd-shim v1\n# bd-hooks-version: 0.49.3\nexit 0\n")
    hook.chmod(0o755)
    out = run_cli("hooks", "install").out
    assert "beads' own pre-commit hook" in out


def test_worktrees_share_hooks_and_write_their_own_shards(repo: Repo, tmp_path: Path) -> None:
    install(repo, "native")
    second = tmp_path / "second"
    repo.git("worktree", "add", "-q", str(second), "-b", "wt")
    wt = Repo(second)
    close_bead(repo, "w-1")
    close_bead(wt, "w-1")  # the same export in both (each worktree has its own checkout)
    close_bead(wt, "w-2", day=11)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "main worktree")
    os.chdir(second)
    wt.git("add", "-A")
    wt.git("commit", "-q", "-m", "second worktree")
    main_shards = {p.name for p in repo.shards() if ".capture." in p.name}
    wt_shards = {p.name for p in wt.shards() if ".capture." in p.name}
    assert main_shards and wt_shards and main_shards.isdisjoint(wt_shards)
    # each worktree's branch holds what its own export showed when it committed (from git's
    # point of view a record belongs to the commit where it lands); the merge unions them and
    # the same bd transition (one source_ref) counts once
    assert {r["bead"] for r in head_records(repo)} == {"w-1"}
    assert {r["bead"] for r in head_records(wt)} == {"w-1", "w-2"}
    wt.git("merge", "-q", "--no-edit", "main")
    totals = run_cli("summary", "--format", "json").json()["totals"]
    assert (totals["beads_closed"], totals["outcome_records"]) == (2, 2)


def test_a_secret_in_a_staged_line_blocks_the_commit(repo: Repo) -> None:
    install(repo, "native")
    shard = repo.root / ".beads/vpt/ledger/2026-11/agent-000001.jsonl"
    shard.parent.mkdir(parents=True, exist_ok=True)
    good = usage(ulid(1), "2026-11-02T09:00:00Z", "A", "a", "m", 1, 1, 0.0)
    leaky = {
        **usage(ulid(2), "2026-11-02T09:00:00Z", "A", "a", "m", 1, 1, 0.0),
        "session": "sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    }
    shard.write_bytes(orjson.dumps(good) + b"\n" + orjson.dumps(leaky) + b"\n")
    repo.git("add", "-A")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "leak"], cwd=repo.root, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert (
        ".beads/vpt/ledger/2026-11/agent-000001.jsonl:2:" in proc.stderr and "secret" in proc.stderr
    )
    assert "sk-ant-api03" not in proc.stderr  # never echoes the key
    shard.write_bytes(orjson.dumps(good) + b"\n" + b"{broken\n")
    repo.git("add", "-A")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "bad"], cwd=repo.root, capture_output=True, text=True
    )
    assert proc.returncode != 0 and "agent-000001.jsonl:2: error: malformed JSON" in proc.stderr


def test_post_merge_prints_what_the_merge_brought(repo: Repo) -> None:
    install(repo, "native")
    shard = ".beads/vpt/ledger/2026-11/agent-000001.jsonl"
    base = [usage(ulid(1), "2026-11-02T09:00:00Z", "A", "a", "m", 500_000, 500_000, 1.0)]

    def write(recs: list[dict[str, Any]]) -> None:
        (repo.root / shard).parent.mkdir(parents=True, exist_ok=True)
        (repo.root / shard).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs))

    from tests.helpers import outcome

    write(base)
    repo.commit_all("base")
    repo.git("checkout", "-q", "-b", "side")
    shared = outcome(ulid(2), "2026-11-03T09:00:00Z", "A", "a", "completed", 0)
    side = [*base, shared, usage(ulid(3), "2026-11-03T10:00:00Z", "B", "b", "m", 1_000_000, 0, 2.0)]
    write(side)
    repo.commit_all("side")
    repo.git("checkout", "-q", "main")
    write([*base, shared])  # the same outcome reached main too (e.g. cherry-picked)
    repo.commit_all("main")
    proc = subprocess.run(
        ["git", "merge", "--no-edit", "side"], cwd=repo.root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    # before: 1 Mtok, A (P0) closed -> BC/MT 8; after: 2 Mtok -> 4; the merge brought B's usage
    assert (
        "the merge brought 1 record(s): 1,000,000 tokens, model cost $2.00, 100% of tokens priced, 0 bead(s) closed"
        in proc.stderr
    )
    assert "fleet BC/MT 8.00 -> 4.00" in proc.stderr
    assert repo.git("status", "--porcelain") == ""  # post-merge never modifies files


PROJECT = Path(__file__).resolve().parents[1]


def test_pre_commit_hooks_manifest_is_valid() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "validate-manifest",
            str(PROJECT / ".pre-commit-hooks.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pre_commit_try_repo_runs_our_manifest(repo: Repo, tmp_path: Path) -> None:
    """The pre-commit framework (from PyPI) builds bd-vpt's hook environment from this
    checkout and runs bd-vpt-validate: a bad staged line fails with path:line."""
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    shard = repo.root / ".beads/vpt/ledger/2026-11/agent-000001.jsonl"
    shard.parent.mkdir(parents=True, exist_ok=True)
    shard.write_bytes(
        orjson.dumps(usage(ulid(1), "2026-11-02T09:00:00Z", "A", "a", "m", 1, 1, 0.0)) + b"\n"
    )
    repo.git("add", "-A")

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(PROJECT), "bd-vpt-validate"],
            cwd=repo.root,
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )

    good = try_repo()
    assert good.returncode == 0, good.stdout + good.stderr
    shard.write_bytes(shard.read_bytes() + b'{"v": 1, "kind": "usage"}\n')
    repo.git("add", "-A")
    bad = try_repo()
    assert bad.returncode != 0
    assert "agent-000001.jsonl:2: error:" in bad.stdout + bad.stderr


def test_framework_stash_of_a_hand_import_is_not_imported_again(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pre-commit framework sets unstaged changes aside while hooks run: an import made
    by hand (appended to a committed shard, not staged) must not be imported again by the
    hook's own import, and lands once when it is committed."""
    from tests.test_capture_once import small_world, totals

    claude = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    install(repo, "framework")
    config = repo.root / ".beads/vpt/config.toml"
    config.write_text(config.read_text().replace("sources = []", 'sources = ["claude-code"]'))
    assert run_cli("record", "-", "--model", "m", "--input", "1", "--cost-usd", "0").code == 0
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "a first record in the writer's shard")
    small_world(repo.root, claude, beads=0)
    assert len(run_cli("import", "claude-code", "--format", "json").json()["records"]) == 3
    assert repo.git("diff", "--name-only")  # the hand import is unstaged
    (repo.root / "README").write_text("x\n")
    repo.git("add", "README")
    repo.git("commit", "-q", "-m", "the hook imports while the framework holds the lines")
    assert [r for r in head_records(repo) if r["kind"] == "usage" and r.get("session")] == []
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "the hand import")
    lines, keys, _tokens = totals(repo.root)
    assert all(n == 1 for n in keys.values()) and lines == 4


def test_a_worktree_session_is_captured_by_its_own_worktree_only(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session run in worktree W is captured by W's hook into W's branch, never by the main
    checkout's hook into main (and a manual `bd-vpt import` still sees every worktree)."""
    from tests.test_capture_once import small_world

    claude = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    install(repo, "native")
    config = repo.root / ".beads/vpt/config.toml"
    config.write_text(config.read_text().replace("sources = []", 'sources = ["claude-code"]'))
    repo.commit_all("capture sessions on commit")
    second = tmp_path / "second"
    repo.git("worktree", "add", "-q", str(second), "-b", "wt")
    small_world(second, claude, beads=0, sessions=2)  # sessions run in the worktree
    repo.git("commit", "-q", "--allow-empty", "-m", "main commits first")
    assert [r for r in head_records(repo) if r["kind"] == "usage"] == []
    wt = Repo(second)
    os.chdir(second)
    wt.git("commit", "-q", "--allow-empty", "-m", "the worktree commits")
    assert len([r for r in head_records(wt) if r["kind"] == "usage"]) == 2
    os.chdir(repo.root)
    # by hand, `bd-vpt import` in the main checkout still takes every worktree's sessions
    manual_import = run_cli("import", "claude-code", "--dry-run", "--format", "json").json()
    assert len(manual_import["records"]) == 2
