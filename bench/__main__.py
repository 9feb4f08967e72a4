"""`make bench`: generated ledgers and git histories, timed `bd-vpt` commands, ratios to a
`cat` of the same ledger bytes (the floor).

Each figure is the median wall time of --runs runs of the real `bd-vpt` executable in a fresh
process, with the peak RSS of that process (from wait4). "cold" removes the blob cache
($GIT_COMMON_DIR/bd-vpt/cache) before each run; "warm" runs after one run has filled it.
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
from collections.abc import Callable, Sequence
from pathlib import Path

BD_VPT = str(Path(sys.executable).with_name("bd-vpt"))
DEFAULT_SIZES = "10000:1000,100000:1000,1000000:10000"


def timed(
    argv: Sequence[str], cwd: Path, runs: int, before: Callable[[], None] | None = None
) -> tuple[float, float]:
    """Median seconds and max peak RSS (MB) of `runs` runs of argv."""
    times, peaks = [], []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"benchmark command failed: {' '.join(argv)}\n{err}")
    return statistics.median(times), max(peaks)


def row(name: str, seconds: float, rss: float, floor: float | None, target: str = "") -> list[str]:
    ratio = f"{seconds / floor:,.0f}x" if floor else ""
    return [name, f"{seconds * 1000:,.0f} ms", f"{rss:,.0f} MB" if rss else "", ratio, target]


def bench_size(base: Path, count: int, commits: int, runs: int) -> list[list[str]]:
    root = base / f"r{count}-c{commits}"
    t0 = time.perf_counter()
    made_by = subprocess.run(
        [sys.executable, "-m", "bench.history", str(root), str(count), str(commits)],
        check=True,
        capture_output=True,
        text=True,
    )
    size, shards = (int(x) for x in made_by.stdout.split())
    made = time.perf_counter() - t0
    cache = root / ".git" / "bd-vpt" / "cache"

    def cold() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    files = [str(p) for p in sorted((root / ".beads/vpt/ledger").rglob("*.jsonl"))]
    floor, _ = timed(["cat", *files], root, runs)
    big = count >= 1_000_000
    rows = [
        [
            f"{count:,} records, {commits:,} commits ({size / 1e6:,.0f} MB in {shards} shards; "
            f"made in {made:,.0f} s)",
            "",
            "",
            "",
            "",
        ]
    ]
    rows.append(row("  cat of the ledger (floor)", floor, 0, None))
    summary = [BD_VPT, "summary"]
    rows.append(
        row("  summary, cold", *timed(summary, root, runs, cold), floor, "<= 2 s" if big else "")
    )
    timed(summary, root, 1)
    rows.append(
        row("  summary, warm", *timed(summary, root, runs), floor, "<= 0.3 s" if big else "")
    )
    old = [BD_VPT, "summary", "--rev", f"HEAD~{commits // 2}"]
    rows.append(
        row(f"  summary --rev HEAD~{commits // 2}, cold", *timed(old, root, runs, cold), floor)
    )
    trend = [BD_VPT, "trend", "--every", "week"]
    ten_k = commits >= 10_000
    rows.append(
        row(
            "  trend --every week, cold",
            *timed(trend, root, runs, cold),
            floor,
            "<= 10 s" if ten_k else "",
        )
    )
    timed(trend, root, 1)
    rows.append(
        row(
            "  trend --every week, warm",
            *timed(trend, root, runs),
            floor,
            "<= 1 s" if ten_k else "",
        )
    )
    subprocess.run([sys.executable, "-m", "bench.history", "append", str(root), "1000"], check=True)
    ranged = [BD_VPT, "summary", "--range", "HEAD~1..HEAD"]
    rows.append(
        row(
            "  summary --range (adds 1,000 records), cold",
            *timed(ranged, root, runs, cold),
            floor,
            "<= 1 s" if big else "",
        )
    )
    pull = [BD_VPT, "pr", "--base", "HEAD~1", "--head", "HEAD"]
    rows.append(
        row("  pr (a PR adding 1,000 records), cold", *timed(pull, root, runs, cold), floor)
    )
    timed(pull, root, 1)
    rows.append(row("  pr (a PR adding 1,000 records), warm", *timed(pull, root, runs), floor))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help="records:commits pairs, comma-separated, or 'none' (default: %(default)s)",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per figure, median (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the generated repos")
    parser.add_argument(
        "--agents",
        default="200:1000",
        help="sessions:events of the Claude Code import figures, or 'none' (default: %(default)s)",
    )
    parser.add_argument(
        "--importers",
        default="40:1000",
        help="sessions:calls per source of the OpenClaw/OpenCode/Gemini CLI import figures, "
        "or 'none' (default: %(default)s)",
    )
    parser.add_argument(
        "--hooks",
        default="1000000:1000",
        help="records:commits of the repo for the hook figures, or 'none' (default: %(default)s)",
    )
    parser.add_argument(
        "--dashboard",
        default="100000",
        help="records of the dashboard figures (10^6: 1000000), or 'none' (default: %(default)s)",
    )
    parser.add_argument(
        "--rollup",
        default="20:10000",
        help="repos:records-each of the rollup figures, or 'none' (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    from tabulate import tabulate

    base = Path(tempfile.mkdtemp(prefix="bd-vpt-bench-"))
    table: list[list[str]] = []
    started = time.perf_counter()
    try:
        table.append(row("bd-vpt --help", *timed([BD_VPT, "--help"], base, args.runs), None, ""))
        for pair in args.sizes.split(",") if args.sizes != "none" else []:
            count, commits = (int(x) for x in pair.split(":"))
            table.extend(bench_size(base, count, commits, args.runs))
            print(
                f"... {count:,} records done at {time.perf_counter() - started:,.0f} s",
                file=sys.stderr,
            )
        if args.hooks != "none":
            from bench.hooks import bench_hooks

            count, commits = (int(x) for x in args.hooks.split(":"))
            root = base / "hooks"
            subprocess.run(
                [sys.executable, "-m", "bench.history", str(root), str(count), str(commits)],
                check=True,
                capture_output=True,
            )
            table.append([f"git hooks on a {count:,}-record ledger", "", "", "", ""])
            for name, seconds in bench_hooks(root, args.runs):
                table.append(row(f"  {name}", seconds, 0, None))
        if args.dashboard != "none":
            from bench.reach import bench_dashboard

            table.extend(bench_dashboard(base, int(args.dashboard), args.runs))
        if args.rollup != "none":
            from bench.reach import bench_rollup

            repos, each = (int(x) for x in args.rollup.split(":"))
            table.extend(bench_rollup(base, repos, each, args.runs))
        if args.agents != "none":
            sessions, events = (int(x) for x in args.agents.split(":"))
            table.append(
                [
                    f"import claude-code: {sessions} sessions x {events:,} assistant events",
                    "",
                    "",
                    "",
                    "",
                ]
            )
            for name, seconds, rss, ratio in bench_agents(
                base / "agents", sessions, events, args.runs
            ):
                table.append(
                    [
                        f"  {name}",
                        f"{seconds * 1000:,.0f} ms",
                        f"{rss:,.0f} MB" if rss else "",
                        ratio,
                        "",
                    ]
                )
        if args.importers != "none":
            from bench.importers import bench_importers

            sessions, events = (int(x) for x in args.importers.split(":"))
            table.append(
                [
                    f"import of the newer agents: {sessions} sessions x {events:,} calls each",
                    "",
                    "",
                    "",
                    "",
                ]
            )
            for name, seconds, rss, per in bench_importers(
                base / "importers", sessions, events, args.runs, BD_VPT, timed_env
            ):
                table.append([f"  {name}", f"{seconds * 1000:,.0f} ms", f"{rss:,.0f} MB", per, ""])
    finally:
        if args.keep:
            print(f"kept: {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    print(
        tabulate(
            table,
            headers=["figure", "median wall", "peak RSS", "vs floor", "target"],
            tablefmt="github",
        )
    )
    print(f"\n(total bench time {time.perf_counter() - started:,.0f} s; {os.cpu_count()} cores)")
    return 0


def _ccusage(base: Path) -> Path | None:
    """ccusage 20.0.24 in a folder of its own (None without node and npm)."""
    if not shutil.which("npm"):
        return None
    where = base / "ccusage"
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "init", "-y"], cwd=where, check=True, capture_output=True)
    proc = subprocess.run(
        ["npm", "install", "--save-exact", "--no-audit", "--no-fund", "ccusage@20.0.24"],
        cwd=where,
        capture_output=True,
    )
    return where / "node_modules" / ".bin" / "ccusage" if proc.returncode == 0 else None


def bench_agents(
    base: Path, sessions: int, events: int, runs: int
) -> list[tuple[str, float, float, str]]:
    """A cold import next to ccusage on the same files, then an incremental import."""
    from bench.agents import write_sessions

    repo = base / "repo"
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([BD_VPT, "init"], cwd=repo, check=True, capture_output=True)
    home = base / "claude"
    size = write_sessions(home, sessions, events, str(repo))
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(home), "TZ": "UTC"}
    rows: list[tuple[str, float, float, str]] = []
    ccusage = _ccusage(base)
    full = None
    if ccusage is not None:
        full, rss = timed_env(
            [str(ccusage), "claude", "daily", "--json", "--offline"], repo, runs, env
        )
        rows.append(
            (f"ccusage claude daily --json --offline ({size / 1e6:,.0f} MB)", full, rss, "1.0x")
        )

    def reset() -> None:
        shutil.rmtree(repo / ".beads" / "vpt" / "ledger", ignore_errors=True)
        shutil.rmtree(repo / ".git" / "bd-vpt", ignore_errors=True)

    cold, rss = timed_env([BD_VPT, "import", "claude-code"], repo, runs, env, reset)
    rows.append(
        (
            "bd-vpt import claude-code, cold (target <= 1.0x ccusage)",
            cold,
            rss,
            f"{cold / full:.2f}x" if full else "",
        )
    )
    subprocess.run(
        [BD_VPT, "import", "claude-code"], cwd=repo, env=env, check=True, capture_output=True
    )
    write_sessions(home, 1, 1000, str(repo), first=sessions)
    start = time.perf_counter()
    subprocess.run(
        [BD_VPT, "import", "claude-code"], cwd=repo, env=env, check=True, capture_output=True
    )
    subprocess.run([BD_VPT, "summary"], cwd=repo, env=env, check=True, capture_output=True)
    more = time.perf_counter() - start
    rows.append(
        (
            "incremental import (+1,000 events) + summary (target <= 0.2x)",
            more,
            0,
            f"{more / full:.2f}x" if full else "",
        )
    )
    return rows


def timed_env(
    argv: Sequence[str],
    cwd: Path,
    runs: int,
    env: dict[str, str],
    before: Callable[[], None] | None = None,
) -> tuple[float, float]:
    old = dict(os.environ)
    os.environ.update(env)
    try:
        return timed(argv, cwd, runs, before)
    finally:
        os.environ.clear()
        os.environ.update(old)


if __name__ == "__main__":
    raise SystemExit(main())
