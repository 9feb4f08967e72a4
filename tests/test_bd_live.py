"""bd itself: the CLI (a stand-in speaking bd's JSON, with and without BD_JSON_ENVELOPE, hung
or answering) and bd's event hooks, on fixtures cut from public beads repositories."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from bd_vpt.beads.sources import BdCli
from bd_vpt.errors import VptError
from tests.helpers import Repo
from tests.real_beads import REAL, sync


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """bd on PATH answering with the beads of dolt-interactions/bd-state.json."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "bd"
    shutil.copy(Path(__file__).with_name("bd_standin.py"), exe)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    state = tmp_path / "bd-state.json"
    shutil.copy(REAL / "dolt-interactions/bd-state.json", state)
    monkeypatch.setenv("BD_STANDIN_STATE", str(state))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("BD")
    return state


@pytest.mark.parametrize("envelope", ["", "1"])
def test_bd_with_interactions(
    standin: Path, repo: Repo, monkeypatch: pytest.MonkeyPatch, envelope: str
) -> None:
    """bd knows CC-78m, CC-h8v and CC-7g6 (the others were deleted); the trail says who
    closed them and why. CC-7g6 was claimed (open -> in_progress) by Calum before its close."""
    monkeypatch.setenv("BD_JSON_ENVELOPE", envelope)
    shutil.copytree(REAL / "dolt-interactions/.beads", repo.root / ".beads", dirs_exist_ok=True)
    result = sync(repo)
    assert result["source"] == "bd"
    records = result["records"]
    assert isinstance(records, list)
    assert sorted(r["bead"] for r in records) == ["CC-78m", "CC-7g6", "CC-h8v"]
    # CC-ats, CC-qn7, CC-06x.2 and CC-06x.3 are in the trail, not in bd (deleted)
    assert "skipped 4 beads in the audit trail that bd does not list" in result["source_notes"]
    by = {r["bead"]: r for r in records}
    assert by["CC-78m"]["snapshot"]["priority"] == 2 and by["CC-78m"]["actor"] == "Calum"
    assert "list --json --all --limit 0" in Path(f"{standin}.log").read_text()


def test_bd_timeout_is_a_clear_error(
    standin: Path, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BD_STANDIN_SLEEP", "5")
    with pytest.raises(
        VptError, match=r"`bd list --json --all --limit 0` did not answer within 0.5 s"
    ):
        BdCli("bd", repo.root, timeout=0.5).all()
    # sync falls back to the files and says why
    monkeypatch.setenv("BD_VPT_BD_TIMEOUT", "0.5")
    shutil.copytree(REAL / "export-type/.beads", repo.root / ".beads", dirs_exist_ok=True)
    result = sync(repo)
    assert result["source"] == "jsonl" and len(result["records"]) == 3
    assert any("did not answer within 0.5 s" in n for n in result["source_notes"])


def run_bd_hook(repo: Repo, name: str, bead: dict[str, object], event: str) -> None:
    """Run an installed bd event hook the way bd does: id and event as arguments, the bead's
    JSON on stdin (internal/hooks/hooks_unix.go), and wait for it (bd would not)."""

    proc = subprocess.run(
        [str(repo.root / ".beads/hooks" / name), str(bead["id"]), event],
        input=json.dumps(bead).encode(),
        capture_output=True,
        timeout=10,  # bd kills a hook after 10 s
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_bd_event_hooks_record_as_it_happens(repo: Repo) -> None:
    """CC-78m of world-wide-webb, as bd passes it to on_close: recorded at once, credited to
    its assignee (Calum); sync then adds nothing. A reopen (on_update, status open) is
    recorded too; installing twice changes nothing; a user's own on_close keeps running."""
    (repo.root / ".beads/hooks").mkdir(parents=True)
    mine = repo.root / ".beads/hooks/on_close"
    mine.write_text('#!/bin/sh\ncat > "$(dirname "$0")/seen-by-mine.json"\n')
    mine.chmod(0o755)
    first = repo.ok("hooks", "install", "--beads").out
    assert "kept your on_close as on_close.legacy" in first
    assert "already installed" in repo.ok("hooks", "install", "--beads").out
    state = json.loads((REAL / "dolt-interactions/bd-state.json").read_text())
    bead = next(b for b in state if b["id"] == "CC-78m")
    run_bd_hook(repo, "on_close", bead, "close")
    assert json.loads((repo.root / ".beads/hooks/seen-by-mine.json").read_text())["id"] == "CC-78m"
    (rec,) = [
        json.loads(line) for shard in repo.shards() for line in shard.read_text().splitlines()
    ]
    assert (rec["bead"], rec["result"], rec["source"], rec["actor"]) == (
        "CC-78m",
        "completed",
        "bd-hook",
        "Calum",
    )
    assert rec["ts"] == "2026-05-30T18:54:50.000Z"  # the bead's closed_at
    shutil.copytree(REAL / "export-type/.beads", repo.root / ".beads", dirs_exist_ok=True)
    assert [r for r in sync(repo)["records"] if r["bead"] == "CC-78m"] == []
    reopened = {**bead, "status": "open", "updated_at": "2026-06-01T09:00:00Z"}
    del reopened["closed_at"]
    run_bd_hook(repo, "on_update", reopened, "update")
    run_bd_hook(repo, "on_update", reopened, "update")  # bd fires on_update for any change
    results = [
        json.loads(line)["result"]
        for shard in repo.shards()
        for line in shard.read_text().splitlines()
        if json.loads(line)["bead"] == "CC-78m"
    ]
    assert results == ["completed", "reopened"]
    assert "restored your on_close" in repo.ok("hooks", "uninstall", "--beads").out
    assert mine.read_text().startswith("#!/bin/sh\ncat")


def test_bd_event_hook_never_fails_bd(repo: Repo) -> None:
    repo.ok("hooks", "install", "--beads")
    run_bd_hook(
        repo, "on_close", {"id": "x", "status": "closed", "closed_at": "not a time"}, "close"
    )

    proc = subprocess.run(
        [str(repo.root / ".beads/hooks/on_close"), "x", "close"], input=b"{torn", check=False
    )
    assert proc.returncode == 0
    log = Path(repo.git("rev-parse", "--git-common-dir").strip())
    log = (repo.root / log if not log.is_absolute() else log) / "bd-vpt/bead-hook.log"
    assert "x close: JSONDecodeError" in log.read_text()


def test_bd_custom_statuses_of_category_done(
    standin: Path, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bd's own `status.custom` (`bd statuses --json`): a status of category done closes."""
    state = json.loads(standin.read_text())
    bead = next(b for b in state if b["id"] == "CC-78m")
    bead["status"] = "resolved"
    del bead["closed_at"]
    standin.write_text(json.dumps(state))
    monkeypatch.setenv("BD_STANDIN_CUSTOM_STATUSES", "resolved:done,review:wip")
    records = sync(repo)["records"]
    assert sorted(r["bead"] for r in records) == ["CC-78m", "CC-7g6", "CC-h8v"]
    monkeypatch.setenv("BD_STANDIN_CUSTOM_STATUSES", "")
    shutil.rmtree(repo.root / ".beads/vpt/ledger")
    assert sorted(r["bead"] for r in sync(repo)["records"]) == ["CC-7g6", "CC-h8v"]
