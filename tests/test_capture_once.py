"""Capture that lands exactly once: concurrency, crashes, full disks, bad input, undo.

Fault-injection checks; each test names the area it counts in (see FAULTS at the end of a run:
`pytest -q tests/test_capture_once.py -rA` prints them)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.agents import assistant_line
from tests.helpers import Repo, run_cli

SONNET = "claude-sonnet-4-5"


def set_sync_since(root: Path, day: str = "2026-01-01") -> None:
    path = root / ".beads/vpt/config.toml"
    text = path.read_text()
    start = text.index("sync_since")
    path.write_text(text[:start] + f'sync_since = "{day}"' + text[text.index("\n", start) :])


def small_world(root: Path, claude: Path, beads: int = 6, sessions: int = 3) -> None:
    """A few closed beads (sync) and a few Claude Code sessions (import)."""
    lines = [
        orjson.dumps(
            {
                "id": f"c-{n}",
                "title": f"bead {n}",
                "status": "closed",
                "priority": n % 5,
                "issue_type": "task",
                "closed_at": f"2026-11-{10 + n:02d}T10:00:00Z",
                "updated_at": f"2026-11-{10 + n:02d}T10:00:00Z",
            }
        )
        for n in range(beads)
    ]
    (root / ".beads").mkdir(exist_ok=True)
    (root / ".beads/issues.jsonl").write_bytes(b"".join(x + b"\n" for x in lines))
    for s in range(sessions):
        events = []
        for m in range(4):
            use: dict[str, object] = {
                "input_tokens": 100 + m,
                "output_tokens": 10 * (s + 1),
                "cache_read_input_tokens": 0,
                "cache_creation_input_tokens": 0,
            }
            events.append(
                assistant_line(
                    f"S{s}",
                    f"2026-11-1{s}T10:0{m}:00.000Z",
                    f"s{s}m{m}",
                    SONNET,
                    use,
                    {"type": "text", "text": "working"},
                    cwd=str(root),
                    uuid=f"u{s}{m}",
                )
            )
        path = claude / "projects" / "-repo" / f"S{s}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(e + b"\n" for e in events))


def ledger_lines(root: Path) -> list[dict[str, Any]]:
    return [
        orjson.loads(x)
        for p in sorted((root / ".beads/vpt/ledger").rglob("*.jsonl"))
        for x in p.read_bytes().splitlines()
        if x.strip()
    ]


def totals(root: Path) -> tuple[int, Counter[tuple[str, str]], int]:
    """(lines, records by (kind, source_ref) — each must be 1 —, tokens)."""
    records = ledger_lines(root)
    keys = Counter((r["kind"], r["source_ref"]) for r in records)
    tokens = sum(sum(r["tokens"].values()) for r in records if r["kind"] == "usage")
    return len(records), keys, tokens


def _worker(root: str, command: str, go: Any) -> None:
    os.chdir(root)
    go.wait()
    argv = ["import", "claude-code"] if command == "import" else ["sync"]
    code = run_cli(*argv).code
    os._exit(code)


def test_eight_imports_and_eight_syncs_at_once_twenty_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claude = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))

    def fresh(name: str) -> Path:
        root = tmp_path / name
        root.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        monkeypatch.chdir(root)
        assert run_cli("init").code == 0
        set_sync_since(root)
        small_world(root, claude)
        return root

    single = fresh("single")
    assert run_cli("import", "claude-code").code == 0
    assert run_cli("sync").code == 0
    expected = totals(single)
    assert expected[0] == 6 + 3  # 6 completions, 3 sessions (one segment each)
    assert all(n == 1 for n in expected[1].values())
    ctx = multiprocessing.get_context("fork")
    for round_ in range(20):
        root = fresh(f"round-{round_}")
        go = ctx.Event()
        procs = [
            ctx.Process(target=_worker, args=(str(root), cmd, go)) for cmd in ["import", "sync"] * 8
        ]
        for p in procs:
            p.start()
        go.set()
        for p in procs:
            p.join(timeout=120)
            assert p.exitcode == 0
        assert totals(root) == expected, f"round {round_}"
    # a second look at the last round, with git's eyes: every key once, validate passes
    assert run_cli("validate").code == 0


def test_reimport_after_stash_clone_or_lost_state_adds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo: Repo
) -> None:
    claude = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    set_sync_since(repo.root)
    small_world(repo.root, claude, beads=0)
    repo.commit_all("setup")
    assert run_cli("import", "claude-code").code == 0
    first = totals(repo.root)
    assert first[0] == 3
    # stash (the new shard is untracked: -u), import again, pop: nothing twice
    repo.git("stash", "-q", "-u")
    assert totals(repo.root)[0] == 0
    again = run_cli("import", "claude-code", "--format", "json")
    assert again.code == 0 and again.json()["records"] == [], "re-imported what a stash holds"
    repo.git("stash", "pop", "-q")
    assert totals(repo.root) == first
    repo.commit_all("imported")
    # lost local state (caches, file index, locks): the ledger itself says what it holds
    import shutil

    shutil.rmtree(repo.root / ".git" / "bd-vpt")
    assert run_cli("import", "claude-code", "--format", "json").json()["records"] == []
    # checkout away and back, rebase onto a moved main: nothing new
    repo.git("checkout", "-q", "-b", "elsewhere", "HEAD~1")
    repo.git("checkout", "-q", "main")
    assert run_cli("import", "claude-code", "--format", "json").json()["records"] == []
    # a second clone
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(clone)], check=True)
    small_world(clone, claude, beads=0)  # the same sessions, run in the clone's folder
    monkeypatch.chdir(clone)
    assert run_cli("import", "claude-code", "--format", "json").json()["records"] == []
    # a stash of a tracked shard's appended lines (no -u)
    monkeypatch.chdir(repo.root)
    (claude / "projects" / "-repo" / "S9.jsonl").write_bytes(
        assistant_line(
            "S9",
            "2026-11-19T10:00:00.000Z",
            "s9m0",
            SONNET,
            {"input_tokens": 1, "output_tokens": 1},
            {"type": "text", "text": "x"},
            cwd=str(repo.root),
            uuid="u9",
        )
        + b"\n"
    )
    assert len(run_cli("import", "claude-code", "--format", "json").json()["records"]) == 1
    repo.git("stash", "-q")
    assert run_cli("import", "claude-code", "--format", "json").json()["records"] == []
    repo.git("stash", "pop", "-q")
    assert totals(repo.root)[0] == 4 and all(n == 1 for n in totals(repo.root)[1].values())


def test_sync_never_writes_a_transition_twice(repo: Repo, tmp_path: Path) -> None:
    set_sync_since(repo.root)
    small_world(repo.root, tmp_path / "claude", beads=3, sessions=0)
    assert len(run_cli("sync", "--format", "json").json()["records"]) == 3
    for _ in range(3):
        assert run_cli("sync", "--format", "json").json()["records"] == []
    assert totals(repo.root)[0] == 3


# ---- crashes and full disks -------------------------------------------------------------

FULL_DISK = """
import os, resource, sys
limit = os.path.getsize(sys.argv[1]) + 40  # room for a part of one record
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from bd_vpt.cli import main
raise SystemExit(main(sys.argv[2:]))
"""


def limited_cli(shard: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """bd-vpt in a process that may write at most 40 bytes more to the shard (ulimit -f)."""
    return subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(shard), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


RECORD = ("record", "-", "--model", "m", "--input", "5", "--cost-usd", "0", "--actor", "disk")


def test_a_full_disk_is_a_clear_error_and_the_ledger_stays_whole(repo: Repo) -> None:
    assert run_cli(*RECORD).code == 0
    (shard,) = repo.shards()
    before = shard.read_bytes()
    proc = limited_cli(shard, *RECORD, cwd=repo.root)
    assert proc.returncode == 1, proc.stderr
    assert "could not write" in proc.stderr and "File too large" in proc.stderr
    assert "nothing was recorded" in proc.stderr and "Traceback" not in proc.stderr
    assert shard.read_bytes() == before  # the partial write was undone
    assert run_cli("validate").code == 0
    assert run_cli(*RECORD).code == 0  # and the next write works
    assert len(shard.read_bytes().splitlines()) == 2


def test_a_writer_killed_mid_line_is_repaired_by_the_next_write(repo: Repo) -> None:
    """With SIGXFSZ at its default (CPython ignores it; a C tool would not), the kernel kills
    the writer mid-write: a real torn line."""
    assert run_cli(*RECORD).code == 0
    (shard,) = repo.shards()
    before = shard.read_bytes()
    killer = FULL_DISK.replace(
        "from bd_vpt.cli import main",
        "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n"
        "import bd_vpt.state as s; s.file_size_limit_is_an_error = lambda: None\n"
        "from bd_vpt.cli import main",
    )
    proc = subprocess.run(
        [sys.executable, "-c", killer, str(shard), *RECORD], cwd=repo.root, capture_output=True
    )
    assert proc.returncode == -signal.SIGXFSZ  # killed by the kernel
    torn = shard.read_bytes()
    assert torn.startswith(before) and len(torn) == len(before) + 40  # a torn fragment
    assert run_cli("validate").code == 2  # the fragment is reported...
    result = run_cli(*RECORD)
    assert result.code == 0 and "cut a torn last line" in result.err
    assert run_cli("validate").code == 0  # ...and cut by the next write, kept aside
    lines = shard.read_bytes().splitlines()
    assert len(lines) == 2 and lines[0] == before.strip()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_no_space_left_on_a_real_small_filesystem(repo: Repo, tmp_path: Path) -> None:
    """ENOSPC from a 1 MiB tmpfs holding a repository."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]).returncode:
        pytest.skip("mount is not allowed here")
    try:
        root = mount / "r"
        root.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        os.chdir(root)
        assert run_cli("init").code == 0
        assert run_cli(*RECORD).code == 0
        (shard,) = Repo(root).shards()
        before = shard.read_bytes()
        filler = mount / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        with pytest.raises(OSError):  # fill the disk to the last byte
            while True:
                os.write(fd, b"x" * 512)
        with pytest.raises(OSError):
            while True:
                os.write(fd, b"x")
        os.close(fd)
        for _ in range(100):  # the shard's last page still has room for a few records
            before = shard.read_bytes()
            result = run_cli(*RECORD)
            if result.code != 0:
                break
        assert result.code == 1, result
        assert "No space left" in result.err and "Traceback" not in result.err
        assert shard.read_bytes() == before  # nothing half-written
        assert run_cli("validate").code == 0
        again = run_cli(*RECORD)
        assert again.code == 1 and shard.read_bytes() == before
        filler.unlink()
        assert run_cli(*RECORD).code == 0
        assert run_cli("validate").code == 0
    finally:
        os.chdir(tmp_path)
        subprocess.run(["umount", str(mount)], check=False)


