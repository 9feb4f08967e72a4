"""`make bench`: bd-vpt raced against DuckDB over the same shard files, in the same run.

Generates ledgers as real git histories (bench/history.py), then times each figure as the
median wall time of --runs runs of a fresh process, with its peak RSS (wait4): the installed
`bd-vpt` beside this interpreter, and the anchor: DuckDB's `read_json` over the same shard
files with the same aggregation (bench/anchor.py; the bench checks that DuckDB computed the
figures bd-vpt printed). Prints one table (medians, peak RSS, ratio to the anchor, the issue's
target and whether it holds at that size) and how time and memory grow with the records.

"cold" removes the caches ($GIT_COMMON_DIR/bd-vpt/cache) before each run; "warm" asks the
same question again; "after a 1-record commit" appends one record to a shard and commits it
before each run (the everyday case: every other blob is cached, the report is not).

    make bench                                   # 10^4 and 10^5 records, a few minutes
    make bench BENCH_ARGS="--sizes 10000:1000,100000:1000,1000000:10000 --hooks 1000000:1000"
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

BD_VPT = str(Path(sys.executable).with_name("bd-vpt"))
HERE = Path(__file__).resolve().parents[1]  # where `python -m bench.anchor` is found
DEFAULT_SIZES = "10000:1000,100000:1000"
GIT_ID = ["-c", "user.name=Bench", "-c", "user.email=bench@example.invalid"]


@dataclass
class Timing:
    seconds: float  # median wall time
    rss: float  # max peak RSS, MB
    cpu: float = 0.0  # median user + system CPU seconds (steadier than wall on a busy machine)


def measure(
    argv: Sequence[str],
    cwd: Path,
    runs: int,
    before: Callable[[], None] | None = None,
    env: dict[str, str] | None = None,
) -> Timing:
    """Median seconds and max peak RSS (MB) of `runs` runs of argv."""
    times, peaks, cpus = [], [], []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **env} if env else None,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)
        cpus.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"benchmark command failed: {' '.join(argv)}\n{err}")
    return Timing(statistics.median(times), max(peaks), statistics.median(cpus))


def side_by_side(argvs: Sequence[Sequence[str]], cwd: Path, runs: int) -> list[Timing]:
    """Each command measured as measure() does, their runs taken in turn (A B A B ...): a
    figure and its anchor see the same moments of a busy machine."""
    found: list[list[Timing]] = [[] for _ in argvs]
    for _ in range(runs):
        for argv, seen in zip(argvs, found, strict=True):
            seen.append(measure(argv, cwd, 1))
    return [
        Timing(
            statistics.median(t.seconds for t in seen),
            max(t.rss for t in seen),
            statistics.median(t.cpu for t in seen),
        )
        for seen in found
    ]


def timed(
    argv: Sequence[str], cwd: Path, runs: int, before: Callable[[], None] | None = None
) -> tuple[float, float]:
    """(median seconds, max peak RSS in MB): the form the other bench modules use."""
    found = measure(argv, cwd, runs, before)
    return found.seconds, found.rss


def timed_env(
    argv: Sequence[str],
    cwd: Path,
    runs: int,
    env: dict[str, str],
    before: Callable[[], None] | None = None,
) -> tuple[float, float]:
    found = measure(argv, cwd, runs, before, env)
    return found.seconds, found.rss


def row(name: str, seconds: float, rss: float, floor: float | None, target: str = "") -> list[str]:
    """A five-column row (figure, median, peak RSS, ratio, target) of the other bench modules;
    Table.extend_legacy() takes a list of them."""
    ratio = f"{seconds / floor:,.0f}x" if floor else ""
    return [name, ms(seconds), f"{rss:,.0f} MB" if rss else "", ratio, target]


def ms(seconds: float) -> str:
    return f"{seconds:,.1f} s" if seconds >= 10 else f"{seconds * 1000:,.0f} ms"


class Table:
    HEADERS = ("figure", "bd-vpt", "CPU", "peak RSS", "anchor (CPU)", "ratio", "target", "holds")

    def __init__(self) -> None:
        self.rows: list[list[str]] = []

    def title(self, text: str) -> None:
        self.rows.append([text, "", "", "", "", "", "", ""])

    def add(
        self,
        name: str,
        ours: Timing,
        anchor: tuple[str, Timing] | None = None,
        target: float | None = None,
        rss_limit: float | None = None,
    ) -> None:
        """A figure; with an anchor, the ratio and (with target) whether ratio <= target
        (and peak RSS <= rss_limit MB) holds."""
        ratio = ours.seconds / anchor[1].seconds if anchor else None
        wanted = []
        if target is not None:
            wanted.append(f"<= {target:g}x")
        if rss_limit is not None:
            wanted.append(f"<= {rss_limit:,.0f} MB")
        holds = ""
        if wanted:
            good = (target is None or (ratio is not None and ratio <= target)) and (
                rss_limit is None or ours.rss <= rss_limit
            )
            holds = "yes" if good else "**no**"
        self.rows.append(
            [
                f"  {name}",
                ms(ours.seconds),
                ms(ours.cpu) if ours.cpu else "",
                f"{ours.rss:,.0f} MB" if ours.rss else "",
                f"{anchor[0]} {ms(anchor[1].seconds)} ({ms(anchor[1].cpu)})" if anchor else "",
                f"{ratio:.2f}x" if ratio is not None else "",
                ", ".join(wanted),
                holds,
            ]
        )

    def extend_legacy(self, rows: list[list[str]]) -> None:
        """Rows of (figure, median, peak RSS, ratio, target), as row() makes them."""
        for name, wall, rss, ratio, target in rows:
            self.rows.append([name, wall, "", rss, "", ratio, target, ""])

    def note(self, name: str, text: str) -> None:
        self.rows.append([f"  {name}", text, "", "", "", "", "", ""])


def _one_more_record(root: Path) -> Callable[[], None]:
    """Before each run: append one record to the newest shard and commit it."""
    from bench.generate import records

    shard = max((root / ".beads/vpt/ledger").rglob("*.jsonl"), key=lambda p: (p.parent.name, p))
    counter = iter(range(1_000_000))

    def add() -> None:
        n = next(counter)
        (rec,) = records(1, seed=10_000 + n, start=_newest_moment(shard))
        with shard.open("ab") as out:
            out.write(orjson.dumps(rec) + b"\n")
        subprocess.run(["git", "add", "--", str(shard)], cwd=root, check=True)
        subprocess.run(
            ["git", *GIT_ID, "commit", "-q", "-m", f"one record {n}"], cwd=root, check=True
        )

    return add


def _newest_moment(shard: Path) -> Any:
    from datetime import datetime

    last = shard.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return datetime.fromisoformat(orjson.loads(last)["ts"].replace("Z", "+00:00"))


def _check_anchor(root: Path) -> str:
    """'' when DuckDB's figures are bd-vpt's (summary totals, and trend by week); else what
    differs. The ratio means something only if both computed the same thing."""

    def run(argv: list[str], cwd: Path) -> Any:
        return orjson.loads(subprocess.run(argv, cwd=cwd, capture_output=True, check=True).stdout)

    ledger = str(root / ".beads/vpt/ledger")
    duck = run([sys.executable, "-m", "bench.anchor", "summary", ledger, "--json"], HERE)[0]
    ours = run([BD_VPT, "summary", "--format", "json"], root)["totals"]
    weeks = run([sys.executable, "-m", "bench.anchor", "trend", ledger, "--json"], HERE)
    trend = run([BD_VPT, "trend", "--every", "week", "--format", "json"], root)
    wrong = []
    pairs = [(duck, ours)] + [
        (d, t) for d, t in zip(weeks, trend, strict=False) if d["period"] == t["period"]
    ]
    if len(weeks) != len(trend) or len(pairs) != len(trend) + 1:
        wrong.append(f"periods: DuckDB {len(weeks)}, bd-vpt {len(trend)}")
    for d, t in pairs:
        for field, key in (
            ("tokens", "tokens"),
            ("usage_records", "usage_records"),
            ("beads_closed", "beads_closed"),
            ("weighted", "weighted_completions"),
        ):
            if d[field] != t[key]:
                wrong.append(f"{d['period']} {field}: DuckDB {d[field]}, bd-vpt {t[key]}")
        if abs(float(d["cost_usd"]) - t["cost_usd"]) > 1e-4:
            wrong.append(f"{d['period']} cost: DuckDB {d['cost_usd']}, bd-vpt {t['cost_usd']}")
    return "; ".join(wrong[:3])


def bench_size(base: Path, count: int, commits: int, runs: int, table: Table) -> dict[str, Timing]:
    root = base / f"r{count}-c{commits}"
    t0 = time.perf_counter()
    made_by = subprocess.run(
        [sys.executable, "-m", "bench.history", str(root), str(count), str(commits)],
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE,
    )
    size, shards = (int(x) for x in made_by.stdout.split())
    made = time.perf_counter() - t0
    cache = root / ".git" / "bd-vpt" / "cache"

    def cold() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    ledger = root / ".beads/vpt/ledger"
    files = [str(p) for p in sorted(ledger.rglob("*.jsonl"))]
    table.title(
        f"{count:,} records, {commits:,} commits ({size / 1e6:,.0f} MB in {shards} shards; "
        f"made in {made:,.0f} s)"
    )
    table.add("cat of the shard files (floor)", measure(["cat", *files], root, runs))
    anchor_cmd = [sys.executable, "-m", "bench.anchor"]
    duck = measure([*anchor_cmd, "summary", str(ledger)], HERE, runs)
    table.add("DuckDB read_json + summary totals (the anchor)", duck)
    duck_trend = measure([*anchor_cmd, "trend", str(ledger)], HERE, runs)
    table.add("DuckDB read_json + weekly trend", duck_trend)
    wrong = _check_anchor(root)
    table.note(
        "DuckDB's figures = bd-vpt's (summary totals, every week of trend)",
        "yes" if not wrong else f"**no**: {wrong}",
    )
    anchor = ("DuckDB", duck)
    summary = [BD_VPT, "summary"]
    found = {"duckdb": duck, "cold": measure(summary, root, runs, cold)}
    table.add("summary, cold", found["cold"], anchor, 1.0, 300)
    measure(summary, root, 1)
    table.add("summary, warm", measure(summary, root, runs), anchor, 0.1)
    table.add(
        "summary after a 1-record commit",
        measure(summary, root, runs, _one_more_record(root)),
        anchor,
        0.3,
    )
    trend = [BD_VPT, "trend", "--every", "week"]
    table.add("trend --every week, cold", measure(trend, root, runs, cold), anchor, 1.5)
    pull = [BD_VPT, "pr", "--base", "HEAD~1", "--head", "HEAD"]
    table.add(
        "pr --base HEAD~1 (adds 1 record), cold", measure(pull, root, runs, cold), anchor, 1.0, 300
    )
    return found


def growth(sizes: list[int], found: list[dict[str, Timing]]) -> list[list[str]]:
    """Per size: cold summary and DuckDB, and the exponent k of t ~ n^k from the previous size
    (k <= 1: linear or better)."""
    rows = []
    for i, (n, f) in enumerate(zip(sizes, found, strict=True)):
        k_t = k_c = k_m = k_d = ""
        if i:
            span = math.log(n / sizes[i - 1])
            prev = found[i - 1]
            k_t = f"{math.log(f['cold'].seconds / prev['cold'].seconds) / span:.2f}"
            k_c = f"{math.log(f['cold'].cpu / prev['cold'].cpu) / span:.2f}"
            k_m = f"{math.log(f['cold'].rss / prev['cold'].rss) / span:.2f}"
            k_d = f"{math.log(f['duckdb'].seconds / prev['duckdb'].seconds) / span:.2f}"
        rows.append(
            [
                f"{n:,}",
                ms(f["cold"].seconds),
                k_t,
                ms(f["cold"].cpu),
                k_c,
                f"{f['cold'].rss:,.0f} MB",
                k_m,
                ms(f["duckdb"].seconds),
                k_d,
            ]
        )
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
    parser.add_argument("--runs", type=int, default=3, help="runs per figure, median (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the generated repos")
    parser.add_argument(
        "--agents",
        default="50:1000",
        help="sessions:events of the Claude Code import figures, or 'none' (default: %(default)s)",
    )
    parser.add_argument(
        "--importers",
        default="40:1000",
        help="sessions:calls per source of the OpenClaw/OpenCode/Gemini CLI import figures, "
        "or 'none' (default: %(default)s)",
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
    parser.add_argument(
        "--hooks",
        default="100000:1000",
        help="records:commits of the repo for the hook figures, or 'none' (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    from tabulate import tabulate

    base = Path(tempfile.mkdtemp(prefix="bd-vpt-bench-"))
    table = Table()
    sizes: list[int] = []
    found: list[dict[str, Timing]] = []
    started = time.perf_counter()
    try:
        table.title("start-up")
        measure([BD_VPT, "--help"], base, 1)  # the help is cached from its first run
        bare, helped = side_by_side(
            [[sys.executable, "-c", "pass"], [BD_VPT, "--help"]], base, args.runs
        )
        table.add("python -c pass (the anchor)", bare)
        table.add("bd-vpt --help", helped, ("python", bare), 2.0)
        for pair in args.sizes.split(",") if args.sizes != "none" else []:
            count, commits = (int(x) for x in pair.split(":"))
            found.append(bench_size(base, count, commits, args.runs, table))
            sizes.append(count)
            print(
                f"... {count:,} records done at {time.perf_counter() - started:,.0f} s",
                file=sys.stderr,
            )
        if args.hooks != "none":
            bench_hooks_rows(base, args.hooks, args.runs, table)
        if args.dashboard != "none":
            from bench.reach import bench_dashboard

            table.extend_legacy(bench_dashboard(base, int(args.dashboard), args.runs))
        if args.rollup != "none":
            from bench.reach import bench_rollup

            repos, each = (int(x) for x in args.rollup.split(":"))
            table.extend_legacy(bench_rollup(base, repos, each, args.runs))
        if args.agents != "none":
            sessions, events = (int(x) for x in args.agents.split(":"))
            bench_agents(base / "agents", sessions, events, args.runs, table)
        if args.importers != "none":
            from bench.importers import bench_importers

            sessions, events = (int(x) for x in args.importers.split(":"))
            title = f"import of the newer agents: {sessions} sessions x {events:,} calls each"
            rows = [[title, "", "", "", ""]]
            for name, seconds, rss, per in bench_importers(
                base / "importers", sessions, events, args.runs, BD_VPT, timed_env
            ):
                rows.append([f"  {name}", ms(seconds), f"{rss:,.0f} MB", per, ""])
            table.extend_legacy(rows)
    finally:
        if args.keep:
            print(f"kept: {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    print(tabulate(table.rows, headers=Table.HEADERS, tablefmt="github"))
    print("\nGrowth of a cold `summary` with the records (t ~ n^k; k <= 1 is linear or better):\n")
    print(
        tabulate(
            growth(sizes, found),
            headers=[
                "records",
                "summary cold",
                "k (wall)",
                "CPU",
                "k (CPU)",
                "peak RSS",
                "k (RSS)",
                "DuckDB",
                "k",
            ],
            tablefmt="github",
        )
    )
    print(
        f"\n(total bench time {time.perf_counter() - started:,.0f} s; {os.cpu_count()} cores; "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    return 0


def bench_hooks_rows(base: Path, spec: str, runs: int, table: Table) -> None:
    from bench.hooks import bench_hooks

    count, commits = (int(x) for x in spec.split(":"))
    root = base / "hooks"
    subprocess.run(
        [sys.executable, "-m", "bench.history", str(root), str(count), str(commits)],
        check=True,
        capture_output=True,
        cwd=HERE,
    )
    table.title(f"git hooks on a {count:,}-record ledger")
    for name, seconds in bench_hooks(root, runs):
        target = "<= 100 ms" if "nothing to capture" in name else ""
        holds = ("yes" if seconds <= 0.1 else "**no**") if target else ""
        table.rows.append([f"  {name}", ms(seconds), "", "", "", "", target, holds])


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


def measure_more(
    repo: Path, home: Path, sessions: int, events: int, runs: int, env: dict[str, str]
) -> Timing:
    """runs times: one more session written, then `import claude-code` and `summary` (the
    everyday case: the repository was imported and summarized before); median wall and CPU
    of the pair, max peak RSS of either."""
    from bench.agents import write_sessions

    pairs = []
    for i in range(runs):
        write_sessions(home, 1, events, str(repo), first=sessions + i)
        both = [
            measure([BD_VPT, *argv], repo, 1, env=env)
            for argv in (["import", "claude-code"], ["summary"])
        ]
        pairs.append(
            Timing(sum(t.seconds for t in both), max(t.rss for t in both), sum(t.cpu for t in both))
        )
    pairs.sort(key=lambda t: t.seconds)
    middle = pairs[len(pairs) // 2]
    cpus = sorted(t.cpu for t in pairs)
    return Timing(middle.seconds, max(t.rss for t in pairs), cpus[len(cpus) // 2])


def bench_agents(base: Path, sessions: int, events: int, runs: int, table: Table) -> None:
    """A cold import next to ccusage on the same files, then an incremental import."""
    from bench.agents import write_sessions

    repo = base / "repo"
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([BD_VPT, "init"], cwd=repo, check=True, capture_output=True)
    home = base / "claude"
    size = write_sessions(home, sessions, events, str(repo))
    env = {"CLAUDE_CONFIG_DIR": str(home), "TZ": "UTC"}
    table.title(
        f"import claude-code: {sessions} sessions x {events:,} events ({size / 1e6:,.0f} MB)"
    )
    ccusage = _ccusage(base)
    full = None
    if ccusage is not None:
        full = measure(
            [str(ccusage), "claude", "daily", "--json", "--offline"], repo, runs, env=env
        )
        table.add("ccusage claude daily --json --offline (the anchor)", full)
    else:
        table.note("ccusage", "not measured (no node/npm)")

    def reset() -> None:
        shutil.rmtree(repo / ".beads" / "vpt" / "ledger", ignore_errors=True)
        shutil.rmtree(repo / ".git" / "bd-vpt", ignore_errors=True)

    anchor = ("ccusage", full) if full else None
    cold = measure([BD_VPT, "import", "claude-code"], repo, runs, reset, env)
    table.add("bd-vpt import claude-code, cold", cold, anchor, 1.0)
    for argv in (["import", "claude-code"], ["summary"]):  # where the everyday case starts
        subprocess.run(
            [BD_VPT, *argv], cwd=repo, env={**os.environ, **env}, check=True, capture_output=True
        )
    more = measure_more(repo, home, sessions, events, runs, env)
    table.add(f"import one more {events:,}-event session + summary", more, anchor, 0.2)


if __name__ == "__main__":
    raise SystemExit(main())
