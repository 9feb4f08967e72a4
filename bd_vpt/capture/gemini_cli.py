"""Gemini CLI: $GEMINI_CLI_HOME (default the home folder)/.gemini/tmp/<project>/chats/.

<project> was sha256 of the project root until early 2026, now a slug listed in
.gemini/projects.json (and in tmp/<slug>/.project_root); the session's metadata keeps
`projectHash` = sha256(root) either way, which is how a session is matched to this repository.
Since April 2026 a chat is `session-<time>-<id8>.jsonl`: a metadata line, then each message
record appended again, whole, every time it changes (same id: the last copy wins; tokens arrive
after the text), `{"$set": ...}` metadata lines (a `messages` checkpoint holds whole records) and
`{"$rewindTo": id}` (rewound messages were still paid for: they are kept). Older
`session-*.json` files hold the whole conversation as one JSON document and stay beside their
.jsonl copies: each message is counted once. Subagents write chats/<parent session>/<id>.jsonl.

tokens {input (includes cached), output (excludes thoughts), cached, thoughts, tool, total} may be
null; the record keeps input uncached (input - cached + tool-use prompt), cache_read, output
with the thoughts inside, and reasoning = thoughts. Shell calls are toolCalls named
run_shell_command with args.command.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.capture.transcripts import Message, Stats, entries, inside, stamp_day
from bd_vpt.ledger.records import parse_ts

SHELL = "run_shell_command"


def gemini_dir() -> Path:
    home = os.environ.get("GEMINI_CLI_HOME", "").strip()
    return (Path(home).expanduser() if home else Path.home()) / ".gemini"


def roots(path: Path | None) -> list[Path]:
    if path is not None:
        return [path]
    tmp = gemini_dir() / "tmp"
    return [tmp] if tmp.is_dir() else []


def files(paths: list[Path]) -> list[Path]:
    """Legacy session-*.json files first, then the .jsonl chats (whose copies win)."""
    legacy: list[Path] = []
    chats: list[Path] = []
    for root in paths:
        if root.is_file():
            (legacy if root.suffix == ".json" else chats).append(root)
        elif root.is_dir():  # below .gemini/tmp only the chats/ folders hold chats
            every = root.name != "tmp"
            legacy.extend(
                sorted(p for p in root.rglob("session-*.json") if every or "chats" in p.parts)
            )
            chats.extend(sorted(p for p in root.rglob("*.jsonl") if every or "chats" in p.parts))
    return [*legacy, *chats]


def project_hashes(allowed: list[str], base: Path) -> set[str]:
    """projectHash values of sessions run in one of the allowed folders (or below one)."""
    known = set(allowed)
    try:
        registry = orjson.loads((base / "projects.json").read_bytes())
        known.update(registry.get("projects", {}))
    except (OSError, orjson.JSONDecodeError, AttributeError):
        pass
    for marker in (base / "tmp").glob("*/.project_root"):
        try:
            known.add(marker.read_text().strip())
        except OSError:
            continue
    return {
        hashlib.sha256(p.encode()).hexdigest()
        for p in known
        if isinstance(p, str) and p and inside(p, allowed)
    }


@dataclass
class Chat:
    """One session as read so far: its metadata and the latest copy of each message."""

    session: str = ""
    project: str = ""
    parent: str = ""
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)


def _records(path: Path, stats: Stats) -> Iterator[Any]:
    if path.suffix == ".json":  # a legacy session: one JSON document
        stats.files += 1
        stats.lines += 1
        try:
            document = orjson.loads(path.read_bytes())
        except OSError:
            stats.skip("unreadable file")
            return
        except orjson.JSONDecodeError:
            stats.skip("malformed JSON")
            return
        if type(document) is dict:
            yield {k: v for k, v in document.items() if k != "messages"}
            yield from document.get("messages") or []
        return
    for _number, record in entries(path, stats):
        yield record


def _shell(message: dict[str, Any]) -> list[str]:
    found = []
    for call in message.get("toolCalls") or []:
        if type(call) is dict and call.get("name") == SHELL:
            args = call.get("args")
            command = args.get("command") if type(args) is dict else None
            if type(command) is str and "bd" in command:
                found.append(command)
    return found


def _keep(chat: Chat, message: Any, stats: Stats) -> None:
    if type(message) is not dict or type(message.get("id")) is not str:
        stats.skip("unknown record type")
        return
    if message.get("type") != "gemini":
        stats.skip("not a usage line")
        return
    mid = message["id"]
    held = chat.messages.get(mid)
    if held is not None:
        stats.duplicates += 1
        if type(message.get("tokens")) is not dict and type(held.get("tokens")) is dict:
            message = {**message, "tokens": held["tokens"]}  # a later copy never loses tokens
    known = chat.commands.setdefault(mid, [])
    known.extend(c for c in _shell(message) if c not in known)
    # only what a usage record needs is kept (chats hold whole responses and tool outputs)
    chat.messages[mid] = {k: message.get(k) for k in ("timestamp", "model", "tokens")}


def _tokens(raw: dict[str, Any]) -> dict[str, int] | None:
    counts = {k: raw.get(k) or 0 for k in ("input", "output", "cached", "thoughts", "tool")}
    if any(type(v) is not int or v < 0 for v in counts.values()):
        return None
    cached = min(counts["cached"], counts["input"])
    tokens = {
        "input": counts["input"] - cached + counts["tool"],
        "output": counts["output"] + counts["thoughts"],
        "cache_read": cached,
    }
    if counts["thoughts"]:
        tokens["reasoning"] = counts["thoughts"]
    return tokens


def scan(
    paths: list[Path], allowed_cwds: list[str] | None, stats: Stats
) -> dict[str, list[Message]]:
    hashes = None if allowed_cwds is None else project_hashes(allowed_cwds, gemini_dir())
    chats: dict[str, Chat] = {}
    file_of: dict[str, list[Path]] = {}
    for path in paths:
        chat = Chat()
        for record in _records(path, stats):
            if type(record) is not dict:
                stats.skip("unknown record type")
            elif "$rewindTo" in record:
                stats.skip("rewind (its tokens are kept)")
            elif "$set" in record:
                update = record["$set"]
                if type(update) is dict and type(update.get("messages")) is list:
                    for message in update["messages"]:
                        _keep(chat, message, stats)
                else:
                    stats.skip("not a usage line")
            elif "id" not in record and type(record.get("sessionId")) is str:
                chat.session = record["sessionId"]
                chat.project = str(record.get("projectHash") or "")
                if record.get("kind") == "subagent" and path.parent.name != "chats":
                    chat.parent = path.parent.name
            else:
                _keep(chat, record, stats)
        if not chat.session:
            stats.skip("missing fields", len(chat.messages))
            continue
        if hashes is not None and chat.project not in hashes:
            stats.skip("other project", len(chat.messages))
            continue
        file_of.setdefault(chat.session, []).append(path)
        held = chats.get(chat.session)
        if held is None:
            chats[chat.session] = chat
            continue
        for mid, message in chat.messages.items():  # a later file's copy wins
            if mid in held.messages:
                stats.duplicates += 1
                if type(message.get("tokens")) is not dict:
                    message = {**message, "tokens": held.messages[mid].get("tokens")}
            held.messages[mid] = message
            known = held.commands.setdefault(mid, [])
            known.extend(c for c in chat.commands.get(mid, []) if c not in known)
        held.parent = held.parent or chat.parent
    sessions: dict[str, list[Message]] = {}
    for sid, chat in chats.items():
        for mid, message in chat.messages.items():
            raw, model, stamp = (
                message.get("tokens"),
                message.get("model"),
                message.get("timestamp"),
            )
            if raw is None:
                stats.skip("no token counts")
                continue
            tokens = _tokens(raw) if type(raw) is dict else None
            if tokens is None or type(model) is not str or type(stamp) is not str:
                stats.skip("missing fields")
                continue
            try:
                moment = parse_ts(stamp)
            except ValueError:
                stats.skip("missing fields")
                continue
            sessions.setdefault(sid, []).append(
                Message(
                    key=mid,
                    session=sid,
                    moment=moment,
                    model=model,
                    day=stamp_day(stamp),
                    tokens=tokens,
                    commands=chat.commands.get(mid, []),
                    parent=chat.parent,
                    sidechain=bool(chat.parent),
                )
            )
        if sid in sessions:
            for path in file_of[sid]:
                stats.saw(path, sid)
    stats.messages += sum(len(m) for m in sessions.values())
    return sessions