# ---- bad input and guard rails -----------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("record", "", "--model", "m", "--input", "1"),
        ("record", "b-1", "--model", "", "--input", "1"),
        ("record", "b-1", "--model", "m", "--input", "1", "--cost-usd", "nan"),
        ("record", "b-1", "--model", "m", "--input", "1", "--cost-usd", "inf"),
        ("record", "b-1", "--model", "m", "--input", str(10**15 + 1)),
        ("record", "b-1", "--model", "m", "--input", "1", "--actor", ""),
        ("record", "--x", "--model", "m", "--input", "1"),
        ("record", "b 1", "--model", "m", "--input", "1"),
        ("record", "b-1", "--model", "m", "--input", "1", "--ts", "0001-01-01T00:00:00+01:00"),
        ("record", "b-1", "--model", "m", "--input", "1", "--session", "a\u0000b"),
        ("record", "b-1", "--model", "m", "--input", "1", "--session", "AKIA" + "IOSFODNN7EXAMPLE"),
        ("close", "b-1", "--no-bd", "--value-usd", "nan"),
        ("close", "b-1", "--no-bd", "--quality", "2"),
        ("close", "b-1", "--no-bd", "--human-minutes", "-1"),
    ],
)
def test_the_cli_never_writes_a_line_its_validator_rejects(
    repo: Repo, argv: tuple[str, ...]
) -> None:
    result = run_cli(*argv)
    assert result.code == 2, result
    assert "Traceback" not in result.err
    assert repo.shards() == []


