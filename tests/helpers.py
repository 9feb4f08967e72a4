from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.cli import main


def _find_corpus() -> Path:
    """The real beads history: $BD_VPT_CORPUS, else shared/ beside this checkout, else beside
    the local repository it was cloned from (a scratch clone elsewhere still finds it)."""
    bundle = Path("shared") / "corpus" / "beads-history.bundle"
    if os.environ.get("BD_VPT_CORPUS"):
        return Path(os.environ["BD_VPT_CORPUS"])
    checkout = Path(__file__).resolve().parents[1]
    candidates = [checkout.parent / bundle]
    origin = subprocess.run(
        ["git", "config", "--get", "remote.origin.url"],
        cwd=checkout,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent / bundle)
    return next((c for c in candidates if c.exists()), candidates[0])


CORPUS = _find_corpus()
GOLDEN = Path(__file__).with_name("golden")
SHARD_A = ".beads/vpt/ledger/2026-11/agent-a-000001.jsonl"
SHARD_B = ".beads/vpt/ledger/2026-11/agent-b-000002.jsonl"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return orjson.loads(self.out)


def reported_before(info: Any) -> None:
    """Mark the repository (a RepoInfo) as having had a report: its folds are cached from the
    next report on (a repository's first report writes none: ledger/cache.py keeps_folds)."""
    from bd_vpt.ledger.cache import BlobCache

    folder = BlobCache(info.state_dir).dir
    assert folder is not None
    folder.mkdir(parents=True, exist_ok=True)


def run_cli(*argv: str) -> Result:
    """bd-vpt in-process (the same main() the console script calls)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return Result(code, out.getvalue(), err.getvalue())


@dataclass
class Repo:
    root: Path

    def git(self, *args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True)
        if proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)}: {proc.stderr}")
        return proc.stdout

    def vpt(self, *argv: str) -> Result:
        return run_cli(*argv)

    def ok(self, *argv: str) -> Result:
        result = run_cli(*argv)
        assert result.code == 0, (argv, result)
        return result

    def commit_all(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def shards(self) -> list[Path]:
        return sorted((self.root / ".beads/vpt/ledger").rglob("*.jsonl"))

    def write_beads(self, *beads: dict[str, Any], name: str = ".beads/issues.jsonl") -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(orjson.dumps(b) + b"\n" for b in beads))


def subprocess_cli(
    *argv: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bd_vpt", *argv], cwd=cwd, capture_output=True, text=True, env=env
    )


def usage(
    rid: str,
    ts: str,
    bead: str | None,
    actor: str,
    model: str,
    inp: int,
    out: int,
    cost: float | None = 0.0,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "v": 1,
        "id": rid,
        "kind": "usage",
        "ts": ts,
        "bead": bead,
        "actor": actor,
        "source": "test",
        "model": model,
        "tokens": {"input": inp, "output": out},
        "cost_usd": cost,
        "price_ref": None,
        **extra,
    }


def outcome(
    rid: str, ts: str, bead: str, actor: str, result: str, priority: int | None, **extra: Any
) -> dict[str, Any]:
    return {
        "v": 1,
        "id": rid,
        "kind": "outcome",
        "ts": ts,
        "bead": bead,
        "actor": actor,
        "source": "test",
        "result": result,
        "completion": extra.pop("completion", 1.0 if result == "completed" else 0.0),
        "snapshot": {
            "priority": priority,
            "type": extra.pop("type", "task"),
            "labels": extra.pop("labels", []),
            "title": f"bead {bead}",
        },
        **extra,
    }


def ulid(n: int) -> str:
    """A valid, ordered ULID for fixtures: 01J + zero padding + n in Crockford digits."""
    digits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    text = ""
    while True:
        n, r = divmod(n, 32)
        text = digits[r] + text
        if n == 0:
            break
    return "01J" + text.rjust(23, "0")


def append(repo: Repo, shard: str, *records: dict[str, Any]) -> None:
    path = repo.root / shard
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as f:
        for record in records:
            f.write(orjson.dumps(record) + b"\n")


def two_shards(repo: Repo) -> Repo:
    """A small committed ledger in two shards: bead A used and closed by agent a, and
    agent b's usage on no bead."""
    append(
        repo,
        SHARD_A,
        usage(ulid(1), "2026-11-02T09:00:00Z", "A", "a", "m", 60_000, 40_000, 1.0),
        outcome(ulid(2), "2026-11-02T17:00:00Z", "A", "a", "completed", 1),
    )
    append(repo, SHARD_B, usage(ulid(3), "2026-11-03T09:00:00Z", None, "b", "m", 7, 3, 0.5))
    repo.commit_all("ledger")
    return repo


def golden(name: str, text: str) -> str:
    """The golden file's text; BD_VPT_UPDATE_GOLDEN=1 rewrites it from text first."""
    path = GOLDEN / name
    if os.environ.get("BD_VPT_UPDATE_GOLDEN"):
        path.write_text(text)
    return path.read_text()


def judged_repo(
    root: Path, thresholds: dict[str, Any], budgets: list[dict[str, Any]], *init: str
) -> Repo:
    """A new repository at root (this process moves there), set up by `bd-vpt init`, its
    config given these thresholds and budgets (init: more `git init` options)."""
    import tomllib

    import tomli_w

    repo = Repo(root)
    repo.git("init", "-q", *init)
    os.chdir(root)
    assert run_cli("init").code == 0
    path = root / ".beads/vpt/config.toml"
    document = tomllib.loads(path.read_text())
    document.setdefault("thresholds", {}).update(thresholds)
    document["budgets"] = budgets
    path.write_text(tomli_w.dumps(document))
    return repo
