"""OpenClaw transcripts: <state>/agents/<agent>/sessions/<session>.jsonl and /reset archives.

The state folder is $OPENCLAW_STATE_DIR (or the older $CLAWDBOT_STATE_DIR), else `.openclaw` in
$OPENCLAW_HOME or the home folder, plus the legacy `.clawdbot`, `.moldbot` and `.moltbot` folders
when present. A transcript is a pi session file (version 3): a `{"type":"session", "id", "cwd"}`
header, then entries `{"type":"message", "id", "timestamp", "message": {...}}`; an assistant
message carries `provider`, `model` and `usage {input (without cache), output, cacheRead,
cacheWrite, totalTokens, cost {..., total}}` (OpenClaw's own price, often 0: we price it
ourselves and keep theirs as reported_cost_usd). Shell calls are `toolCall` blocks (`exec` in
OpenClaw, `bash` in pi) whose arguments hold `command` (and OpenClaw's `workdir`).

A branch or fork (a header naming its parentSession) begins with copies of its parent's
entries, older than its own header: they are skipped. Migrated legacy folders copy whole files:
a message is counted once (same entry id and timestamp). sessions.json names the
subagents (`spawnedBy`): their usage is a sidechain that inherits the parent session's bead; its
running token counters are never added.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.capture.transcripts import Message, Stats, amount, entries, inside, stamp_day
from bd_vpt.ledger.records import format_ts, parse_ts

RESET_ARCHIVE = re.compile(r"\.jsonl\.reset\.\d{4}-\d{2}-\d{2}T[\d\-:]+\.\d+Z$")
LEGACY = (".clawdbot", ".moldbot", ".moltbot")


def state_dirs() -> list[Path]:
    """Every OpenClaw state folder present, the active one first."""
    override = (
        os.environ.get("OPENCLAW_STATE_DIR", "").strip()
        or os.environ.get("CLAWDBOT_STATE_DIR", "").strip()
    )
    if override:
        return [Path(override).expanduser()]
    home = Path(os.environ.get("OPENCLAW_HOME", "").strip() or Path.home()).expanduser()
    return [home / name for name in (".openclaw", *LEGACY) if (home / name).is_dir()]


def roots(path: Path | None) -> list[Path]:
    if path is not None:
        return [path]
    return [d / "agents" for d in state_dirs() if (d / "agents").is_dir()]


def is_transcript(name: str) -> bool:
    return name.endswith(".jsonl") or RESET_ARCHIVE.search(name) is not None


def files(paths: list[Path]) -> list[Path]:
    """Transcripts (and reset archives) below the given folders, with their sessions.json."""
    found: list[Path] = []
    for root in paths:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(
                sorted(p for p in root.rglob("*") if p.is_file() and is_transcript(p.name))
            )
    return found


def subagents(paths: list[Path]) -> dict[str, str]:
    """Child session id -> parent session id, from the sessions.json beside the transcripts."""
    keys: dict[str, str] = {}  # session key -> session id
    spawned: dict[str, str] = {}  # child session id -> parent session key
    for folder in sorted({p.parent for p in paths}):
        try:
            store = orjson.loads((folder / "sessions.json").read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        if not isinstance(store, dict):
            continue
        for key, entry in store.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("sessionId"), str):
                continue
            keys[key] = entry["sessionId"]
            if isinstance(entry.get("spawnedBy"), str):
                spawned[entry["sessionId"]] = entry["spawnedBy"]
    return {child: keys[key] for child, key in spawned.items() if key in keys}


def _commands(content: Any) -> tuple[list[str], list[str]]:
    """(shell command lines naming bd, working folders) of an assistant message's tool calls."""
    commands: list[str] = []
    folders: list[str] = []
    if type(content) is not list:
        return commands, folders
    for block in content:
        if type(block) is not dict or block.get("type") != "toolCall":
            continue
        args = block.get("arguments")
        if type(args) is not dict:
            continue
        command, workdir = args.get("command"), args.get("workdir")
        if type(command) is str and "bd" in command:
            commands.append(command)
        if type(workdir) is str:
            folders.append(workdir)
    return commands, folders


def _count(usage: dict[str, Any], name: str) -> int | None:
    value = usage.get(name, 0)
    return value if type(value) is int and value >= 0 else None


def scan(
    paths: list[Path], allowed_cwds: list[str] | None, stats: Stats
) -> dict[str, list[Message]]:
    parents = subagents(paths)
    best: dict[str, Message] = {}  # entry id@timestamp -> message
    for path in paths:
        session = path.name.split(".jsonl")[0]
        cwd, forked = "", None
        keep = allowed_cwds is None
        held: list[Message] = []
        # only the header and lines with usage are parsed (JSON.stringify writes compact JSON)
        for number, entry in entries(path, stats, b'"usage"', b'"type":"session"'):
            if type(entry) is not dict:
                stats.skip("unknown record type")
                continue
            kind = entry.get("type")
            if kind == "session":
                session = str(entry.get("id") or session)
                cwd = entry["cwd"] if type(entry.get("cwd")) is str else ""
                if entry.get("parentSession") and type(entry.get("timestamp")) is str:
                    try:  # a branch or fork: the entries it copied are older than it
                        forked = parse_ts(entry["timestamp"])
                    except ValueError:
                        forked = None
                keep = keep or (bool(cwd) and inside(cwd, allowed_cwds or []))
                continue
            body = entry.get("message")
            if kind != "message" or type(body) is not dict or body.get("role") != "assistant":
                stats.skip("not a usage line")
                continue
            usage = body.get("usage")
            model, stamp = body.get("model"), entry.get("timestamp")
            if type(stamp) is not str and amount(body.get("timestamp")) is not None:
                stamp = format_ts(datetime.fromtimestamp(body["timestamp"] / 1000, UTC))
            if type(usage) is not dict or type(model) is not str or type(stamp) is not str:
                stats.skip("missing fields")
                continue
            counts = {k: _count(usage, k) for k in ("input", "output", "cacheRead", "cacheWrite")}
            if counts["input"] is None or counts["output"] is None or "input" not in usage:
                stats.skip("missing fields")
                continue
            try:
                moment = parse_ts(stamp)
            except ValueError:
                stats.skip("missing fields")
                continue
            if forked is not None and moment < forked:
                stats.skip("copied from the parent session")
                continue
            commands, folders = _commands(body.get("content"))
            if not keep and allowed_cwds is not None:
                keep = any(inside(f, allowed_cwds) for f in folders)
            cost = usage.get("cost")
            total = cost.get("total") if type(cost) is dict else None
            eid = entry.get("id")
            key = f"{eid}@{stamp}" if type(eid) is str else f"{path.name}:{number:09d}"
            held.append(
                Message(
                    key=key,
                    session=session,
                    moment=moment,
                    model=model,
                    day=stamp_day(stamp),
                    tokens={
                        "input": counts["input"] or 0,
                        "output": counts["output"] or 0,
                        "cache_read": counts["cacheRead"] or 0,
                        "cache_write": counts["cacheWrite"] or 0,
                    },
                    commands=commands,
                    cwd=cwd,
                    reported_cost=amount(total),
                )
            )
        if not keep:
            stats.skip("other project", len(held))
            continue
        if held:
            stats.saw(path, session)
        for message in held:
            message.session = session
            message.parent = parents.get(session, "")
            message.sidechain = bool(message.parent)
            if message.key in best:  # a migrated folder's copy of the same entry
                stats.duplicates += 1
            else:
                best[message.key] = message
    sessions: dict[str, list[Message]] = {}
    for message in best.values():
        sessions.setdefault(message.session, []).append(message)
    stats.messages += len(best)
    return sessions