def test_writing_commands_refuse_before_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "bare"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    monkeypatch.chdir(root)
    (root / ".beads").mkdir()
    (root / ".beads/issues.jsonl").write_text(
        '{"id":"b-1","status":"closed","closed_at":"2026-11-01T00:00:00Z"}\n'
    )
    for argv in (RECORD, ("sync",), ("close", "b-1", "--no-bd"), ("undo",)):
        result = run_cli(*argv)
        assert result.code == 2, argv
        assert "bd-vpt init" in result.err and f"cd {root}" in result.err
    assert not (root / ".beads/vpt").exists()


def test_an_unknown_bead_is_refused_with_a_suggestion(repo: Repo) -> None:
    repo.write_beads({"id": "bd-42", "status": "open"}, {"id": "bd-43", "status": "open"})
    result = run_cli("record", "bd-24", "--model", "m", "--input", "1", "--cost-usd", "0")
    assert result.code == 2 and "unknown bead bd-24" in result.err
    assert "did you mean" in result.err and "bd-42" in result.err and "--force" in result.err
    assert repo.shards() == []
    forced = run_cli(
        "record", "bd-24", "--model", "m", "--input", "1", "--cost-usd", "0", "--force"
    )
    assert forced.code == 0
    assert run_cli("record", "bd-42", "--model", "m", "--input", "1", "--cost-usd", "0").code == 0


