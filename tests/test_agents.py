"""Agent transcript imports (Claude Code, Codex): tokens, costs and bead attribution checked
against hand-computed values on fixtures written in the agents' exact formats."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.agents import assistant_line
from tests.helpers import Repo, run_cli

SONNET = "claude-sonnet-4-5"
HAIKU = "claude-haiku-4-5"


def usage(inp: int, out: int, cr: int = 0, cw: int = 0, cw1h: int = 0) -> dict[str, Any]:
    block: dict[str, Any] = {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_creation_input_tokens": cw,
        "cache_read_input_tokens": cr,
    }
    if cw:
        block["cache_creation"] = {
            "ephemeral_5m_input_tokens": cw - cw1h,
            "ephemeral_1h_input_tokens": cw1h,
        }
    return block


def cc_lines(
    session: str,
    ts: str,
    mid: str,
    model: str,
    use: dict[str, Any],
    *,
    cwd: str,
    commands: tuple[str, ...] = (),
    sidechain: bool = False,
) -> list[bytes]:
    """One assistant message as Claude Code writes it: a line per content block, each
    repeating the same usage (compact JSON, as ccusage expects)."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": "working on it"}]
    blocks += [
        {
            "type": "tool_use",
            "id": f"tu-{mid}-{i}",
            "name": "Bash",
            "input": {"command": c, "description": "run"},
        }
        for i, c in enumerate(commands)
    ]
    return [
        assistant_line(
            session, ts, mid, model, use, block, cwd=cwd, uuid=f"u-{mid}-{i}", sidechain=sidechain
        )
        for i, block in enumerate(blocks)
    ]


def write(path: Path, lines: list[bytes], tail: bytes = b"") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(line + b"\n" for line in lines) + tail)


