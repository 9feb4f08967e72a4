"""`bd-vpt demo DIR`: a demo repository built from the data shipped in bd_vpt/demo/data.

It replays two weeks of agent work through the same core functions the commands call
(init, record, close, reopen, sync; never through the CLI) and commits each day with git, so
`bd-vpt summary` has a history to read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

from bd_vpt.errors import VptError
from bd_vpt.repo import RepoInfo

DASHBOARD = "vpt-dashboard.html"
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
    from bd_vpt.repo import git

    env = dict(GIT_ENV)
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    git(*args, cwd=directory, env=env)


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
        from bd_vpt import config, repo, repo_setup

        repo_setup.init(directory)
        info = repo.discover(directory)
        document = config.load(directory).raw
        document["capture"]["sync_since"] = activity["since"]
        document["roles"] = {"orchestrators": ["mayor"]}
        config.write(directory, document)
        _git(directory, "add", "-A")
        _git(directory, "commit", "-q", "-m", "Track VPT with bd-vpt", date="2026-11-02T08:00:00Z")
        counts: dict[str, int] = {}
        settings = config.load(directory)
        for step in activity["steps"]:
            _replay(info, settings, step)
            counts[step["do"]] = counts.get(step["do"], 0) + 1
        page = _dashboard(info, settings)
    echo(f"demo repo: {directory}")
    echo("replayed: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    echo(f"dashboard: {page}")


def _dashboard(info: RepoInfo, settings: Any) -> Path:
    """The demo's dashboard beside its ledger (kept out of git by .git/info/exclude)."""
    from bd_vpt import reports
    from bd_vpt.ledger.view import open_view
    from bd_vpt.render.dashboard import html

    document = reports.dashboard(
        open_view(info), settings, since=None, until=None, every=None, strict=False
    )
    page = info.root / DASHBOARD
    page.write_text(html(document, info.root.name), encoding="utf-8")
    exclude = info.git_dir / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a", encoding="utf-8") as out:
        out.write(f"/{DASHBOARD}\n")
    return page


def _replay(info: RepoInfo, settings: Any, step: dict[str, Any]) -> None:
    from bd_vpt.beads.sync import run as sync
    from bd_vpt.capture import manual

    directory = info.root
    do = step["do"]
    if do == "record":
        tokens = {k: step[k] for k in ("input", "output", "cache_read", "cache_write")}
        manual.record(
            info,
            settings,
            bead=None if step["bead"] == "-" else step["bead"],
            model=step["model"],
            tokens=tokens,
            actor=step["actor"],
            ts=step["ts"],
            requests=step["requests"],
        )
    elif do == "close":
        _set_status(directory, step["bead"], "closed", step["ts"])
        manual.close(
            info,
            settings,
            bead=step["bead"],
            actor=step["actor"],
            ts=step["ts"],
            run_bd=False,
            human_minutes=step["human_minutes"],
            value_usd=step.get("value_usd"),
        )
    elif do == "reopen":
        _set_status(directory, step["bead"], "open", step["ts"])
        manual.reopen(
            info,
            settings,
            bead=step["bead"],
            actor=step["actor"],
            ts=step["ts"],
            run_bd=False,
            reason=step["reason"],
        )
    elif do == "bd-close":
        _set_status(directory, step["bead"], "closed", step["ts"])
    elif do == "sync":
        sync(info, settings, since=None, dry_run=False, actor=step["actor"])
    elif do == "commit":
        _git(directory, "add", "-A")
        _git(directory, "commit", "-q", "-m", step["message"], date=step["date"])


def summary(directory: Path, by: str | None) -> dict[str, Any]:
    """The demo repository's summary, read through the one route every report takes."""
    from bd_vpt import config, repo, reports
    from bd_vpt.ledger.view import open_view

    info = repo.discover(directory)
    settings = config.load(info.root)
    return reports.summary(open_view(info), settings, by=by, since=None, until=None, strict=False)
