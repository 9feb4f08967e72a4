"""How the bd-vpt process ends (launch.run): without the interpreter's tear-down, but with
what an exit owes: the whole output, the exit code, a reader that left early taken quietly,
and the fold workers' cache entries written before the process is gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from bd_vpt.repo import discover
from tests.helpers import Repo, reported_before, run_cli, ulid, usage


def _bd_vpt(cwd: Path, *argv: str, code: str = "pass") -> subprocess.CompletedProcess[str]:
    """bd-vpt in a new process through launch.run (code: run first, in that process). Its
    output goes to files, not pipes: a pipe would also wait for every process that inherited
    it (the fold workers), not only for bd-vpt's own."""
    script = (
        f"import sys; {code}; sys.argv = ['bd-vpt', *{list(argv)!r}]; "
        "from bd_vpt.launch import run; run()"
    )
    out, err = cwd / ".git" / "exit-test-out", cwd / ".git" / "exit-test-err"
    with out.open("w") as stdout, err.open("w") as stderr:
        code_ = subprocess.run(
            [sys.executable, "-c", script], cwd=cwd, stdout=stdout, stderr=stderr, check=False
        ).returncode
    return subprocess.CompletedProcess(script, code_, out.read_text(), err.read_text())


def test_the_whole_output_and_the_exit_code(repo: Repo) -> None:
    repo.ok("record", "A", "--model", "m", "--actor", "agent", "--input", "10", "--cost-usd", "1")
    made = _bd_vpt(repo.root, "summary", "--format", "json")
    assert made.returncode == 0, made.stderr
    assert orjson.loads(made.stdout) == orjson.loads(run_cli("summary", "--format", "json").out)
    module = subprocess.run(
        [sys.executable, "-m", "bd_vpt", "summary", "--format", "json"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.returncode == 0 and module.stdout == made.stdout
    wrong = _bd_vpt(repo.root, "summary", "--by", "nonsense")
    assert wrong.returncode == 2
    assert "nonsense" in wrong.stderr and "Traceback" not in wrong.stderr


def test_a_reader_that_leaves_early_is_no_error(repo: Repo) -> None:
    """`bd-vpt summary | head -1`: the pipe is closed before the output is flushed."""
    repo.ok("record", "A", "--model", "m", "--actor", "agent", "--input", "10", "--cost-usd", "1")
    script = "import sys; sys.argv = ['bd-vpt', 'summary']; from bd_vpt.launch import run; run()"
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=repo.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before bd-vpt writes a byte
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0
    assert "Traceback" not in err and "Exception ignored" not in err


def test_the_fold_workers_write_their_entries_before_the_process_ends(repo: Repo) -> None:
    """Worker processes write the folds they made as they exit; the process that started them
    waits for that before it ends."""
    from bd_vpt.ledger.cache import BlobCache

    for n in range(6):  # six shards: six blobs
        shard = repo.root / f".beads/vpt/ledger/2026-03/w{n}-aaaaaa.jsonl"
        shard.parent.mkdir(parents=True, exist_ok=True)
        record = usage(ulid(n + 1), "2026-03-02T10:00:00.000Z", f"B-{n}", f"w{n}", "m1", 5, 7)
        shard.write_bytes(orjson.dumps(record) + b"\n")
    repo.commit_all("shards")
    info = discover(repo.root)
    reported_before(info)  # (a first report writes no folds)
    force = (  # workers for six small blobs, and slow to write as they exit
        "import time; import bd_vpt.ledger.parallel as p; p.MIN_BYTES = 0; p.MIN_JOBS = 2; "
        "p.cores = lambda: 2; write = p._write_all; "
        "p._write_all = lambda: (time.sleep(0.3), write(), open('workers-wrote', 'w'))"
    )
    made = _bd_vpt(repo.root, "summary", "--format", "json", code=force)
    assert made.returncode == 0, made.stderr
    assert (repo.root / "workers-wrote").exists()  # workers folded, and were waited for
    folder = BlobCache(info.state_dir).dir
    assert folder is not None
    written = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    blobs = {
        line.split()[2]
        for line in repo.git("ls-tree", "-r", "HEAD", ".beads/vpt/ledger").splitlines()
    }
    assert len(blobs) == 6
    assert {p.parent.name + p.stem for p in written if p.suffix == ".f3"} == blobs
