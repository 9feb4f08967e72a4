"""Added wall time per `git commit` with bd-vpt's hooks installed, on a large ledger."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import orjson

BD_VPT = str(Path(sys.executable).with_name("bd-vpt"))
ENV_GIT = ["-c", "user.name=Bench", "-c", "user.email=bench@example.invalid"]


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *ENV_GIT, *args], cwd=root, check=True, capture_output=True)


def _commit_time(root: Path, message: str, hooks: bool = True) -> float:
    start = time.perf_counter()
    if hooks:
        _git(root, "commit", "-q", "-m", message)
    else:
        _git(root, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", message)
    return time.perf_counter() - start


def _close_beads(root: Path, first: int, count: int) -> None:
    path = root / ".beads/issues.jsonl"
    lines = [
        orjson.dumps(
            {
                "id": f"hb-{n}",
                "title": f"bench bead {n}",
                "status": "closed",
                "priority": n % 5,
                "issue_type": "task",
                "closed_at": "2026-11-20T10:00:00Z",
                "updated_at": "2026-11-20T10:00:00Z",
            }
        )
        for n in range(first, first + count)
    ]
    with path.open("ab") as out:
        out.write(b"".join(line + b"\n" for line in lines))


def bench_hooks(root: Path, runs: int) -> list[tuple[str, float]]:
    """root: a repo with a big ledger. Returns (figure, seconds) rows."""
    readme = root / "README"
    (root / ".beads").mkdir(exist_ok=True)
    (root / ".beads/issues.jsonl").write_bytes(b"")
    subprocess.run([BD_VPT, "init"], cwd=root, check=True, capture_output=True)
    config = root / ".beads/vpt/config.toml"
    text = config.read_text()
    start = text.index("sync_since")
    config.write_text(text[:start] + 'sync_since = "2026-01-01"' + text[text.index("\n", start) :])
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "bd-vpt init")

    def plain(n: int, hooks: bool = True) -> float:
        readme.write_text(f"change {n}\n")
        _git(root, "add", "README")
        return _commit_time(root, f"plain {n}", hooks)

    subprocess.run([BD_VPT, "hooks", "install"], cwd=root, check=True, capture_output=True)
    _close_beads(root, 0, 100)
    _git(root, "add", "-A")
    first = _commit_time(root, "first capture after install (cold caches)")
    # the next commit, at least 50 ms later (people commit seconds apart), finds nothing to
    # capture and leaves the stamp that lets the hook skip the capture (quiet.py): not timed
    time.sleep(0.1)
    plain(99)
    # commits without and with the hooks taken in turn: the same moments of a busy machine
    pairs = [(plain(100 + 2 * n, hooks=False), plain(101 + 2 * n)) for n in range(runs)]
    base = statistics.median(without for without, _ in pairs)
    nothing = statistics.median(with_hooks for _, with_hooks in pairs)

    def capture(n: int) -> float:
        _close_beads(root, 1000 * (n + 1), 100)
        _git(root, "add", ".beads/issues.jsonl")
        return _commit_time(root, f"capture {n}")

    hundred = statistics.median(capture(n) for n in range(runs))
    return [
        ("git commit, no hooks (baseline)", base),
        ("first commit after install: 100 records, cold caches", first),
        ("added per commit, nothing to capture (target <= 100 ms)", nothing - base),
        ("added per commit, capturing 100 records (target <= 250 ms)", hundred - base),
    ]