@pytest.fixture
def claude_home(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    cwd = str(repo.root)
    project = home / "projects" / "-repo"
    s1 = [
        *cc_lines(
            "S1",
            "2026-11-10T10:00:00.000Z",
            "m1",
            SONNET,
            usage(100, 50, 1000, 200),
            cwd=cwd,
            commands=("bd update bd-1 --claim && bd show bd-1",),
        ),
        *cc_lines("S1", "2026-11-10T10:05:00.000Z", "m2", SONNET, usage(10, 20, 2000), cwd=cwd),
        *cc_lines(
            "S1", "2026-11-10T10:06:00.000Z", "side1", SONNET, usage(5, 5), cwd=cwd, sidechain=True
        ),
        *cc_lines(
            "S1",
            "2026-11-10T10:10:00.000Z",
            "m3",
            SONNET,
            usage(1, 2),
            cwd=cwd,
            commands=("git commit -qm fix; bd close bd-1 --reason done",),
        ),
        *cc_lines("S1", "2026-11-10T10:20:00.000Z", "m4", SONNET, usage(7, 3), cwd=cwd),
        *cc_lines(
            "S1",
            "2026-11-10T10:30:00.000Z",
            "m5",
            SONNET,
            usage(20, 10),
            cwd=cwd,
            commands=("cd x && bd update bd-2 --status in_progress",),
        ),
        *cc_lines("S1", "2026-11-10T10:40:00.000Z", "m6", HAIKU, usage(3, 4), cwd=cwd),
        *cc_lines("S1", "2026-11-10T10:50:00.000Z", "m7", "<synthetic>", usage(0, 0), cwd=cwd),
        b'{"type":"summary","summary":"fixing the login bug","leafUuid":"x"}',  # no usage
        b'{"type":"assistant","message":{"usage":{',  # malformed
        orjson.dumps(
            {"type": "assistant", "cwd": cwd, "message": {"model": SONNET, "usage": usage(1, 1)}}
        ),  # no timestamp
        b'{"type":"user","cwd":"'
        + cwd.encode()
        + b'","usage":"'
        + b"x" * (50 * 1024 * 1024)
        + b'"}',
    ]
    write(project / "S1.jsonl", s1, tail=b'{"type":"assistant","message":{"id":"trunc')
    # a partial copy of m2 (smaller usage) in another file: the largest copy wins
    write(
        project / "S1-partial.jsonl",
        cc_lines("S1", "2026-11-10T10:05:00.000Z", "m2", SONNET, usage(10, 1), cwd=cwd),
    )
    # another project: left out by default
    write(
        home / "projects" / "-other" / "S9.jsonl",
        cc_lines("S9", "2026-11-10T11:00:00.000Z", "o1", SONNET, usage(999, 999), cwd="/elsewhere"),
    )
    return home


def records(repo: Repo) -> list[dict[str, Any]]:
    return [
        orjson.loads(x) for p in repo.shards() for x in p.read_bytes().splitlines() if x.strip()
    ]


def test_claude_code_import_by_hand(claude_home: Path, repo: Repo) -> None:
    result = run_cli("import", "claude-code", "--format", "json")
    assert result.code == 0, result.err
    summary = result.json()
    by = {(r["bead"], r["model"]): r for r in summary["records"]}
    assert set(by) == {("bd-1", SONNET), (None, SONNET), ("bd-2", SONNET), ("bd-2", HAIKU)}
    bd1 = by[("bd-1", SONNET)]
    # m1 + m2 (largest copy) + the sidechain message (parent's bead) + m3 (the close)
    assert bd1["tokens"] == {"input": 116, "output": 77, "cache_read": 3000, "cache_write": 200}
    assert bd1["messages"] == 4 and bd1["sidechain_messages"] == 1
    assert bd1["cost_usd"] == pytest.approx((116 * 3 + 77 * 15 + 3000 * 0.3 + 200 * 3.75) / 1e6)
    assert by[(None, SONNET)]["tokens"] == {"input": 7, "output": 3}  # after the close, no bead
    assert by[("bd-2", SONNET)]["tokens"] == {"input": 20, "output": 10}
    assert by[("bd-2", HAIKU)]["tokens"] == {"input": 3, "output": 4}
    assert summary["unattributed_tokens"] == 10
    skipped = summary["skipped"]
    assert skipped["malformed JSON"] == 1 and skipped["truncated last line"] == 1
    assert skipped["missing fields"] == 1 and skipped["line too long"] == 1
    assert skipped["synthetic model"] == 1 and skipped["other project"] == 1
    assert summary["messages"] == 7  # m1..m6 and the sidechain message, deduplicated
    assert records(repo) == summary["records"]


def test_import_is_idempotent_across_runs_caches_and_clones(
    claude_home: Path, repo: Repo, tmp_path: Path
) -> None:
    first = run_cli("import", "claude-code", "--all-projects", "--format", "json").json()
    assert len(first["records"]) == 5
    repo.commit_all("import")
    before = run_cli("summary", "--format", "json").json()["totals"]
    again = run_cli("import", "claude-code", "--all-projects", "--format", "json").json()
    assert again["records"] == [] and again["skipped"]["unchanged file"] == 3  # not even read
    shutil.rmtree(repo.root / ".git" / "bd-vpt", ignore_errors=True)  # the local cache
    fresh = run_cli("import", "claude-code", "--all-projects", "--format", "json").json()
    assert fresh["records"] == [] and fresh["already_imported"] == 8  # the ledger's marks decide
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(clone)], check=True)
    os.chdir(clone)
    assert (
        run_cli("import", "claude-code", "--all-projects", "--format", "json").json()["records"]
        == []
    )
    os.chdir(repo.root)
    assert run_cli("summary", "--format", "json").json()["totals"] == before
    # a new message in a session: only it is imported
    project = claude_home / "projects" / "-repo"
    with (project / "S1-more.jsonl").open("ab") as f:
        for line in cc_lines(
            "S1", "2026-11-10T11:00:00.000Z", "m8", HAIKU, usage(40, 2), cwd=str(repo.root)
        ):
            f.write(line + b"\n")
    more = run_cli("import", "claude-code", "--format", "json").json()
    assert [(r["bead"], r["tokens"]) for r in more["records"]] == [
        ("bd-2", {"input": 40, "output": 2})
    ]


