"""Gemini CLI chats (.jsonl with re-appended records and $set lines, legacy session-*.json,
subagent logs): tokens, costs and beads computed by hand from fixtures in the exact format."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Repo, run_cli
from tests.importer_fixtures import by_key, install, ledger

G1 = "61aaaaaa-1111-4111-8111-111111111111"
G0 = "60bbbbbb-0000-4000-8000-000000000000"
SUB = "6sub0000-2222-4222-8222-222222222222"
PRO, FLASH = "gemini-2.5-pro", "gemini-2.5-flash"


@pytest.fixture
def home(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    install("gemini-cli", tmp_path / "g", repo)
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "g" / "home"))
    return tmp_path / "g" / "home"


def test_gemini_import_by_hand(home: Path, repo: Repo) -> None:
    result = run_cli("import", "gemini-cli", "--format", "json")
    assert result.code == 0, result.err
    summary = result.json()
    got = by_key(summary["records"])
    assert set(got) == {
        (G1, "gm-1", PRO),
        (G1, None, FLASH),
        (SUB, "gm-1", FLASH),
        (G0, "gm-0", FLASH),
    }
    # m1: input 1200 of which 1000 cached, 100 out + 50 thoughts;
    # m2 (tokens arrived in a later copy): 2000 of which 1500 cached, +10 tool-use prompt, 30 out
    gm1 = got[(G1, "gm-1", PRO)]
    assert gm1["tokens"] == {
        "input": 200 + 510,
        "output": 150 + 30,
        "cache_read": 2500,
        "reasoning": 50,
    }
    assert gm1["cost_usd"] == pytest.approx((710 * 1.25 + 180 * 10 + 2500 * 0.125) / 1e6)
    assert gm1["messages"] == 2 and "reported_cost_usd" not in gm1  # Gemini logs no cost
    # m3 after the close; the $rewindTo that dropped it from the chat does not unspend it
    assert got[(G1, None, FLASH)]["tokens"] == {"input": 500, "output": 20}
    assert got[(G1, None, FLASH)]["cost_usd"] == pytest.approx((500 * 0.3 + 20 * 2.5) / 1e6)
    sub = got[(SUB, "gm-1", FLASH)]  # chats/<G1>/<SUB>.jsonl, inside G1's gm-1 window
    assert sub["tokens"] == {"input": 100, "output": 10} and sub["sidechain_messages"] == 1
    g0 = got[(G0, "gm-0", FLASH)]  # a legacy-only session-*.json
    assert g0["tokens"] == {"input": 300, "output": 15, "reasoning": 5}
    assert g0["cost_usd"] == pytest.approx((300 * 0.3 + 15 * 2.5) / 1e6)
    # m1 four times (two copies and a $set checkpoint in the .jsonl, one in the legacy .json),
    # m2 three times (with and without tokens, and in the checkpoint)
    assert summary["duplicates"] == 5 and summary["messages"] == 5
    skipped = summary["skipped"]
    assert skipped["malformed JSON"] == 1 and skipped["no token counts"] == 1
    assert skipped["other project"] == 1
    assert ledger(repo) == summary["records"]
    assert run_cli("import", "gemini-cli", "--format", "json").json()["records"] == []


def test_gemini_hash_folders_without_registry(home: Path, repo: Repo) -> None:
    """Before the slug change the folder was sha256(root) and no projects.json existed."""
    (home / ".gemini" / "projects.json").unlink()
    (home / ".gemini" / "tmp" / "repo" / ".project_root").unlink()
    result = run_cli("import", "gemini-cli", "--dry-run", "--format", "json").json()
    assert len(result["records"]) == 4
