"""Bead facts from the real beads history (every era) and from a bd stand-in."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bd_vpt.beads.sources import BdCli, Combined, JsonlEras, open_source
from bd_vpt.errors import VptError
from bd_vpt.ledger.records import parse_ts
from tests.helpers import CORPUS, Repo, run_cli

BD_ERA = "a6a15d62d7f7b3a59ac1eac2d3520ae1582a8348"  # .beads/bd.jsonl alone, October 2025
MIXED_ERA = "5a596e1d7d75cdba202b62d686387bf05d5902b8"  # bd.jsonl, beads.jsonl and issues.jsonl
BEADS_ERA = "6e4ccc11a168963918aa0b64b0a00172ceb9e15e"  # .beads/beads.jsonl, November 2025
BACKUP_ERA = "c7bafc341f69adebb5618b89a2969e581e88e867"  # issues.jsonl + backup/, March 2026


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CORPUS.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the corpus bundle is not at {CORPUS} (CI must test on the real corpus)")
        pytest.skip(f"the corpus bundle is not at {CORPUS}")
    dest = tmp_path_factory.mktemp("corpus") / "beads-history"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(CORPUS), str(dest)], check=True)
    return dest


def test_bd_jsonl_era(corpus: Path) -> None:
    source = JsonlEras.at_commit(corpus, BD_ERA)
    assert source.present() == [".beads/bd.jsonl"]
    beads = source.all()
    assert sorted(beads) == ["bd-1", "bd-2", "bd-3"]
    bead = beads["bd-3"]
    assert (bead.status, bead.priority, bead.type) == ("closed", 1, "chore")
    assert bead.closed_at == "2025-10-12T00:43:30.283178-07:00"


def test_three_eras_side_by_side_newest_copy_wins(corpus: Path) -> None:
    source = JsonlEras.at_commit(corpus, MIXED_ERA)
    assert source.present() == [".beads/issues.jsonl", ".beads/beads.jsonl", ".beads/bd.jsonl"]
    bead = source.get("bd-1")
    assert bead is not None and (bead.status, bead.priority, bead.type) == ("closed", 3, "feature")


def test_beads_jsonl_era(corpus: Path) -> None:
    source = JsonlEras.at_commit(corpus, BEADS_ERA)
    assert ".beads/beads.jsonl" in source.present()
    bead = source.get("bd-055")
    assert bead is not None
    assert bead.snapshot() == {
        "priority": 2,
        "type": "bug",
        "labels": [],
        "title": "Fix hyphenated prefix parsing in ExtractIssuePrefix (GH #395)",
    }


def test_backup_era_with_events_and_labels(corpus: Path) -> None:
    source = JsonlEras.at_commit(corpus, BACKUP_ERA)
    assert set(source.present()) == {".beads/issues.jsonl", ".beads/backup/issues.jsonl"}
    beads = source.all()
    bead = beads["bd-5x9"]
    assert bead.closed and bead.priority == 3
    assert bead.labels == ["dolt", "solo-ux"]  # from the classic copy where backup has none
    # events.jsonl wrote 10:11:11 local time (UTC-8) labelled UTC: corrected by +8 h
    reopens = [t for t in bead.transitions if t.status == "open"]
    assert [(t.ts, t.actor) for t in reopens] == [("2026-02-27T18:11:11.000Z", "beads/crew/emma")]
    assert "dolt-migration-review" in beads["bd-0dec"].labels  # from backup/labels.jsonl
    closes = [t for t in beads["bd-7vk"].transitions if t.status == "closed"]
    assert closes and all(t.actor for t in closes)


def test_sync_on_the_real_backup_era(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clone of the corpus at the backup era: sync credits each closed bead once, with the
    acting agent from events.jsonl, and a reopen seen by bd after our completion."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(corpus), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", BACKUP_ERA], cwd=clone, check=True)
    monkeypatch.chdir(clone)
    assert run_cli("init").code == 0
    first = run_cli("sync", "--since", "2026-02-27", "--format", "json")
    assert first.code == 0, first.err
    written = first.json()["records"]
    beads = JsonlEras.worktree(clone).all()
    expected = {
        b.id for b in beads.values() if b.closed and b.closed_at and b.closed_at >= "2026-02-27"
    }
    closes = {r["bead"] for r in written if r["result"] in ("completed", "abandoned")}
    assert expected <= closes
    # the rest were closed in the window (events.jsonl) and are not closed now
    assert all(beads[b].status != "closed" for b in closes - expected)
    last = {r["bead"]: r for r in written}  # written oldest first
    for bead_id, rec in last.items():
        bead = beads[bead_id]
        if bead.status == "closed":
            assert rec["result"] in ("completed", "abandoned"), bead_id
        elif bead.status in ("open", "in_progress", "blocked", "hooked"):
            # working again, unless this copy of the bead is older than its last close (a
            # stale line: bd stamps updated_at on every change, a reopen included)
            stale = bead.updated_at is None or parse_ts(bead.updated_at) <= parse_ts(rec["ts"])
            assert rec["result"] == "reopened" or stale, bead_id
    # bd-7vk: the work of its assignee at the close; who ran `bd close` is kept
    assert last["bd-7vk"]["actor"] == beads["bd-7vk"].assignee
    assert last["bd-7vk"]["closed_by"]
    assert run_cli("sync", "--since", "2026-02-27", "--format", "json").json()["records"] == []
    summary = run_cli("summary", "--format", "json").json()["totals"]
    counted = {b for b, r in last.items() if r["result"] == "completed" and not r.get("excluded")}
    assert summary["beads_closed"] == len(counted)


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """bd on PATH is the stand-in script; returns its state file."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "bd"
    shutil.copy(Path(__file__).with_name("bd_standin.py"), exe)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    state = tmp_path / "bd-state.json"
    state.write_text(
        json.dumps(
            [
                {
                    "id": "bd-1",
                    "title": "Fix login",
                    "status": "open",
                    "priority": 0,
                    "issue_type": "bug",
                    "labels": ["auth"],
                    "created_at": "2026-11-01T00:00:00Z",
                    "updated_at": "2026-11-01T00:00:00Z",
                },
                {
                    "id": "bd-2",
                    "title": "Docs",
                    "status": "closed",
                    "priority": 3,
                    "issue_type": "task",
                    "labels": [],
                    "closed_at": "2026-11-05T00:00:00Z",
                    "updated_at": "2026-11-05T00:00:00Z",
                },
            ]
        )
    )
    monkeypatch.setenv("BD_STANDIN_STATE", str(state))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("BD")
    yield state


