"""Gas Town's costs.jsonl names the bead of the agent sessions it ran; the tokens come from the
agents' transcripts only (never counted twice). Also: `bd-vpt import` with no source name, and
the pre-commit capture of the new sources."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from bench.agents import assistant_line
from tests.helpers import Repo, run_cli
from tests.importer_fixtures import by_key, install, ledger

P2 = "9e0f0000-0000-4000-8000-000000000002"


@pytest.fixture
def town(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A polecat's worktree of the repository under <town>/gastown/polecats/toast, its pi
    session, OpenCode's sessions and Gas Town's costs.jsonl."""
    town = tmp_path / "town"
    repo.git("commit", "-q", "--allow-empty", "-m", "start")
    repo.git("worktree", "add", "-q", str(town / "gastown" / "polecats" / "toast"))
    install("gastown", tmp_path / "gt-files", repo, TOWN=str(town))
    install("opencode", tmp_path / "xdg", repo)
    monkeypatch.setenv("GT_HOME", str(tmp_path / "gt-files" / "gt"))
    monkeypatch.setenv("PI_CODING_AGENT_DIR", str(tmp_path / "gt-files" / "pi" / "agent"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg" / "data"))
    return town


def test_gastown_rows_name_the_beads_of_their_sessions(town: Path, repo: Repo) -> None:
    result = run_cli("import", "gastown", "--format", "json")
    assert result.code == 0, result.err
    summary = result.json()
    got = by_key(summary["records"])
    # the polecat's pi session ran no bd command: the row's work_item names its bead
    toast = got[(P2, "gt-abc", "claude-sonnet-4-5")]
    assert toast["source"] == "pi" and toast["gt_session"] == "gt-gastown-toast"
    assert toast["tokens"] == {"input": 200, "output": 100}
    assert toast["cost_usd"] == pytest.approx((200 * 3 + 100 * 15) / 1e6)
    # OpenCode's plugin recorded its own session id: ses_B (no bd command) goes to gt-xyz
    assert got[("ses_B", "gt-xyz", "gpt-5")]["source"] == "opencode"
    # the agents' own bd commands still win over the row
    assert ("ses_A", "ocd-1", "claude-sonnet-4-5") in got
    # tokens only from transcripts: the rows' $0.42 and $0.0039 add nothing
    assert summary["tokens"] == 300 + 3275 + 55 + 1500 + 12
    gt = summary["gastown"]
    assert (gt["rows"], gt["joined"]) == (4, 2) and gt["skipped"] == {"malformed JSON": 1}
    assert [r["session_id"] for r in gt["without_transcript"]] == [
        "gt-gastown-crew-max",
        "hq-mayor",
    ]
    assert gt["without_transcript_cost_usd"] == pytest.approx(1.25)
    # twice: nothing added, and the rows stay joined (the ledger remembers their sessions)
    again = run_cli("import", "--format", "json").json()
    assert again["records"] == [] and again["gastown"]["joined"] == 2
    assert len(ledger(repo)) == len(summary["records"])


def test_import_gastown_without_its_file_says_where_it_looked(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GT_HOME", str(tmp_path / "nowhere"))
    result = run_cli("import", "gastown")
    assert result.code == 0, result.err
    assert f"no {tmp_path / 'nowhere' / '.gt' / 'costs.jsonl'} here" in result.out
    assert "wrote 0 usage record(s)" in result.out


def test_pre_commit_capture_of_gastown_runs_every_agent_present(town: Path, repo: Repo) -> None:
    path = repo.root / ".beads/vpt/config.toml"
    path.write_text(path.read_text().replace("sources = []", 'sources = ["gastown"]'))
    assert run_cli("hooks", "install").code == 0
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "capture on commit")
    got = {(r["source"], r["session"], r["bead"]) for r in ledger(repo)}
    assert ("opencode", "ses_B", "gt-xyz") in got and len(got) == 4  # OpenCode's four
    # the polecat's pi session ran in its own worktree: its hook captures it, on its branch
    # (issue 14: a worktree's captures belong to its own branch)
    toast = Repo(town / "gastown" / "polecats" / "toast")
    os.chdir(toast.root)
    toast.git("merge", "-q", "--ff-only", "main")  # the rig's config (sources = ["gastown"])
    toast.git("commit", "-q", "--allow-empty", "-m", "the polecat commits")
    got = {(r["source"], r["session"], r["bead"]) for r in ledger(toast)}
    assert ("pi", P2, "gt-abc") in got and len(got) == 5


def test_a_crew_member_claude_code_session_takes_its_row_bead(
    town: Path, repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tmux session name (gt-<rig>-crew-<name>) matches the session run in that crew
    member's folder, last active before the row's ended_at."""
    joe = town / "gastown" / "crew" / "joe"
    repo.git("worktree", "add", "-q", str(joe))
    claude = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    use: dict[str, object] = {"input_tokens": 30, "output_tokens": 3}
    block: dict[str, object] = {"type": "text", "text": "done"}
    lines = [
        assistant_line(
            "CJ1",
            "2026-11-14T16:00:00.000Z",
            "j1",
            "claude-haiku-4-5",
            use,
            block,
            cwd=str(joe / "src"),
            uuid="u-j1",
        ),
        # a later session in the same folder, after the row: not the one the row describes
        assistant_line(
            "CJ2",
            "2026-11-14T20:00:00.000Z",
            "j2",
            "claude-haiku-4-5",
            use,
            block,
            cwd=str(joe),
            uuid="u-j2",
        ),
    ]
    (claude / "projects" / "-joe").mkdir(parents=True)
    (claude / "projects" / "-joe" / "CJ.jsonl").write_bytes(b"".join(x + b"\n" for x in lines))
    costs = tmp_path / "gt-files" / "gt" / ".gt" / "costs.jsonl"
    row = {
        "session_id": "gt-gastown-crew-joe",
        "role": "crew",
        "rig": "gastown",
        "worker": "joe",
        "cost_usd": 0.01,
        "ended_at": "2026-11-14T17:00:00+01:00",
        "work_item": "gt-joe",
    }
    with costs.open("a") as out:
        out.write(orjson.dumps(row).decode() + "\n")
    summary = run_cli("import", "claude-code", "--format", "json").json()
    assert {(r["session"], r["bead"], r.get("gt_session")) for r in summary["records"]} == {
        ("CJ1", "gt-joe", "gt-gastown-crew-joe"),
        ("CJ2", None, None),
    }


def test_import_with_no_source_detects_every_source(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install("openclaw", tmp_path / "oc", repo, STATE=str(tmp_path / "oc" / "state"))
    install("pi", tmp_path / "pi", repo)
    install("opencode", tmp_path / "xdg", repo)
    install("gemini-cli", tmp_path / "g", repo)
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(tmp_path / "oc" / "state"))
    monkeypatch.setenv("PI_CODING_AGENT_DIR", str(tmp_path / "pi" / "agent"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg" / "data"))
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "g" / "home"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "no-codex"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "no-claude"))
    result = run_cli("import", "--format", "json")
    assert result.code == 0, result.err
    summary = result.json()
    assert [s["source"] for s in summary["sources"]] == ["openclaw", "pi", "opencode", "gemini-cli"]
    assert len(summary["records"]) == 6 + 1 + 4 + 4
    assert "gastown" not in summary  # no costs.jsonl here
    text = run_cli("import")
    assert text.code == 0 and "0 usage record(s)" in text.out
    again = run_cli("import", "--format", "json").json()
    assert again["records"] == []
    assert len(ledger(repo)) == 15


def test_pre_commit_capture_runs_the_configured_sources(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install("opencode", tmp_path / "xdg", repo)
    install("gemini-cli", tmp_path / "g", repo)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg" / "data"))
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "g" / "home"))
    path = repo.root / ".beads/vpt/config.toml"
    path.write_text(
        path.read_text().replace("sources = []", 'sources = ["sync", "opencode", "gemini-cli"]')
    )
    assert run_cli("hooks", "install").code == 0
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "capture on commit")
    shard = next(p for p in repo.shards() if ".capture." in p.name)
    captured = [
        orjson.loads(x)
        for x in repo.git("show", "HEAD:" + shard.relative_to(repo.root).as_posix()).splitlines()
    ]
    assert sorted({(r["source"], r["bead"]) for r in captured}, key=str) == sorted(
        {
            ("opencode", "ocd-1"),
            ("opencode", None),
            ("opencode", "ocd-0"),
            ("gemini-cli", "gm-1"),
            ("gemini-cli", None),
            ("gemini-cli", "gm-0"),
        },
        key=str,
    )
    # the next commit captures nothing new from them
    (repo.root / "x.txt").write_text("x")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "again")
    assert len(ledger(repo)) == len(captured)