def test_close_without_bd_updates_nothing_and_says_so(repo: Repo) -> None:
    repo.write_beads({"id": "bd-1", "status": "open", "priority": 1})
    result = run_cli("close", "bd-1")
    assert result.code == 2
    assert "bd was not updated and nothing was recorded" in result.err
    assert repo.shards() == []
    # so a later sync has nothing to read as a reopen
    assert run_cli("sync", "--format", "json").json()["records"] == []


def test_closing_a_closed_bead_is_refused(repo: Repo) -> None:
    repo.write_beads({"id": "bd-1", "status": "closed", "priority": 1})
    first = run_cli("close", "bd-1", "--no-bd", "--value-usd", "100", "--format", "json")
    assert first.code == 0
    again = run_cli("close", "bd-1", "--no-bd", "--value-usd", "100")
    assert again.code == 2 and "already closed in the ledger" in again.err
    done = first.json()["records"][0]["id"]
    assert f"bd-vpt undo {done}" in again.err
    totals_ = run_cli("summary", "--format", "json").json()["totals"]
    assert (totals_["beads_closed"], totals_["value_usd"]) == (1, 100.0)
    # reopened, it can be closed again: the second close is the one that counts
    assert run_cli("reopen", "bd-1", "--no-bd").code == 0
    assert run_cli("close", "bd-1", "--no-bd", "--value-usd", "100").code == 0