@pytest.mark.parametrize("envelope", ["", "1"])
def test_bd_cli_shapes(
    standin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envelope: str
) -> None:
    monkeypatch.setenv("BD_JSON_ENVELOPE", envelope)
    source = open_source(tmp_path)
    assert isinstance(source, Combined) and source.name == "bd"
    beads = source.all()
    assert sorted(beads) == ["bd-1", "bd-2"]
    assert beads["bd-1"].snapshot() == {
        "priority": 0,
        "type": "bug",
        "labels": ["auth"],
        "title": "Fix login",
    }
    shown = source.cli.get("bd-2")
    assert shown is not None and shown.closed and shown.closed_at == "2026-11-05T00:00:00Z"
    assert source.cli.get("bd-404") is None
    assert "list --json --all --limit 0" in Path(f"{standin}.log").read_text()


def test_close_runs_bd_first_and_snapshots(standin: Path, repo: Repo) -> None:
    result = repo.vpt(
        "close", "bd-1", "--reason", "fixed", "--human-minutes", "5", "--format", "json"
    )
    assert result.code == 0, result.err
    log = Path(f"{standin}.log").read_text().splitlines()
    closes = [line for line in log if line.startswith("close")]
    assert closes == ["close --reason fixed -- bd-1"]  # the id after `--`, never an option
    (outcome,) = result.json()["records"]
    assert outcome["snapshot"] == {
        "priority": 0,
        "type": "bug",
        "labels": ["auth"],
        "title": "Fix login",
    }
    assert outcome["human_minutes"] == 5 and outcome["reason"] == "fixed"


def test_failing_bd_close_writes_nothing(
    standin: Path, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BD_STANDIN_FAIL", "1")
    result = repo.vpt("close", "bd-1")
    assert result.code == 2
    assert "database is locked" in result.err and "Traceback" not in result.err
    assert repo.shards() == []


def test_sync_through_bd(standin: Path, repo: Repo) -> None:
    first = repo.ok("sync", "--since", "2026-11-01", "--format", "json").json()
    assert [(r["bead"], r["result"]) for r in first["records"]] == [("bd-2", "completed")]
    assert first["source"] == "bd"
    subprocess.run(["bd", "reopen", "bd-2"], check=True, capture_output=True)
    second = repo.ok("sync", "--format", "json").json()["records"]
    assert [(r["bead"], r["result"]) for r in second] == [("bd-2", "reopened")]
    assert repo.ok("sync", "--format", "json").json()["records"] == []


def test_bd_failure_is_a_clear_error(tmp_path: Path) -> None:
    cli = BdCli("false", tmp_path)
    with pytest.raises(VptError, match="failed"):
        cli.all()


def test_on_path_finds_what_shutil_which_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """beads.where.on_path is shutil.which on POSIX (bd-vpt's `import` does not load
    shutil): executables only, not folders, the first of $PATH, a path as itself."""
    import shutil

    from bd_vpt.beads.where import on_path

    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    (first / "bd").write_text("#!/bin/sh\n")  # not executable: skipped
    (second / "bd").write_text("#!/bin/sh\n")
    (second / "bd").chmod(0o755)
    (first / "dir-bd").mkdir()
    (second / "dir-bd").mkdir()
    monkeypatch.setenv("PATH", f"{first}::{second}")
    for name in ("bd", "dir-bd", "missing", str(second / "bd"), str(first / "bd"), str(first)):
        assert on_path(name) == shutil.which(name), name
    assert on_path("bd") == str(second / "bd")
