from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import click
import orjson
import pytest

from bd_vpt.cli import cli
from tests.conftest import bash
from tests.helpers import Repo, run_cli, subprocess_cli


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, subcommands of groups included: ("hooks", "install"), ..."""
    paths = []
    for name, command in group.commands.items():
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += all_commands(command, (*prefix, name))
    return paths


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.code == 0
    assert "Example" in result.out, f"`bd-vpt {' '.join(path)} --help` shows no example"
    assert "bd-vpt " in result.out.split("Example", 1)[1], "the example shows no command"


def test_top_level_help_has_an_example_and_lists_commands() -> None:
    result = run_cli("--help")
    assert result.code == 0 and "Example" in result.out
    for name in cli.commands:
        assert name in result.out


def test_commands_are_registered() -> None:
    expected = {
        "init",
        "record",
        "close",
        "reopen",
        "sync",
        "summary",
        "trend",
        "bead",
        "validate",
        "hook",
        "hooks",
        "shell-init",
        "demo",
    }
    assert expected <= set(cli.commands)
    assert all(isinstance(c, click.Command) for c in cli.commands.values())


def test_python_dash_m_and_version(tmp_path: Path) -> None:
    proc = subprocess_cli("--version", cwd=tmp_path)
    assert proc.returncode == 0 and "bd-vpt" in proc.stdout


def test_outside_a_repository_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("summary")
    assert result.code == 2
    assert "not inside a git work tree" in result.err and "hint:" in result.err
    assert "Traceback" not in result.err


def test_bad_usage_exits_2() -> None:
    assert run_cli("summary", "--by", "nonsense").code == 2
    assert run_cli("record").code == 2


def test_init_is_idempotent_and_keeps_gitattributes(repo: Repo) -> None:
    attrs = repo.root / ".gitattributes"
    attrs.write_text(attrs.read_text() + "*.png binary")  # a user's own line, no newline at end
    config_before = (repo.root / ".beads/vpt/config.toml").read_text()
    second = repo.ok("init")
    assert "kept" in second.out
    text = attrs.read_text()
    assert text.count(".beads/vpt/ledger/** merge=union") == 1
    assert "*.png binary" in text
    assert (repo.root / ".beads/vpt/config.toml").read_text() == config_before
    assert (
        repo.git("check-attr", "merge", ".beads/vpt/ledger/2026-11/x.jsonl")
        .strip()
        .endswith("union")
    )


def test_init_config_has_every_key(repo: Repo) -> None:
    import tomllib

    document = tomllib.loads((repo.root / ".beads/vpt/config.toml").read_text())
    assert document["weights"] == {"P0": 8.0, "P1": 4.0, "P2": 2.0, "P3": 1.0, "P4": 0.5}
    assert document["metrics"] == {"token_basis": "total"}
    assert set(document["capture"]) == {"sync_since", "sources"}


def test_bad_config_is_a_clear_error(repo: Repo) -> None:
    path = repo.root / ".beads/vpt/config.toml"
    path.write_text(path.read_text().replace('token_basis = "total"', 'token_basis = "lots"'))
    result = run_cli("summary")
    assert result.code == 2 and "config.toml" in result.err and "token_basis" in result.err
    path.write_text("weights = [")
    result = run_cli("summary")
    assert result.code == 2 and "TOML" in result.err


def test_record_prices_with_genai_prices(repo: Repo) -> None:
    result = repo.ok(
        "record",
        "bd-1",
        "--model",
        "claude-sonnet-4-5",
        "--input",
        "100000",
        "--output",
        "100000",
        "--actor",
        "agent-x",
        "--format",
        "json",
    )
    (rec,) = result.json()["records"]
    assert rec["cost_usd"] == pytest.approx(0.3 + 1.5)  # $3 / $15 per Mtok
    assert (
        rec["price_ref"].startswith("genai-prices ")
        and "anthropic/claude-sonnet-4-5" in rec["price_ref"]
    )
    assert rec["provider"] == "anthropic" and rec["actor"] == "agent-x" and rec["bead"] == "bd-1"
    assert result.json()["path"].startswith(".beads/vpt/ledger/")


def test_record_cache_tokens_are_priced_as_cache(repo: Repo) -> None:
    rec = repo.ok(
        "record",
        "bd-1",
        "--model",
        "claude-sonnet-4-5",
        "--cache-read",
        "100000",
        "--cache-write",
        "100000",
        "--format",
        "json",
    ).json()["records"][0]
    assert rec["cost_usd"] == pytest.approx(0.030 + 0.375)  # $0.30 / $3.75 per Mtok


def test_long_context_tier_applies_per_request(repo: Repo) -> None:
    one = repo.ok(
        "record",
        "bd-1",
        "--model",
        "claude-sonnet-4-5",
        "--input",
        "1000000",
        "--output",
        "1000000",
        "--format",
        "json",
    ).json()["records"][0]
    assert one["cost_usd"] == pytest.approx(6.0 + 22.5)  # one call over 200k: long-context rate
    many = repo.ok(
        "record",
        "bd-1",
        "--model",
        "claude-sonnet-4-5",
        "--input",
        "1000000",
        "--output",
        "1000000",
        "--requests",
        "10",
        "--format",
        "json",
    ).json()["records"][0]
    assert many["cost_usd"] == pytest.approx(3.0 + 15.0) and many["requests"] == 10


def test_config_price_overrides(repo: Repo) -> None:
    path = repo.root / ".beads/vpt/config.toml"
    path.write_text(path.read_text() + '\n[prices."in-house-7b"]\ninput = 0.5\noutput = 1.5\n')
    rec = repo.ok(
        "record",
        "-",
        "--model",
        "in-house-7b",
        "--input",
        "2000000",
        "--output",
        "1000000",
        "--format",
        "json",
    ).json()["records"][0]
    assert rec["cost_usd"] == pytest.approx(2.5) and rec["price_ref"] == "config:prices.in-house-7b"
    assert rec["bead"] is None


def test_unknown_model_warns_and_stores_null(repo: Repo) -> None:
    result = repo.ok(
        "record", "bd-1", "--model", "mystery-model-9", "--input", "10", "--format", "json"
    )
    assert result.json()["records"][0]["cost_usd"] is None
    assert "no known price" in result.err


def test_bare_total_and_explicit_cost(repo: Repo) -> None:
    bare = repo.ok("record", "bd-1", "--model", "gpt-5", "--tokens", "150000", "--format", "json")
    assert bare.json()["records"][0]["tokens"] == {"total": 150000}
    assert bare.json()["records"][0]["cost_usd"] is None and "bare token total" in bare.err
    paid = repo.ok(
        "record",
        "bd-1",
        "--model",
        "gpt-5",
        "--tokens",
        "150000",
        "--cost-usd",
        "0.42",
        "--format",
        "json",
    ).json()["records"][0]
    assert paid["cost_usd"] == 0.42 and paid["price_ref"] == "manual"


def test_record_needs_tokens_and_a_good_ts(repo: Repo) -> None:
    result = run_cli("record", "bd-1", "--model", "m")
    assert result.code == 2 and "no tokens" in result.err
    result = run_cli("record", "bd-1", "--model", "m", "--input", "1", "--ts", "tomorrow")
    assert result.code == 2 and "--ts" in result.err and "2026-W48" in result.err  # examples
    assert "Traceback" not in result.err


def test_actor_resolution(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    def actor() -> str:
        rec = run_cli(
            "record", "-", "--model", "m", "--input", "1", "--cost-usd", "0", "--format", "json"
        )
        return str(rec.json()["records"][0]["actor"])

    assert actor() == "Test User"  # git user.name
    monkeypatch.setenv("BEADS_ACTOR", "beads-actor")
    assert actor() == "beads-actor"
    monkeypatch.setenv("BD_ACTOR", "bd-actor")
    assert actor() == "bd-actor"


def test_close_and_reopen_with_snapshot_from_jsonl(repo: Repo) -> None:
    repo.write_beads(
        {
            "id": "bd-9",
            "title": "Ship it",
            "status": "closed",
            "priority": 1,
            "issue_type": "feature",
            "labels": ["web"],
        }
    )
    out = repo.ok(
        "close",
        "bd-9",
        "--value-usd",
        "500",
        "--human-minutes",
        "30",
        "--quality",
        "0.9",
        "--evidence",
        "PR #12",
        "--tokens",
        "200000",
        "--model",
        "gpt-5",
        "--no-bd",
        "--format",
        "json",
    )
    usage, outcome = out.json()["records"]
    assert usage["kind"] == "usage" and usage["tokens"] == {"total": 200000}
    assert outcome["snapshot"] == {
        "priority": 1,
        "type": "feature",
        "labels": ["web"],
        "title": "Ship it",
    }
    assert (outcome["value_usd"], outcome["quality"], outcome["evidence"]) == (500, 0.9, "PR #12")
    totals = repo.ok("summary", "--format", "json").json()["totals"]
    assert totals["beads_closed"] == 1 and totals["weighted_completions"] == 4.0
    repo.ok("reopen", "bd-9", "--reason", "regressed", "--no-bd")
    totals = repo.ok("summary", "--format", "json").json()["totals"]
    assert totals["beads_closed"] == 0 and totals["reopen_rate"] == 1.0


def test_close_of_an_unknown_bead_warns(repo: Repo) -> None:
    result = repo.ok("close", "bd-nowhere", "--no-bd")
    assert "priority unknown" in result.err


def test_sync_from_jsonl_is_idempotent(repo: Repo) -> None:
    repo.write_beads(
        {
            "id": "x-1",
            "status": "closed",
            "priority": 0,
            "issue_type": "bug",
            "title": "a",
            "closed_at": "2026-11-10T10:00:00Z",
            "updated_at": "2026-11-10T10:00:00Z",
            "assignee": "agent-1",
        },
        {
            "id": "x-2",
            "status": "closed",
            "priority": 2,
            "issue_type": "task",
            "title": "old",
            "closed_at": "2020-01-01T00:00:00Z",
        },
        {"id": "x-3", "status": "open", "priority": 2, "issue_type": "task", "title": "b"},
    )
    first = repo.ok("sync", "--since", "2026-01-01", "--format", "json").json()
    assert [(r["bead"], r["result"], r["actor"]) for r in first["records"]] == [
        ("x-1", "completed", "agent-1")
    ]
    assert first["records"][0]["ts"] == "2026-11-10T10:00:00.000Z"
    assert repo.ok("sync", "--since", "2026-01-01", "--format", "json").json()["records"] == []
    # reopened with plain bd: the export says open again
    repo.write_beads(
        {
            "id": "x-1",
            "status": "open",
            "priority": 0,
            "issue_type": "bug",
            "title": "a",
            "updated_at": "2026-11-11T10:00:00Z",
        }
    )
    again = repo.ok("sync", "--format", "json").json()["records"]
    assert [(r["bead"], r["result"]) for r in again] == [("x-1", "reopened")]
    assert repo.ok("sync", "--format", "json").json()["records"] == []
    dry = repo.ok("sync", "--dry-run")
    assert "would write 0" in dry.out


def test_sync_without_any_bead_source(repo: Repo) -> None:
    result = run_cli("sync")
    assert result.code == 2 and "no bead source" in result.err


def test_summary_formats(repo: Repo) -> None:
    repo.ok(
        "record", "b-1", "--model", "m", "--input", "1000", "--cost-usd", "0.5", "--actor", "ann"
    )
    repo.ok("close", "b-1", "--no-bd", "--actor", "ann")
    table = repo.ok("summary", "--by", "agent").out
    assert "BC/MT" in table and "ann" in table and "TOTAL" in table
    csv_text = repo.ok("summary", "--by", "agent", "--format", "csv").out
    header = csv_text.splitlines()[0].split(",")
    assert header[:3] == ["key", "tokens", "tokens_by_kind.input"] and "bc_mt" in header
    markdown = repo.ok("summary", "--format", "markdown").out
    assert markdown.startswith("| group") and "|---" in markdown.replace(":", "-").replace(" ", "")
    document = repo.ok("summary", "--by", "agent", "--format", "json").json()
    assert set(document) >= {"totals", "groups"}
    assert document["groups"][0]["key"] == "ann" and document["totals"]["bc_mt"] == pytest.approx(
        2000.0
    )


def test_shell_init_routes_bd_vpt(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, says in (("bd", "real-bd"), ("bd-vpt", "bd-vpt")):
        exe = bindir / name
        exe.write_text(f'#!/bin/sh\necho "{says} $*"\n')
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    function = run_cli("shell-init", "--shell", "bash").out
    os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ['PATH']}"
    out = bash(function + "\nbd vpt summary --by agent\nbd list --json\nbd\n", cwd=tmp_path)
    assert out.splitlines() == ["bd-vpt summary --by agent", "real-bd list --json", "real-bd "]
    if subprocess.run(["which", "fish"], capture_output=True).returncode == 0:
        assert "function bd" in run_cli("shell-init", "--shell", "fish").out


def test_demo_builds_a_repo_with_a_summary(tmp_path: Path) -> None:
    result = run_cli("demo", str(tmp_path / "demo"))
    assert result.code == 0, result.err
    assert "claude/worker-1" in result.out and "codex/worker-2" in result.out
    demo = tmp_path / "demo"
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=demo, capture_output=True, text=True
    ).stdout
    assert len(log.splitlines()) >= 5
    os.chdir(demo)
    document = run_cli("summary", "--by", "agent", "--format", "json").json()
    agents = {g["key"] for g in document["groups"]}
    assert len(agents) >= 2 and document["totals"]["bc_mt"] > 0
    assert document["totals"]["reopen_rate"] > 0
    models = {
        g["key"] for g in run_cli("summary", "--by", "model", "--format", "json").json()["groups"]
    }
    assert len(models) >= 3
    assert run_cli("validate").code == 0
    shards = list((demo / ".beads/vpt/ledger").rglob("*.jsonl"))
    lines = [orjson.loads(x) for p in shards for x in p.read_bytes().splitlines()]
    assert any(r.get("requests", 1) > 1 for r in lines)  # the shipped call counts are used
    assert run_cli("demo", str(demo)).code == 2  # not empty: refuse, touch nothing


def test_ledger_lines_are_compact_json(repo: Repo) -> None:
    repo.ok("record", "b", "--model", "m", "--input", "1", "--cost-usd", "0")
    (shard,) = repo.shards()
    raw = shard.read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1
    assert orjson.loads(raw)["kind"] == "usage"


def test_config_digest_skips_only_an_unchanged_config(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config that passed keeps its bytes and document: the same bytes again are neither
    parsed nor checked (same Config); any other bytes are, and a bad one fails as ever."""
    import tomllib

    from bd_vpt import config as config_file
    from bd_vpt.config import load
    from bd_vpt.errors import VptError

    known = repo.root / ".git/bd-vpt/config-ok-v2"
    first = load(repo.root, known_good=known)
    assert first.token_basis == "total"
    assert known.exists()
    with monkeypatch.context() as m:
        m.setattr(tomllib, "loads", lambda *a: pytest.fail("parsed again"))
        m.setattr(config_file, "_not_finite", lambda *a: pytest.fail("checked again"))
        assert load(repo.root, known_good=known) == first
    path = repo.root / ".beads/vpt/config.toml"
    text = path.read_text()
    path.write_text(text + "\n")  # other bytes, the same document: parsed and checked again
    assert load(repo.root, known_good=known) == first
    path.write_text(text.replace('token_basis = "total"', 'token_basis = "lots"'))
    with pytest.raises(VptError, match="token_basis"):
        load(repo.root, known_good=known)
    known.write_bytes(b"not marshal")  # a damaged file is only ignored
    path.write_text(text)
    assert load(repo.root, known_good=known) == first