def test_undo_appends_a_retraction_every_report_honours(repo: Repo) -> None:
    repo.write_beads({"id": "bd-1", "status": "closed", "priority": 0})
    repo.ok("record", "bd-1", "--model", "m", "--input", "1000", "--cost-usd", "1")
    wrong = repo.ok("record", "bd-1", "--model", "m", "--input", "5000", "--cost-usd", "4")
    wrong_id = wrong.json()["records"][0]["id"] if wrong.out.startswith("{") else None
    repo.ok("close", "bd-1", "--no-bd", "--value-usd", "50")
    lines_before = sum(len(p.read_bytes().splitlines()) for p in repo.shards())
    undone = run_cli("undo", "--format", "json")  # the newest record: the close
    assert undone.code == 0, undone.err
    assert sum(len(p.read_bytes().splitlines()) for p in repo.shards()) == lines_before + 1
    totals_ = run_cli("summary", "--format", "json").json()["totals"]
    assert (totals_["beads_closed"], totals_["tokens"], totals_["cost_usd"]) == (0, 6000, 5.0)
    # by id, the wrong usage record
    records = [orjson.loads(x) for p in repo.shards() for x in p.read_bytes().splitlines()]
    wrong_id = wrong_id or next(r["id"] for r in records if r.get("cost_usd") == 4)
    assert run_cli("undo", wrong_id).code == 0
    totals_ = run_cli("summary", "--format", "json").json()["totals"]
    assert (totals_["tokens"], totals_["cost_usd"]) == (1000, 1.0)
    assert run_cli("undo", wrong_id).code == 2  # already withdrawn
    assert run_cli("undo", "01JD0000000000000000000000").code == 2  # no such record
    assert run_cli("validate").code == 0
    # and the closed bead can be closed again (its completion was withdrawn)
    assert run_cli("close", "bd-1", "--no-bd").code == 0
    assert run_cli("summary", "--format", "json").json()["totals"]["beads_closed"] == 1


def test_undo_holds_in_every_view_and_is_not_captured_again(repo: Repo) -> None:
    """--rev and --range honour a committed retraction; a withdrawn sync completion is not
    synced again (its source_ref stays held)."""
    set_sync_since(repo.root)
    repo.write_beads({"id": "bd-1", "status": "closed", "closed_at": "2026-11-10T00:00:00Z"})
    repo.commit_all("setup")
    synced = run_cli("sync", "--format", "json").json()["records"]
    assert [r["bead"] for r in synced] == ["bd-1"]
    repo.commit_all("synced")
    assert run_cli("undo", synced[0]["id"]).code == 0
    repo.commit_all("withdrawn")
    assert run_cli("sync", "--format", "json").json()["records"] == []
    for view in ([], ["--rev", "HEAD"], ["--range", "HEAD~2..HEAD"], ["--range", "HEAD~1..HEAD"]):
        totals_ = run_cli("summary", *view, "--format", "json").json()["totals"]
        assert totals_["beads_closed"] == 0 and totals_["outcome_records"] == 0, view
    assert (
        run_cli("summary", "--rev", "HEAD~1", "--format", "json").json()["totals"]["beads_closed"]
        == 1
    )  # history is history: before the undo it counted


def test_a_legacy_spool_is_moved_into_its_worktree_once(repo: Repo) -> None:
    """Records an older bd-vpt left in the shared spool land once, in their own worktree."""
    from bd_vpt.integrations.hookrun import capture_shard
    from bd_vpt.ledger.records import outcome_record
    from bd_vpt.repo import discover

    info = discover(repo.root)
    mine = capture_shard(info, "Test User").relative_to(repo.root).as_posix()
    other = ".beads/vpt/ledger/2026-11/someone-ffffff.capture.jsonl"
    done = outcome_record(
        bead="bd-7",
        actor="a",
        result="completed",
        snapshot=None,
        source="sync",
        source_ref="bd:bd-7:closed:2026-11-10T00:00:00Z",
    )
    spool = info.state_dir / "spool.jsonl"
    spool.parent.mkdir(parents=True, exist_ok=True)
    spool.write_bytes(
        orjson.dumps({"shard": mine, "record": done})
        + b"\n"
        + orjson.dumps({"shard": other, "record": {**done, "id": "01JD0000000000000000000009"}})
        + b"\n"
    )
    assert run_cli("hooks", "install").code == 0
    (repo.root / "f").write_text("x")
    repo.git("add", "f")
    repo.git("commit", "-q", "-m", "first commit after the upgrade")
    committed = [orjson.loads(x) for x in repo.git("show", f"HEAD:{mine}").splitlines()]
    assert [r["id"] for r in committed] == [done["id"]]
    assert not (repo.root / other).exists()  # another worktree's entry stays for it
    assert [orjson.loads(x)["shard"] for x in spool.read_bytes().splitlines()] == [other]
