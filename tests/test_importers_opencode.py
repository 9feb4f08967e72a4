"""OpenCode: opencode.db (since 1.2) and the legacy storage files, deduplicated; tokens, costs and
bead attribution computed by hand from fixtures in OpenCode's exact schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

from tests.helpers import Repo, run_cli
from tests.importer_fixtures import by_key, install, ledger

SONNET, HAIKU, GPT = "claude-sonnet-4-5", "claude-haiku-4-5", "gpt-5"


@pytest.fixture
def data(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    install("opencode", tmp_path / "xdg", repo)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg" / "data"))
    return tmp_path / "xdg" / "data" / "opencode"


def test_opencode_import_by_hand(data: Path, repo: Repo) -> None:
    result = run_cli("import", "opencode", "--format", "json")
    assert result.code == 0, result.err
    summary = result.json()
    got = by_key(summary["records"])
    assert set(got) == {
        ("ses_A", "ocd-1", SONNET),
        ("ses_C", "ocd-1", HAIKU),
        ("ses_B", None, GPT),
        ("ses_L", "ocd-0", SONNET),
    }
    # 1.3.10: output excludes reasoning, so the record's output is 40 + 10 (+ 5)
    a = got[("ses_A", "ocd-1", SONNET)]
    assert a["tokens"] == {
        "input": 120,
        "output": 55,
        "cache_read": 3000,
        "cache_write": 100,
        "reasoning": 10,
    }
    assert a["cost_usd"] == pytest.approx((120 * 3 + 55 * 15 + 3000 * 0.3 + 100 * 3.75) / 1e6)
    assert a["reported_cost_usd"] == pytest.approx(0.0051 + 0.0009)  # OpenCode's own, beside
    assert a["messages"] == 2  # step-finish parts repeat the tokens: not added
    # the subagent session (parent_id ses_A) ran inside ses_A's ocd-1 window
    c = got[("ses_C", "ocd-1", HAIKU)]
    assert c["tokens"] == {"input": 50, "output": 5} and c["sidechain_messages"] == 1
    assert c["cost_usd"] == pytest.approx((50 * 1 + 5 * 5) / 1e6)
    # 1.2.5 and an OpenAI model: output (300) already holds the 100 reasoning tokens
    b = got[("ses_B", None, GPT)]
    assert b["tokens"] == {"input": 1000, "output": 300, "cache_read": 200, "reasoning": 100}
    assert b["cost_usd"] == pytest.approx((1000 * 1.25 + 300 * 10 + 200 * 0.125) / 1e6)
    # a pre-1.2 install: storage files only, bead from the bash part
    legacy = got[("ses_L", "ocd-0", SONNET)]
    assert legacy["tokens"] == {"input": 10, "output": 2}
    assert legacy["reported_cost_usd"] == pytest.approx(0.00006)
    assert summary["duplicates"] == 1  # msg_A1 in both the database and storage/
    skipped = summary["skipped"]
    assert skipped["message not finished"] == 1 and skipped["malformed JSON"] == 1
    assert skipped["other project"] == 1
    # the session table's running totals (99,999 tokens, $99) are never read
    assert summary["tokens"] == 3275 + 55 + 1500 + 12
    assert ledger(repo) == summary["records"]


def test_opencode_twice_and_a_new_message(data: Path, repo: Repo) -> None:
    assert len(run_cli("import", "opencode", "--format", "json").json()["records"]) == 4
    again = run_cli("import", "opencode", "--format", "json").json()
    assert again["records"] == [] and again["skipped"]["unchanged file"] >= 1
    # the streaming message completes: only it is imported, after the close (no bead)
    con = sqlite3.connect(data / "opencode.db")
    (raw,) = con.execute("SELECT data FROM message WHERE id = 'msg_A3'").fetchone()
    body = orjson.loads(raw)
    body["time"]["completed"] = body["time"]["created"] + 2000
    body["tokens"] = {"input": 9, "output": 1, "reasoning": 0, "cache": {"read": 0, "write": 0}}
    con.execute("UPDATE message SET data = ? WHERE id = 'msg_A3'", (orjson.dumps(body).decode(),))
    con.commit()
    con.close()
    more = run_cli("import", "opencode", "--format", "json").json()
    assert [(r["bead"], r["tokens"]) for r in more["records"]] == [
        (None, {"input": 9, "output": 1})
    ]
    assert len(ledger(repo)) == 5
