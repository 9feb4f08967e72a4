from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from bd_vpt.ledger import store as ledger
from bd_vpt.ledger import writer
from bd_vpt.repo import discover
from tests.helpers import Repo, outcome, run_cli, ulid, usage

SHARD = ".beads/vpt/ledger/2026-11/agent-abc123.jsonl"


def write_shard(repo: Repo, text: bytes, name: str = SHARD) -> Path:
    path = repo.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    return path


def line(record: dict[str, object]) -> bytes:
    return orjson.dumps(record) + b"\n"


GOOD_1 = usage(ulid(1), "2026-11-02T09:00:00Z", "A", "a1", "m1", 1000, 500, 0.01)
GOOD_2 = outcome(ulid(2), "2026-11-02T10:00:00Z", "A", "a1", "completed", 1)
GOOD_3 = usage(ulid(3), "2026-11-02T11:00:00Z", None, "a2", "m1", 3000, 0, 0.02)

BAD_LEDGER = b"".join(
    [
        line(GOOD_1),
        b'{"v": 1, "id": "broken\n',  # 2 malformed
        line({**GOOD_3, "id": ulid(10), "tokens": {"input": "many"}}),  # 3 wrong type
        line({**GOOD_3, "id": ulid(11), "tokens": {"input": -5, "output": 1}}),  # 4 negative
        b"<<<<<<< HEAD\n",  # 5 conflict
        line(GOOD_2),
        line({**GOOD_3, "id": ulid(12), "kind": "mystery"}),  # 7 unknown kind
        line(GOOD_3),
        b'{"v": 1, "id": "01J',  #                                                         9 torn last line
    ]
)
BAD_LINES = [2, 3, 4, 5, 7, 9]


def test_bad_lines_warn_and_the_rest_is_reported(repo: Repo) -> None:
    write_shard(repo, BAD_LEDGER)
    result = run_cli("summary", "--format", "json")
    assert result.code == 0
    totals = result.json()["totals"]
    assert totals["tokens"] == 1500 + 3000  # the good lines, nothing else
    assert totals["beads_closed"] == 1
    warned = sorted(int(w.split(":")[1]) for w in result.err.splitlines() if w.startswith(".beads"))
    assert warned == BAD_LINES  # one warning per bad line, each naming path:line
    assert "Traceback" not in result.err


def test_validate_names_each_bad_line_and_exits_2(repo: Repo) -> None:
    write_shard(repo, BAD_LEDGER)
    result = run_cli("validate")
    assert result.code == 2
    for lineno in BAD_LINES:
        assert f"{SHARD}:{lineno}: error:" in result.out
    assert "torn last line" in result.out and "merge conflict marker" in result.out
    assert "unknown kind 'mystery'" in result.out
    as_json = run_cli("validate", "--format", "json")
    assert as_json.code == 2 and not as_json.json()["ok"]
    assert [p["line"] for p in as_json.json()["problems"]] == BAD_LINES


def test_strict_makes_summary_fail(repo: Repo) -> None:
    write_shard(repo, BAD_LEDGER)
    result = run_cli("summary", "--strict")
    assert result.code == 2
    assert "--strict" in result.err and result.out == ""


def test_validate_and_reports_reject_the_same_line(repo: Repo) -> None:
    # one validator: a line validate rejects is one every report skips (and says so)
    write_shard(repo, line({**GOOD_1, "id": "not-a-ulid"}) + line(GOOD_2))
    result = run_cli("validate")
    assert result.code == 2 and "id must be a ULID" in result.out
    summary = run_cli("summary", "--format", "json")
    assert summary.code == 0 and "id must be a ULID" in summary.err
    assert (
        summary.json()["totals"]["usage_records"] + summary.json()["totals"]["outcome_records"] == 1
    )