def test_closed_by_session_and_manual_current_bead(
    claude_home: Path, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = str(repo.root)
    repo.write_beads(
        {
            "id": "bd-3",
            "status": "closed",
            "priority": 1,
            "issue_type": "bug",
            "title": "x",
            "closed_by_session": "S3",
            "closed_at": "2026-11-11T10:00:00Z",
        }
    )
    later = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    write(
        claude_home / "projects" / "-repo" / "S3.jsonl",
        cc_lines("S3", "2026-11-11T09:00:00.000Z", "n1", SONNET, usage(11, 1), cwd=cwd),
    )
    write(
        claude_home / "projects" / "-repo" / "S4.jsonl",
        cc_lines("S4", later, "n2", SONNET, usage(22, 2), cwd=cwd),
    )
    assert run_cli("start", "bd-4").code == 0
    result = run_cli("import", "claude-code", "--format", "json").json()
    beads = {r["session"]: r["bead"] for r in result["records"] if r["session"] in ("S3", "S4")}
    assert beads == {"S3": "bd-3", "S4": "bd-4"}


def test_env_bead_for_unattributed_usage(
    claude_home: Path, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BD_VPT_BEAD", "bd-env")
    result = run_cli("import", "claude-code", "--dry-run", "--format", "json").json()
    assert {r["bead"] for r in result["records"]} == {"bd-1", "bd-2", "bd-env"}
    assert records(repo) == []  # dry run


def codex_line(ts: str, kind: str, payload: dict[str, Any]) -> bytes:
    return orjson.dumps({"timestamp": ts, "type": kind, "payload": payload})


def token_count(ts: str, inp: int, cached: int, out: int, reasoning: int) -> bytes:
    total = {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }
    return codex_line(
        ts,
        "event_msg",
        {"type": "token_count", "info": {"total_token_usage": total, "last_token_usage": total}},
    )


def shell(ts: str, command: str) -> bytes:
    return codex_line(
        ts,
        "response_item",
        {
            "type": "function_call",
            "name": "shell",
            "call_id": "c",
            "arguments": json.dumps({"command": ["bash", "-lc", command]}),
        },
    )


def test_codex_import_by_hand(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "codex"
    monkeypatch.setenv("CODEX_HOME", str(home))
    cwd = str(repo.root)
    day = home / "sessions" / "2026" / "11" / "12"
    write(
        day / "rollout-a.jsonl",
        [
            codex_line(
                "2026-11-12T09:00:00.000Z",
                "session_meta",
                {"id": "CX1", "cwd": cwd, "source": "cli"},
            ),
            codex_line(
                "2026-11-12T09:00:01.000Z", "turn_context", {"model": "gpt-5-codex", "cwd": cwd}
            ),
            shell("2026-11-12T09:00:02.000Z", "bd update cx-1 --claim"),
            token_count("2026-11-12T09:01:00.000Z", 1000, 200, 300, 100),
            token_count("2026-11-12T09:01:01.000Z", 1000, 200, 300, 100),  # re-emitted: skipped
            shell("2026-11-12T09:02:00.000Z", "make test && bd close cx-1"),
            token_count("2026-11-12T09:03:00.000Z", 1500, 500, 400, 150),
            token_count("2026-11-12T09:04:00.000Z", 1600, 500, 450, 150),  # after the close
        ],
    )
    write(
        day / "rollout-fork.jsonl",
        [
            codex_line(
                "2026-11-12T12:00:00.000Z",
                "session_meta",
                {"id": "CX2", "cwd": cwd, "forked_from_id": "CX1"},
            ),
            token_count("2026-11-12T09:03:00.000Z", 1500, 500, 400, 150),  # the parent's, replayed
            codex_line("2026-11-12T12:00:01.000Z", "turn_context", {"model": "gpt-5-codex"}),
            token_count("2026-11-12T12:05:00.000Z", 1700, 500, 450, 150),
        ],
    )
    result = run_cli("import", "codex", "--format", "json")
    assert result.code == 0, result.err
    got = {(r["session"], r["bead"]): r["tokens"] for r in result.json()["records"]}
    assert got == {
        ("CX1", "cx-1"): {"input": 1000, "output": 400, "cache_read": 500, "reasoning": 150},
        ("CX1", None): {"input": 100, "output": 50},
        ("CX2", None): {"input": 200, "output": 50},
    }
    summary = result.json()
    assert (
        summary["skipped"]["re-emitted token count"] == 1
        and summary["skipped"]["replayed by a fork"] == 1
    )
    cx1 = next(r for r in summary["records"] if r["bead"] == "cx-1")
    assert cx1["cost_usd"] == pytest.approx((1000 * 1.25 + 400 * 10 + 500 * 0.125) / 1e6)
    assert run_cli("import", "codex", "--format", "json").json()["records"] == []


def test_claude_settings_hooks_merge_and_remove(repo: Repo) -> None:
    settings = repo.root / ".claude" / "settings.json"
    settings.parent.mkdir()
    mine = {
        "permissions": {"allow": ["Bash(ls)"]},
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]},
    }
    settings.write_text(json.dumps(mine))
    assert run_cli("hooks", "install", "--claude").code == 0
    assert run_cli("hooks", "install", "--claude").code == 0  # idempotent
    merged = json.loads(settings.read_text())
    assert merged["permissions"] == mine["permissions"]
    assert len(merged["hooks"]["Stop"]) == 2 and len(merged["hooks"]["SessionEnd"]) == 1
    assert run_cli("hooks", "uninstall", "--claude").code == 0
    assert json.loads(settings.read_text()) == mine


def test_claude_hook_imports_the_session_it_is_given(claude_home: Path, repo: Repo) -> None:
    event = {
        "session_id": "S1",
        "transcript_path": str(claude_home / "projects" / "-repo" / "S1.jsonl"),
        "hook_event_name": "SessionEnd",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bd_vpt", "import", "claude-code", "--hook"],
        cwd=repo.root,
        input=json.dumps(event),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert {r["bead"] for r in records(repo)} == {"bd-1", None, "bd-2"}


def test_hook_capture_source_imports_claude_code(claude_home: Path, repo: Repo) -> None:
    path = repo.root / ".beads/vpt/config.toml"
    path.write_text(path.read_text().replace("sources = []", 'sources = ["claude-code"]'))
    assert run_cli("hooks", "install").code == 0
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "capture on commit")
    captured = [
        orjson.loads(x)
        for x in repo.git(
            "show",
            "HEAD:"
            + next(
                p.relative_to(repo.root).as_posix() for p in repo.shards() if ".capture." in p.name
            ),
        ).splitlines()
    ]
    assert {r["bead"] for r in captured} == {"bd-1", None, "bd-2"}


@pytest.fixture(scope="session")
def ccusage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ccusage 20.0.24, pinned (20.0.26's native package is missing from the registry)."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed to compare with ccusage")
    where = tmp_path_factory.mktemp("ccusage")
    subprocess.run(["npm", "init", "-y"], cwd=where, check=True, capture_output=True)
    proc = subprocess.run(
        ["npm", "install", "--save-exact", "--no-audit", "--no-fund", "ccusage@20.0.24"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return where / "node_modules" / ".bin" / "ccusage"


def test_daily_totals_equal_ccusage(ccusage: Path, claude_home: Path, repo: Repo) -> None:
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(claude_home), "TZ": "UTC"}
    proc = subprocess.run(
        [str(ccusage), "claude", "daily", "--json", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    theirs = {d["date"]: d for d in json.loads(proc.stdout)["daily"]}
    assert run_cli("import", "claude-code", "--all-projects").code == 0
    ours = {
        g["key"]: g["tokens_by_kind"]
        for g in run_cli("summary", "--by", "day", "--format", "json").json()["groups"]
    }
    assert set(ours) == set(theirs) and theirs
    for day, kinds in ours.items():
        assert (kinds["input"], kinds["output"], kinds["cache_write"], kinds["cache_read"]) == (
            theirs[day]["inputTokens"],
            theirs[day]["outputTokens"],
            theirs[day]["cacheCreationTokens"],
            theirs[day]["cacheReadTokens"],
        ), day


def test_local_file_index_never_outranks_the_ledger(claude_home: Path, repo: Repo) -> None:
    first = run_cli("import", "claude-code", "--format", "json").json()["records"]
    for shard in repo.shards():
        shard.unlink()  # the ledger lost what the import wrote (say, a hard reset)
    again = run_cli("import", "claude-code", "--format", "json").json()
    assert [r["tokens"] for r in again["records"]] == [r["tokens"] for r in first]
