"""OpenCode: $XDG_DATA_HOME/opencode (default ~/.local/share/opencode).

Since 1.2 everything is in opencode.db (SQLite: session, message and part tables, each row's
fields in a JSON `data` column); older installs, and the files the migration leaves behind, keep
storage/session/<project>/<session>.json, storage/message/<session>/<message>.json and
storage/part/<message>/<part>.json. Both are read; a message is counted once (the database copy
wins). An assistant message carries modelID, providerID, cost (OpenCode's own, kept as
reported_cost_usd), tokens {input (without cache), output, reasoning, cache {read, write}} and
path {cwd, root}; one still streaming (no time.completed) waits for the next import. Before 1.3.4
`output` includes the reasoning tokens of OpenAI models; from 1.3.4 it never does: the record's
output always includes them (reasoning is the informational part). step-finish parts repeat the
message's tokens and are not added; the session table's running totals are never read. Shell
calls are `tool` parts with tool "bash" and state.input.command; a session's parent_id makes it a
subagent (a sidechain that inherits its parent's bead).
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.capture.transcripts import Message, Stats, amount, inside

DB = "opencode.db"
REASONING_SPLIT = (1, 3, 4)  # from this version `output` excludes reasoning for every model


def roots(path: Path | None) -> list[Path]:
    if path is not None:
        return [path]
    data = os.environ.get("XDG_DATA_HOME", "").strip()
    base = (Path(data).expanduser() if data else Path.home() / ".local" / "share") / "opencode"
    return [base] if base.is_dir() else []


def files(paths: list[Path]) -> list[Path]:
    """The database, then every legacy message file."""
    found: list[Path] = []
    for root in paths:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            if (root / DB).is_file():
                found.append(root / DB)
            found.extend(sorted((root / "storage" / "message").glob("*/*.json")))
    return found


@dataclass
class SessionInfo:
    directory: str = ""
    version: str = ""
    parent: str = ""


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text)[:3])


def _reasoning_inside(version: str, provider: str, model: str) -> bool:
    """Did this OpenCode version count reasoning inside `output` for this model?"""
    if not version or _version(version) >= REASONING_SPLIT:
        return False
    return provider.startswith(("openai", "azure")) or model.startswith(
        ("gpt-", "o1", "o3", "o4", "codex")
    )


def _commands(parts: list[Any]) -> list[str]:
    found = []
    for part in parts:
        if type(part) is not dict or part.get("type") != "tool" or part.get("tool") != "bash":
            continue
        state = part.get("state")
        given = state.get("input") if type(state) is dict else None
        command = given.get("command") if type(given) is dict else None
        if type(command) is str and "bd" in command:
            found.append(command)
    return found


def _int(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def message(
    mid: str,
    sid: str,
    data: Any,
    info: SessionInfo,
    parts: list[Any],
    allowed: list[str] | None,
    stats: Stats,
) -> Message | None:
    """One assistant message as a Message (None, counted, for anything else)."""
    if type(data) is not dict or data.get("role") != "assistant":
        stats.skip("not a usage line")
        return None
    time, tokens = data.get("time"), data.get("tokens")
    model, provider = data.get("modelID"), data.get("providerID")
    if type(time) is not dict or type(tokens) is not dict or type(model) is not str:
        stats.skip("missing fields")
        return None
    created = time.get("created")
    if type(time.get("completed")) not in (int, float):
        stats.skip("message not finished")
        return None
    cache: dict[str, Any] = tokens["cache"] if type(tokens.get("cache")) is dict else {}
    inp, out = _int(tokens.get("input")), _int(tokens.get("output"))
    reasoning = _int(tokens.get("reasoning", 0))
    read, write = _int(cache.get("read", 0)), _int(cache.get("write", 0))
    start = amount(created)
    if start is None or inp is None or out is None or reasoning is None or None in (read, write):
        stats.skip("missing fields")
        return None
    paths: dict[str, Any] = data["path"] if type(data.get("path")) is dict else {}
    cwd = paths.get("cwd") if type(paths.get("cwd")) is str else info.directory
    if allowed is not None and not any(
        type(p) is str and p and inside(p, allowed)
        for p in (cwd, paths.get("root"), info.directory)
    ):
        stats.skip("other project")
        return None
    provider = provider if type(provider) is str else ""
    if not _reasoning_inside(info.version, provider, model):
        out += reasoning
    counts = {"input": inp, "output": out, "cache_read": read or 0, "cache_write": write or 0}
    if reasoning:
        counts["reasoning"] = reasoning
    return Message(
        key=mid,
        session=sid,
        moment=datetime.fromtimestamp(start / 1000, UTC),
        model=model,
        tokens=counts,
        commands=_commands(parts),
        cwd=cwd or "",
        parent=info.parent,
        sidechain=bool(info.parent),
        reported_cost=amount(data.get("cost")),
    )


def _from_db(path: Path, allowed: list[str] | None, stats: Stats) -> list[Message]:
    stats.files += 1
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        stats.skip("unreadable file")
        return []
    found: list[Message] = []
    try:
        sessions = {
            sid: SessionInfo(directory or "", version or "", parent or "")
            for sid, directory, version, parent in con.execute(
                "SELECT id, directory, version, parent_id FROM session"
            )
        }
        parts: dict[str, list[Any]] = {}
        for mid, data in con.execute(
            'SELECT message_id, data FROM part WHERE data LIKE \'%"tool":"bash"%\' ORDER BY id'
        ):
            try:
                parts.setdefault(mid, []).append(orjson.loads(data))
            except orjson.JSONDecodeError:
                stats.skip("malformed JSON")
        for mid, sid, data in con.execute(
            "SELECT id, session_id, data FROM message "
            'WHERE data LIKE \'%"role":"assistant"%\' ORDER BY time_created, id'
        ):
            stats.lines += 1
            try:
                body = orjson.loads(data)
            except orjson.JSONDecodeError:
                stats.skip("malformed JSON")
                continue
            info = sessions.get(sid, SessionInfo())
            got = message(mid, sid, body, info, parts.get(mid, []), allowed, stats)
            if got is not None:
                found.append(got)
    except sqlite3.Error as exc:
        stats.skip(f"unreadable database ({exc})")
    finally:
        con.close()
    return found


def _load(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def _from_files(
    paths: list[Path], allowed: list[str] | None, stats: Stats
) -> list[tuple[Path, Message]]:
    found: list[tuple[Path, Message]] = []
    infos: dict[Path, SessionInfo] = {}
    for path in paths:
        stats.files += 1
        stats.lines += 1
        try:
            data = orjson.loads(path.read_bytes())
        except OSError:
            stats.skip("unreadable file")
            continue
        except orjson.JSONDecodeError:
            stats.skip("malformed JSON")
            continue
        storage = path.parents[2]
        sid = data.get("sessionID") if type(data) is dict else None
        mid = data.get("id") if type(data) is dict else None
        if type(sid) is not str or type(mid) is not str:
            stats.skip("missing fields")
            continue
        key = storage / sid
        if key not in infos:
            info = SessionInfo()
            for candidate in (storage / "session").glob(f"*/{sid}.json"):
                meta = _load(candidate)
                if type(meta) is dict:
                    info = SessionInfo(
                        str(meta.get("directory") or ""),
                        str(meta.get("version") or ""),
                        str(meta.get("parentID") or ""),
                    )
                    break
            infos[key] = info
        parts = [_load(p) for p in sorted((storage / "part" / mid).glob("*.json"))]
        got = message(mid, sid, data, infos[key], parts, allowed, stats)
        if got is not None:
            found.append((path, got))
    return found


def scan(
    paths: list[Path], allowed_cwds: list[str] | None, stats: Stats
) -> dict[str, list[Message]]:
    best: dict[str, Message] = {}
    dbs = [p for p in paths if p.name.endswith(".db")]
    for db in dbs:
        for got in _from_db(db, allowed_cwds, stats):
            stats.saw(db, got.session)
            if got.key in best:
                stats.duplicates += 1
            else:
                best[got.key] = got
    legacy = [p for p in paths if not p.name.endswith(".db")]
    for path, got in _from_files(legacy, allowed_cwds, stats):
        stats.saw(path, got.session)
        if got.key in best:
            stats.duplicates += 1
        else:
            best[got.key] = got
    sessions: dict[str, list[Message]] = {}
    for got in best.values():
        sessions.setdefault(got.session, []).append(got)
    stats.messages += len(best)
    return sessions