def test_clean_ledger_validates(repo: Repo) -> None:
    write_shard(repo, line(GOOD_1) + line(GOOD_2) + line(GOOD_1))  # an identical duplicate
    result = run_cli("validate")
    assert result.code == 0, result.out
    assert "1 identical duplicate" in result.out


def test_conflicting_duplicate_id_is_an_error(repo: Repo) -> None:
    write_shard(repo, line(GOOD_1) + line({**GOOD_1, "bead": "B"}))
    result = run_cli("validate")
    assert result.code == 2 and "duplicate id" in result.out


def test_newer_version_is_a_warning_not_a_crash(repo: Repo) -> None:
    write_shard(repo, line({**GOOD_1, "v": 2, "new_field": {"x": 1}}))
    result = run_cli("summary", "--format", "json")
    assert result.code == 0 and result.json()["totals"]["tokens"] == 1500
    assert "newer than this bd-vpt knows" in result.err
    assert run_cli("summary", "--strict").code == 2


def test_append_cuts_a_torn_fragment_and_keeps_its_bytes_aside(repo: Repo) -> None:
    info = discover(repo.root)
    path = ledger.shard_path(repo.root, "a1")
    path.parent.mkdir(parents=True)
    path.write_bytes(line(GOOD_1) + b'{"v": 1, "id": "01J')
    writer.append(info, [GOOD_3], "a1")
    records = [orjson.loads(x) for x in path.read_bytes().splitlines()]
    assert records == [GOOD_1, GOOD_3]  # the fragment is gone from the ledger...
    (kept,) = (info.state_dir / "torn").iterdir()
    assert kept.read_bytes() == b'{"v": 1, "id": "01J'  # ...and kept aside, byte for byte
    assert run_cli("validate").code == 0


def test_append_ends_a_whole_record_that_lost_its_newline(repo: Repo) -> None:
    info = discover(repo.root)
    path = ledger.shard_path(repo.root, "a1")
    path.parent.mkdir(parents=True)
    path.write_bytes(line(GOOD_1) + line(GOOD_2).rstrip(b"\n"))
    writer.append(info, [GOOD_3], "a1")
    assert path.read_bytes() == line(GOOD_1) + line(GOOD_2) + line(GOOD_3)
    assert not (info.state_dir / "torn").exists()
    assert run_cli("validate").code == 0


def test_unknown_fields_are_preserved(repo: Repo) -> None:
    info = discover(repo.root)
    record = {**GOOD_1, "x_team": {"name": "payments"}}
    path = writer.append(info, [record], "a1")
    scan = ledger.Scan()
    (read,) = list(ledger.read(ledger.working_tree_sources(repo.root, [path]), scan))
    assert read["x_team"] == {"name": "payments"} and not scan.problems


def _hammer(root: str, worker: int) -> None:
    os.chdir(root)
    for i in range(200):
        code = run_cli(
            "record",
            f"bd-{worker}",
            "--model",
            "m",
            "--actor",
            "same-agent",
            "--input",
            str(i),
            "--output",
            "1",
            "--cost-usd",
            "0",
        ).code
        assert code == 0


def test_concurrent_appends_keep_every_line(repo: Repo) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hammer, args=(str(repo.root), w)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    (shard,) = repo.shards()  # one writer: all 8 processes append to the same file
    lines = shard.read_bytes().split(b"\n")
    assert lines.pop() == b""
    assert len(lines) == 1600
    records = [orjson.loads(x) for x in lines]  # every line whole
    assert len({r["id"] for r in records}) == 1600


def _hold_lock(root: str, ready: Any, release: Any) -> None:
    from bd_vpt import state

    with state.ledger_lock(discover(Path(root))):
        ready.set()
        release.wait(60)