def test_a_config_with_a_toml_date_is_read_but_not_kept(repo: Repo) -> None:
    """marshal cannot hold a TOML date: such a document is never kept, and is parsed each
    time it is asked for."""
    from bd_vpt.config import _kept_form, document_of

    data = b"[capture]\nsync_since = 2026-01-01\n"
    known = repo.root / ".git/bd-vpt/config-ok-v2"
    document = document_of(data, known)
    assert document["capture"]["sync_since"].year == 2026
    assert _kept_form(data, document) is None
    assert _kept_form(b"a = 1\n", {"a": 1}) is not None


def test_bead_reads_a_usage_record_with_a_field_named_snapshot(repo: Repo) -> None:
    """A usage record may carry any extra field, "snapshot" too: `bead` shows the bead with
    no snapshot then (it raised AttributeError on a string; found by test_accepted_lines)."""
    from tests.helpers import append

    line = {
        "v": 1,
        "id": "00000000000000000000000001",
        "ts": "2026-11-02T00:00:00+00:00",
        "actor": "a",
        "source": "manual",
        "kind": "usage",
        "bead": "bd-1",
        "model": "m",
        "provider": None,
        "session": None,
        "tokens": {"input": 1, "output": 2},
        "cost_usd": None,
        "price_ref": None,
        "snapshot": "0",
    }
    append(repo, ".beads/vpt/ledger/2026-11/a.jsonl", line)
    for fmt in ("table", "json"):
        result = repo.ok("bead", "bd-1", "--format", fmt)
        assert "bd-1" in result.out and "internal error" not in result.err
    assert orjson.loads(repo.ok("bead", "bd-1", "--format", "json").out)["snapshot"] is None
