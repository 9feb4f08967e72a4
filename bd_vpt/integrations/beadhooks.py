"""bd's event hooks: record a close or a reopen the moment bd makes it.

bd (internal/hooks) runs an executable `.beads/hooks/on_close` / `on_update` / `on_create`
with the bead's id and the event (`close`, `update`, `create`) as arguments and the bead's
JSON on stdin, in the background, killed after 10 s; bd never waits for it and ignores its
exit status. `bd-vpt hooks install --beads` installs on_close and on_update scripts that run
this module; they record exactly what `bd-vpt sync` would for that bead (the same source_ref),
so a later sync adds nothing. A hook never fails bd: any problem goes to
$GIT_COMMON_DIR/bd-vpt/bead-hook.log and the hook exits 0.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.ledger import writer

MARKER = "# bd-vpt bead hook"
EVENTS = ("on_close", "on_update")
SCRIPT = """#!/bin/sh
{marker}: records outcomes as bd closes and reopens beads.
# Installed by `bd-vpt hooks install --beads`; bd runs it as: HOOK <bead id> <event>, the
# bead's JSON on stdin, in the background (10 s at most). It never fails bd.
input=$(cat)
if [ -x "$0.legacy" ]; then printf '%s' "$input" | "$0.legacy" "$@" || true; fi
py='{python}'
[ -x "$py" ] || py=python3
printf '%s' "$input" | "$py" -m bd_vpt.integrations.beadhooks "$0" "$@" >/dev/null 2>&1 || true
exit 0
"""


def install(root: Path, python: str | None = None) -> list[str]:
    """Write .beads/hooks/on_close and on_update (idempotent); a hook already there that is
    not ours is kept as <name>.legacy and still runs first."""
    directory = root / ".beads" / "hooks"
    directory.mkdir(parents=True, exist_ok=True)
    text = SCRIPT.format(marker=MARKER, python=(python or sys.executable).replace("'", ""))
    lines = []
    for name in EVENTS:
        path = directory / name
        if path.is_file() and MARKER not in path.read_text(errors="replace"):
            legacy = path.with_name(name + ".legacy")
            if legacy.exists():
                lines.append(f"{path} is not bd-vpt's and {legacy.name} exists: left alone")
                continue
            path.rename(legacy)
            lines.append(f"kept your {name} as {legacy.name} (it runs first)")
        if path.is_file() and path.read_text() == text:
            lines.append(f"{path.relative_to(root)}: already installed")
            continue
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        lines.append(f"installed {path.relative_to(root)}")
    lines.append("bd runs them on every close and update (set BD_NO_HOOKS=1 to pause them)")
    return lines


def uninstall(root: Path) -> list[str]:
    lines = []
    for name in EVENTS:
        path = root / ".beads" / "hooks" / name
        if path.is_file() and MARKER in path.read_text(errors="replace"):
            path.unlink()
            legacy = path.with_name(name + ".legacy")
            if legacy.exists():
                legacy.rename(path)
                lines.append(f"restored your {name}")
            else:
                lines.append(f"removed {path.relative_to(root)}")
    return lines or ["no bd-vpt bead hooks here"]


def handle(root: Path, bead_id: str, event: str, payload: bytes) -> list[dict[str, Any]]:
    """Record what sync would for this one bead, from bd's snapshot on stdin and the audit
    trail in the repository. Returns the records written."""
    from bd_vpt import config as config_file
    from bd_vpt import repo
    from bd_vpt.beads.model import Bead
    from bd_vpt.beads.rules import Outcomes
    from bd_vpt.beads.sources import JsonlEras
    from bd_vpt.beads.sync import explain
    from bd_vpt.capture.manual import resolve_actor
    from bd_vpt.ledger import store as ledger
    from bd_vpt.ledger.records import parse_ts

    data = orjson.loads(payload)
    if isinstance(data, dict) and "data" in data and "id" not in data:
        data = data["data"]
    bead = Bead.from_json(data)
    if bead.id != bead_id:
        raise ValueError(f"stdin is bead {bead.id}, argument says {bead_id}")
    info = repo.discover(root)
    config = config_file.load(info.root)
    rules = Outcomes.from_document(config.raw)
    files = JsonlEras.worktree(info.root, list(rules.done_statuses))
    known = files.get(bead.id)
    bead.done_statuses = files.statuses.done
    if known is not None:
        bead.transitions = known.transitions
        bead.parent = bead.parent or known.parent
        bead.has_children = known.has_children
    outcomes = []
    for rec in ledger.read(ledger.working_tree_sources(info.root), ledger.Scan()):
        if rec["kind"] == "outcome" and rec["bead"] == bead.id:
            outcomes.append(rec)
    actor = resolve_actor(None, info.root)
    # bd fires on_close as it closes: that close is new whatever capture.sync_since says
    since = parse_ts(config.sync_since) if config.sync_since and event != "close" else None
    plan = explain(
        [bead], {bead.id: outcomes}, actor=actor, since=since, rules=rules, statuses=files.statuses
    )
    for rec in plan.records:
        rec["source"] = "bd-hook"
        rec["hook_event"] = event
    if plan.records:
        writer.append(info, plan.records, actor)
    return plan.records


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    script = Path(args[0]).resolve() if args else Path.cwd()
    root = script.parent.parent.parent if script.name in EVENTS else Path.cwd()
    try:
        bead_id, event = args[1], args[2]
        handle(root, bead_id, event, sys.stdin.buffer.read())
    except Exception as exc:  # a hook must never fail bd: log and go
        _log(root, f"{' '.join(args[1:3])}: {type(exc).__name__}: {exc}")
    return 0


def _log(root: Path, line: str) -> None:
    from datetime import UTC, datetime

    try:
        from bd_vpt import repo

        path = repo.discover(root).state_dir / "bead-hook.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(f"{datetime.now(UTC).isoformat()} {line}\n")
    except Exception:
        pass


if __name__ == "__main__":
    raise SystemExit(main())
