"""OpenClaw (and pi) transcripts: tokens, costs and bead attribution checked against values
computed by hand from fixtures in the exact session format (pi session v3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bd_vpt.ledger.records import check
from bd_vpt.ledger.schemas import record_errors
from tests.helpers import Repo, run_cli
from tests.importer_fixtures import by_key, install, ledger

S0 = "0c1a0000-0000-4000-8000-000000000000"
S1 = "0c1a0000-0000-4000-8000-000000000001"
S2 = "0c1a0000-0000-4000-8000-000000000002"
S3 = "0c1a0000-0000-4000-8000-000000000003"
P1 = "9e0f0000-0000-4000-8000-000000000001"
SONNET, HAIKU, GPT = "claude-sonnet-4-5", "claude-haiku-4-5", "gpt-5"


@pytest.fixture
def state(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "openclaw"
    install("openclaw", home, repo, STATE=str(home / "state"))
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(home / "state"))
    return home / "state"


def test_openclaw_import_by_hand(state: Path, repo: Repo) -> None:
    result = run_cli("import", "openclaw", "--format", "json")
    assert result.code == 0, result.err
    summary = result.json()
    got = by_key(summary["records"])
    assert set(got) == {
        (S0, "oc-0", SONNET),
        (S1, "oc-1", SONNET),
        (S1, None, SONNET),
        (S1, None, GPT),
        (S2, "oc-1", SONNET),
        (S3, None, SONNET),
    }
    # the archive of a /reset session still counts: 7 in, 3 out at $3/$15 per Mtok
    assert got[(S0, "oc-0", SONNET)]["tokens"] == {"input": 7, "output": 3}
    assert got[(S0, "oc-0", SONNET)]["cost_usd"] == pytest.approx((7 * 3 + 3 * 15) / 1e6)
    # claim .. close: two messages; OpenClaw's own cost (0, then 0.0123) kept beside ours
    oc1 = got[(S1, "oc-1", SONNET)]
    assert oc1["tokens"] == {"input": 110, "output": 70, "cache_read": 3000, "cache_write": 200}
    assert oc1["messages"] == 2
    assert oc1["cost_usd"] == pytest.approx((110 * 3 + 70 * 15 + 3000 * 0.3 + 200 * 3.75) / 1e6)
    assert oc1["reported_cost_usd"] == pytest.approx(0.0123)
    after = got[(S1, None, SONNET)]  # after the close; this message logged no cost at all
    assert after["tokens"] == {"input": 5, "output": 5} and "reported_cost_usd" not in after
    assert got[(S1, None, GPT)]["tokens"] == {"input": 300, "output": 40, "cache_read": 100}
    assert got[(S1, None, GPT)]["cost_usd"] == pytest.approx(
        (300 * 1.25 + 40 * 10 + 100 * 0.125) / 1e6
    )
    assert got[(S1, None, GPT)]["reported_cost_usd"] == pytest.approx(0.001)
    # the leaf subagent (sessions.json) ran inside the parent's oc-1 window: a sidechain on oc-1
    sub = got[(S2, "oc-1", SONNET)]
    assert sub["tokens"] == {"input": 11, "output": 1} and sub["sidechain_messages"] == 1
    # the branch file's copy of a0000003 is not counted again; its own message has no bead
    assert got[(S3, None, SONNET)]["tokens"] == {"input": 1, "output": 1}
    assert summary["messages"] == 7
    skipped = summary["skipped"]
    assert skipped["copied from the parent session"] == 1
    assert skipped["malformed JSON"] == 1 and skipped["truncated last line"] == 1
    assert skipped["missing fields"] == 1 and skipped["other project"] == 1
    # sessions.json's running counters (99,999 tokens, $12.50) are never added
    assert summary["tokens"] == 7 + 3 + 110 + 70 + 3000 + 200 + 10 + 300 + 40 + 100 + 12 + 2
    assert summary["unattributed_tokens"] == 10 + 440 + 2
    assert ledger(repo) == summary["records"]
    # reported_cost_usd and gt_session are in the schema; a negative agent cost is refused
    for record in summary["records"]:
        assert check(record) is None and record_errors(record) == []
    bad = {**oc1, "reported_cost_usd": -1.0}
    assert check(bad) is not None and record_errors(bad)


def test_openclaw_twice_adds_nothing_and_all_projects(state: Path, repo: Repo) -> None:
    first = run_cli("import", "openclaw", "--format", "json").json()
    again = run_cli("import", "openclaw", "--format", "json").json()
    assert len(first["records"]) == 6 and again["records"] == []
    everything = run_cli("import", "openclaw", "--all-projects", "--format", "json").json()
    assert [(r["bead"], r["tokens"]) for r in everything["records"]] == [
        (None, {"input": 999, "output": 999})
    ]
    assert len(ledger(repo)) == 7


def test_a_branch_made_after_an_import_adds_only_its_own_messages(state: Path, repo: Repo) -> None:
    sessions = state / "agents" / "main" / "sessions"
    branch = sessions / f"{S3}.jsonl"
    kept = branch.read_bytes()
    branch.unlink()
    assert len(run_cli("import", "openclaw", "--format", "json").json()["records"]) == 5
    branch.write_bytes(kept)  # /tree: a branch of S1 extracted after the first import
    later = run_cli("import", "openclaw", "--format", "json").json()
    assert [(r["session"], r["tokens"]) for r in later["records"]] == [
        (S3, {"input": 1, "output": 1})
    ]


def test_openclaw_home_and_legacy_state_dirs(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "oc-home"
    install("openclaw", tmp_path / "x", repo, STATE=str(home / ".clawdbot"))
    home.mkdir()
    (tmp_path / "x" / "state").rename(home / ".clawdbot")  # a legacy folder, no .openclaw
    monkeypatch.setenv("OPENCLAW_HOME", str(home))
    result = run_cli("import", "openclaw", "--dry-run", "--format", "json").json()
    assert len(result["records"]) == 6 and ledger(repo) == []


def test_pi_sessions(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install("pi", tmp_path / "pi", repo)
    monkeypatch.setenv("PI_CODING_AGENT_DIR", str(tmp_path / "pi" / "agent"))
    result = run_cli("import", "pi", "--format", "json")
    assert result.code == 0, result.err
    (record,) = result.json()["records"]
    assert (record["session"], record["bead"], record["source"]) == (P1, "pi-1", "pi")
    assert record["tokens"] == {"input": 40, "output": 4}
    assert record["cost_usd"] == pytest.approx((40 * 1 + 4 * 5) / 1e6)
    assert record["reported_cost_usd"] == pytest.approx(0.00006)
    assert run_cli("import", "pi", "--format", "json").json()["records"] == []