def test_a_held_ledger_lock_makes_a_writer_wait_then_fail_clearly(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer waits for the lock another process holds; past the timeout it stops with a
    user error naming the lock and writes nothing. Once the holder is gone (even killed),
    the lock is free."""
    from bd_vpt import state
    from bd_vpt.errors import VptError

    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(repo.root), ready, release))
    holder.start()
    assert ready.wait(60)
    info = discover(repo.root)
    monkeypatch.setattr(state, "LOCK_TIMEOUT", 0.2)
    record = usage(ulid(1), "2026-11-02T10:00:00Z", "bd-1", "agent", "m", 10, 5)
    with pytest.raises(VptError) as caught:
        writer.append(info, [record], "agent")
    assert caught.value.exit_code == 1
    assert "held the ledger lock for 0 s" in caught.value.message
    assert "ledger.lock" in str(caught.value.hint)
    assert repo.shards() == []
    holder.kill()  # killed while holding it: the kernel releases it
    holder.join(60)
    writer.append(info, [record], "agent")
    (shard,) = repo.shards()
    assert orjson.loads(shard.read_bytes())["id"] == record["id"]


def test_an_unwritable_lock_folder_is_a_user_error(repo: Repo) -> None:
    """A lock file that cannot be made names its path (exit 2), no traceback."""
    locks = discover(repo.root).state_dir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    (locks / "ledger.lock").mkdir()  # a folder where the lock file should be
    result = run_cli(
        "record", "A", "--model", "m", "--actor", "agent", "--input", "1", "--cost-usd", "0"
    )
    assert result.code == 2
    assert "ledger.lock" in result.err
    assert "Traceback" not in result.err


def test_union_merge_of_one_shard_on_two_branches(repo: Repo) -> None:
    """Both branches append to the same shard: no conflict, and each record counts once."""
    repo.ok("record", "A", "--model", "m", "--actor", "agent", "--input", "100", "--cost-usd", "0")
    repo.commit_all("base")
    repo.git("checkout", "-q", "-b", "side")
    repo.ok("record", "A", "--model", "m", "--actor", "agent", "--input", "10", "--cost-usd", "0")
    repo.ok("close", "A", "--actor", "agent", "--no-bd")
    repo.commit_all("side work")
    repo.git("checkout", "-q", "main")
    repo.ok("record", "B", "--model", "m", "--actor", "agent", "--input", "1", "--cost-usd", "0")
    repo.commit_all("main work")
    repo.git("merge", "-q", "--no-edit", "side")  # raises on a conflict
    (shard,) = repo.shards()
    assert b"<<<<<<<" not in shard.read_bytes()
    assert len(shard.read_bytes().splitlines()) == 4
    totals = run_cli("summary", "--format", "json").json()["totals"]
    assert totals["tokens"] == 111 and totals["beads_closed"] == 1


def test_union_merge_duplicates_count_once(repo: Repo) -> None:
    """The same two records appended in opposite orders on two branches (as after a
    cherry-pick and a rebase) come out of a real union merge twice each; read once."""
    shard = write_shard(repo, line(GOOD_1))
    repo.commit_all("base")
    repo.git("checkout", "-q", "-b", "side")
    shard.write_bytes(line(GOOD_1) + line(GOOD_2) + line(GOOD_3))
    repo.commit_all("side")
    repo.git("checkout", "-q", "main")
    shard.write_bytes(line(GOOD_1) + line(GOOD_3) + line(GOOD_2))
    repo.commit_all("main")
    repo.git("merge", "-q", "--no-edit", "side")
    assert len(shard.read_bytes().splitlines()) == 5  # union kept both sides whole
    totals = run_cli("summary", "--format", "json").json()["totals"]
    assert totals["tokens"] == 1500 + 3000
    assert totals["beads_closed"] == 1
    result = run_cli("validate")
    assert result.code == 0 and "2 identical duplicate" in result.out


@pytest.mark.parametrize("actor", ["claude/worker 1", "../../etc", "ü-nicode", ""])
def test_writer_slug_is_filesystem_safe(tmp_path: Path, actor: str) -> None:
    slug = ledger.writer_slug(actor, tmp_path)
    assert "/" not in slug and slug.strip() and not slug.startswith(".")
