"""Benchmark rows for the dashboard and the org rollup (issue 17): generated histories made
with `git fast-import` (bench.history), timed through the real `bd-vpt` executable."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench.__main__ import BD_VPT, row, timed


def _history(root: Path, count: int, commits: int, seed: int = 1) -> None:
    subprocess.run(
        [sys.executable, "-m", "bench.history", str(root), str(count), str(commits), str(seed)],
        check=True,
        capture_output=True,
    )


def bench_dashboard(base: Path, count: int, runs: int) -> list[list[str]]:
    """`bd-vpt dashboard` on a count-record ledger: cold (no cache) and warm (memoised)."""
    root = base / f"dashboard-{count}"
    _history(root, count, max(1, count // 100))
    cache = root / ".git" / "bd-vpt" / "cache"

    def cold() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    page = str(base / f"dashboard-{count}.html")
    argv = [BD_VPT, "dashboard", "--rev", "HEAD", "-o", page]
    rows = [[f"dashboard of {count:,} records", "", "", "", ""]]
    rows.append(row("  bd-vpt dashboard, cold", *timed(argv, root, runs, cold), None))
    timed(argv, root, 1)
    rows.append(row("  bd-vpt dashboard, warm", *timed(argv, root, runs), None))
    size = Path(page).stat().st_size
    rows.append([f"  page size {size / 1024:,.0f} KB (self-contained)", "", "", "", ""])
    return rows


def bench_rollup(base: Path, repos: int, per_repo: int, runs: int) -> list[list[str]]:
    """`bd-vpt rollup` over `repos` repositories of per_repo records each."""
    org = base / "org"
    for n in range(repos):
        _history(org / f"repo-{n:02d}", per_repo, max(1, per_repo // 100), seed=n + 1)
    caches = [org / f"repo-{n:02d}" / ".git" / "bd-vpt" / "cache" for n in range(repos)]

    def cold() -> None:
        for cache in caches:
            shutil.rmtree(cache, ignore_errors=True)

    argv = [BD_VPT, "rollup", str(org / "*")]
    label = f"rollup of {repos} repos x {per_repo:,} records"
    rows = [[label, "", "", "", ""]]
    rows.append(row("  bd-vpt rollup, cold", *timed(argv, base, runs, cold), None))
    timed(argv, base, 1)
    rows.append(row("  bd-vpt rollup, warm", *timed(argv, base, runs), None))
    by_team = [*argv, "--by", "agent"]
    rows.append(row("  bd-vpt rollup --by agent, warm", *timed(by_team, base, runs), None))
    return rows
