"""`make bench`: generated ledgers, timed commands, ratios to a `cat` floor.

Each figure is the median wall time of several runs of the real `bd-vpt` executable in a
fresh process, with the peak RSS of that process (from wait4).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.generate import records, write_ledger

BD_VPT = str(Path(sys.executable).with_name("bd-vpt"))


def timed(argv: Sequence[str], cwd: Path, runs: int) -> tuple[float, float]:
    """Median seconds and max peak RSS (MB) of `runs` runs of argv."""
    times, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(
                f"benchmark command failed: {' '.join(argv)}\n{proc.stderr.read().decode() if proc.stderr else ''}"
            )
    return statistics.median(times), max(peaks)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_repo(base: Path, count: int) -> tuple[Path, int]:
    root = base / f"ledger-{count}"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    size = write_ledger(root, records(count))
    return root, size


def row(name: str, seconds: float, rss: float, floor: float | None) -> list[str]:
    ratio = f"{seconds / floor:,.1f}x" if floor else "-"
    return [name, f"{seconds * 1000:,.1f} ms", f"{rss:,.0f} MB", ratio]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        help="comma-separated ledger sizes in records (default: %(default)s)",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--keep", action="store_true", help="keep the generated repos")
    args = parser.parse_args(argv)
    from tabulate import tabulate

    base = Path(tempfile.mkdtemp(prefix="bd-vpt-bench-"))
    table: list[list[str]] = []
    try:
        help_s, help_rss = timed([BD_VPT, "--help"], base, args.runs)
        table.append(row("bd-vpt --help", help_s, help_rss, None))
        for count in (int(x) for x in args.sizes.split(",")):
            t0 = time.perf_counter()
            root, size = make_repo(base, count)
            gen = time.perf_counter() - t0
            files = [str(p) for p in sorted((root / ".beads/vpt/ledger").rglob("*.jsonl"))]
            floor, _ = timed(["cat", *files], root, args.runs)
            label = (
                f"{count:,} records ({size / 1e6:,.0f} MB, {len(files)} shards, made in {gen:.1f}s)"
            )
            table.append([label, "", "", ""])
            table.append(row("  cat (floor)", floor, 0, None))
            table.append(row("  summary", *timed([BD_VPT, "summary"], root, args.runs), floor))
            table.append(
                row(
                    "  summary --by agent",
                    *timed([BD_VPT, "summary", "--by", "agent"], root, args.runs),
                    floor,
                )
            )
            table.append(
                row(
                    "  summary --by week",
                    *timed([BD_VPT, "summary", "--by", "week"], root, args.runs),
                    floor,
                )
            )
    finally:
        if args.keep:
            print(f"kept: {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    print(
        tabulate(table, headers=["figure", "median wall", "peak RSS", "vs cat"], tablefmt="github")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
