"""`bd-vpt demo DIR`: a demo repository built from the data shipped in bd_vpt/demo/data.

It replays two weeks of agent work through the real commands (init, record, close,
reopen, sync) and commits each day with git, so `bd-vpt summary` has a history to read.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from importlib.resources import files
from pathlib import Path
from typing import Any

from bd_vpt.errors import VptError

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bd-vpt demo",
    "GIT_AUTHOR_EMAIL": "demo@example.invalid",
    "GIT_COMMITTER_NAME": "bd-vpt demo",
    "GIT_COMMITTER_EMAIL": "demo@example.invalid",
}


def _data(name: str) -> str:
    return files("bd_vpt.demo.data").joinpath(name).read_text(encoding="utf-8")


@contextmanager
def _inside(directory: Path) -> Iterator[None]:
    before, bd_before = Path.cwd(), os.environ.get("BD")
    os.chdir(directory)
    os.environ["BD"] = "bd-vpt-demo-has-no-bd"  # never touch a real bd from the demo
    try:
        yield
    finally:
        os.chdir(before)
        if bd_before is None:
            os.environ.pop("BD", None)
        else:
            os.environ["BD"] = bd_before


def _git(directory: Path, *args: str, date: str | None = None) -> None:
    env = {**os.environ, **GIT_ENV}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    subprocess.run(["git", *args], cwd=directory, env=env, check=True, capture_output=True)


def _set_status(directory: Path, bead: str, status: str, ts: str) -> None:
    path = directory / ".beads/issues.jsonl"
    beads = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for item in beads:
        if item["id"] == bead:
            item["status"], item["updated_at"] = status, ts
            if status == "closed":
                item["closed_at"] = ts
            else:
                item.pop("closed_at", None)
    path.write_text("".join(json.dumps(b) + "\n" for b in beads), encoding="utf-8")


def _run(argv: list[str]) -> None:
    from bd_vpt.cli import main

    with open(os.devnull, "w") as quiet, redirect_stdout(quiet):
        code = main(argv)
    if code != 0:
        raise VptError(f"demo step failed: bd-vpt {' '.join(argv)} (exit {code})")


def build(directory: Path, echo: Callable[[str], Any] = print) -> None:
    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()):
        raise VptError(f"{directory} is not empty", hint="give a new directory, or remove it first")
    directory.mkdir(parents=True, exist_ok=True)
    activity = json.loads(_data("activity.json"))
    _git(directory, "init", "-q", "-b", "main")
    (directory / ".beads").mkdir()
    (directory / ".beads/issues.jsonl").write_text(_data("beads.jsonl"), encoding="utf-8")
    with _inside(directory):
        _run(["init"])
        from bd_vpt import config

        document = config.load(directory).raw
        document["capture"]["sync_since"] = activity["since"]
        document["roles"] = {"orchestrators": ["mayor"]}
        config.write(directory, document)
        _git(directory, "add", "-A")
        _git(directory, "commit", "-q", "-m", "Track VPT with bd-vpt", date="2026-11-02T08:00:00Z")
        counts: dict[str, int] = {}
        for step in activity["steps"]:
            _replay(directory, step)
            counts[step["do"]] = counts.get(step["do"], 0) + 1
    echo(f"demo repo: {directory}")
    echo("replayed: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


def _replay(directory: Path, step: dict[str, Any]) -> None:
    do = step["do"]
    if do == "record":
        _run(
            [
                "record",
                step["bead"],
                "--model",
                step["model"],
                "--actor",
                step["actor"],
                "--ts",
                step["ts"],
                "--input",
                str(step["input"]),
                "--output",
                str(step["output"]),
                "--cache-read",
                str(step["cache_read"]),
                "--cache-write",
                str(step["cache_write"]),
                "--requests",
                str(step["requests"]),
            ]
        )
    elif do in ("close", "reopen"):
        _set_status(directory, step["bead"], "closed" if do == "close" else "open", step["ts"])
        argv = [do, step["bead"], "--no-bd", "--actor", step["actor"], "--ts", step["ts"]]
        if do == "close":
            argv += ["--human-minutes", str(step["human_minutes"])]
            if "value_usd" in step:
                argv += ["--value-usd", str(step["value_usd"])]
        else:
            argv += ["--reason", step["reason"]]
        _run(argv)
    elif do == "bd-close":
        _set_status(directory, step["bead"], "closed", step["ts"])
    elif do == "sync":
        _run(["sync", "--actor", step["actor"]])
    elif do == "commit":
        _git(directory, "add", "-A")
        _git(directory, "commit", "-q", "-m", step["message"], date=step["date"])
