"""`bd-vpt import claude-code` writes the same ledger, byte for byte (ids aside: a ULID is
new on every write), and prints the same figures as the committed golden files, whatever
route it takes to them (prices from genai-prices or config, tiered prices, unknown models,
1h cache writes, copies of messages across files, odd lines, a second import of grown
transcripts). BD_VPT_UPDATE_GOLDEN=1 rewrites the golden files (after a genai-prices upgrade
changes its prices or version, say so in the commit)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import Repo, golden, run_cli
from tests.test_import_reading import grow, usage_line, write_corpus

ID = re.compile(rb'"id":"[0-9A-HJKMNP-TV-Z]{26}"')


def priced_lines(cwd: str) -> list[bytes]:
    """Messages that take every pricing route: tiered (a long context), 1h cache writes,
    a model priced in config.toml, one no one prices, a Bedrock id, on several days."""
    shapes: list[tuple[str, dict[str, Any]]] = [
        ("claude-sonnet-4-5", {"input_tokens": 150_000, "cache_read_input_tokens": 90_000}),
        ("claude-sonnet-4-5", {"input_tokens": 10, "cache_creation_input_tokens": 300_000}),
        (
            "claude-opus-4-1",
            {
                "input_tokens": 7,
                "cache_creation_input_tokens": 5_000,
                "cache_creation": {"ephemeral_1h_input_tokens": 3_000},
            },
        ),
        ("in-house-7b", {"input_tokens": 1_234, "cache_read_input_tokens": 55}),
        ("mystery-model-9", {"input_tokens": 12}),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", {"input_tokens": 99}),
        ("claude-haiku-4-5", {"input_tokens": 3, "cache_read_input_tokens": 77_777}),
    ]
    lines = []
    for n in range(42):
        model, use = shapes[n % len(shapes)]
        day = 10 + n // 14
        lines.append(
            usage_line(
                mid=f"p{n}",
                requestId=f"rp{n}",
                sessionId=f"P{n % 3}",
                model=model,
                usage={"output_tokens": 11 * n + 1, **use},
                timestamp=f"2026-11-{day}T{n % 24:02d}:{n:02d}:00.000Z",
                cwd=cwd,
            )
        )
    return lines


def normalised(repo: Repo) -> str:
    """Every ledger line, in order, its id replaced (the bytes otherwise as written)."""
    data = b"".join(p.read_bytes() for p in sorted(repo.shards()))
    return ID.sub(b'"id":"-"', data).decode()


def imported(monkeypatch: pytest.MonkeyPatch, jobs: str) -> str:
    monkeypatch.setenv("BD_VPT_JOBS", jobs)
    result = run_cli("import", "claude-code", "--format", "json")
    assert result.code == 0, result.err
    found = orjson.loads(result.out)
    for record in found["records"]:
        record["id"] = "-"
    return orjson.dumps(found, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_import_writes_the_golden_ledger(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    home = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    monkeypatch.setenv("BD_ACTOR", "golden")
    cwd = str(repo.root)
    config = repo.root / ".beads" / "vpt" / "config.toml"
    config.write_text(config.read_text() + '\n[prices."in-house-7b"]\ninput = 0.5\noutput = 1.5\n')
    write_corpus(home, cwd, seed=11, writable=True)
    (home / "projects" / "-repo" / "priced.jsonl").write_bytes(b"\n".join(priced_lines(cwd)))
    first = imported(monkeypatch, jobs)
    ledger_first = normalised(repo)
    grow(home, cwd, 0)
    second = imported(monkeypatch, jobs)
    summary = run_cli("summary", "--format", "json", "--no-cache")
    assert summary.code == 0, summary.err
    assert first == golden("import_claude_code_first.json", first)
    assert second == golden("import_claude_code_second.json", second)
    assert ledger_first == golden("import_claude_code_first.jsonl", ledger_first)
    ledger = normalised(repo)
    assert ledger == golden("import_claude_code.jsonl", ledger)
    assert summary.out == golden("import_claude_code_summary.json", summary.out)
    assert ledger.count("\n") > 40 and '"cost_usd":null' in ledger and "config:prices" in ledger
