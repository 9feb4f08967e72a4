"""A git history for the benchmark, made with `git fast-import` (real commits, real blobs,
without running `git commit` ten thousand times).

Records are cut into `commits` batches in time order; each batch belongs to one writer and
appends to that writer's shard for the month, as an agent committing its own work would.
"""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import orjson

from bench.generate import records

WRITERS = 120  # agents committing; more writers make smaller shards


def make_history(root: Path, count: int, commits: int, seed: int = 1) -> tuple[int, int]:
    """Create a repo at root; returns (ledger bytes at HEAD, number of shards)."""
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    recs = records(count, seed=seed, agents=WRITERS)
    per_commit = max(1, count // commits)
    shards: dict[str, bytearray] = {}
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=root, stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    out = proc.stdin
    for n, start in enumerate(range(0, count, per_commit)):
        batch = recs[start : start + per_commit]
        writer_name = f"fleet/worker-{n % WRITERS}"
        touched: list[str] = []
        for rec in batch:
            rec["actor"] = writer_name  # one agent's work per commit
            writer = str(rec["actor"]).replace("/", "-")
            path = f".beads/vpt/ledger/{str(rec['ts'])[:7]}/{writer}-bench0.jsonl"
            if path not in shards:
                shards[path] = bytearray()
            shards[path] += orjson.dumps(rec) + b"\n"
            if path not in touched:
                touched.append(path)
        moment = int(
            datetime.fromisoformat(str(batch[-1]["ts"]).replace("Z", "+00:00")).timestamp()
        )
        message = f"agent work {n}".encode()
        out.write(b"commit refs/heads/main\n")
        out.write(f"committer Bench <bench@example.invalid> {moment} +0000\n".encode())
        out.write(b"data %d\n%s\n" % (len(message), message))
        for path in touched:
            data = shards[path]
            out.write(f"M 100644 inline {path}\n".encode())
            out.write(b"data %d\n" % len(data))
            out.write(data)
            out.write(b"\n")
    out.write(b"done\n")
    out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=root, check=True)
    return sum(len(b) for b in shards.values()), len(shards)


def append_commit(root: Path, count: int, seed: int = 99) -> None:
    """One more commit adding count records to new shards (for --range figures)."""
    recs = records(count, seed=seed, agents=4, start=datetime(2026, 11, 1).astimezone())
    path = root / ".beads/vpt/ledger/2026-11/range-bench0.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs))
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=b@example.invalid",
            "commit",
            "-q",
            "-m",
            "range",
        ],
        cwd=root,
        check=True,
    )


if __name__ == "__main__":
    # run in its own process, so the runner that forks the timed commands stays small
    import sys

    if sys.argv[1] == "append":
        append_commit(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
        size, shards = make_history(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), seed)
        print(size, shards)
