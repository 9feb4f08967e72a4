"""Claude Code transcripts: ~/.claude/projects/**/*.jsonl (and $CLAUDE_CONFIG_DIR).

Usage lives in lines with message.usage. Claude Code writes one line per content block, each
repeating the same usage: messages are deduplicated on (message.id, requestId) across all
files, keeping the largest-token copy and preferring the non-sidechain one (ccusage's rule).
`<synthetic>` models are skipped. The bd commands of tool_use blocks (Bash) open and close
bead windows.
"""

from __future__ import annotations

import os
from pathlib import Path

from bd_vpt.capture.transcripts import Message, Stats, entries, inside
from bd_vpt.capture.transcripts import files as files  # each source offers files()
from bd_vpt.ledger.records import parse_ts


def roots(path: Path | None) -> list[Path]:
    """Where the transcripts are: --path, else $CLAUDE_CONFIG_DIR (comma-separated), else
    ~/.config/claude and ~/.claude; each root's projects/ folder."""
    if path is not None:
        return [path]
    env = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    bases = (
        [Path(p.strip()).expanduser() for p in env.split(",") if p.strip()]
        if env
        else [
            Path.home() / ".config" / "claude",
            Path.home() / ".claude",
        ]
    )
    return [b / "projects" for b in bases if (b / "projects").is_dir()]


def scan(
    paths: list[Path], allowed_cwds: list[str] | None, stats: Stats
) -> dict[str, list[Message]]:
    """Deduplicated messages by session. allowed_cwds: keep only sessions run inside these
    folders (None: every project)."""
    best: dict[str, Message] = {}
    known_cwds: dict[str, bool] = {}  # cwd -> in an allowed folder (memoised: cwds repeat)
    for path in paths:
        for number, entry in entries(path, stats, needle=b'"usage"'):
            message = _message(entry, path, number, allowed_cwds, stats, known_cwds)
            if message is None:
                continue
            stats.saw(path, message.session)
            held = best.get(message.key)
            if held is None:
                best[message.key] = message
                continue
            stats.duplicates += 1
            held.commands.extend(c for c in message.commands if c not in held.commands)
            if (message.size, not message.sidechain) > (held.size, not held.sidechain):
                message.commands = held.commands
                best[message.key] = message
    sessions: dict[str, list[Message]] = {}
    for message in best.values():
        sessions.setdefault(message.session, []).append(message)
    stats.messages += len(best)
    return sessions


def _message(
    entry: object,
    path: Path,
    number: int,
    allowed: list[str] | None,
    stats: Stats,
    known_cwds: dict[str, bool],
) -> Message | None:
    if type(entry) is not dict:
        stats.skip("unknown record type")
        return None
    body = entry.get("message")
    usage = body.get("usage") if type(body) is dict else None
    if type(body) is not dict or type(usage) is not dict:
        stats.skip("not a usage line")
        return None
    model, stamp, session = body.get("model"), entry.get("timestamp"), entry.get("sessionId")
    if type(model) is not str or type(stamp) is not str or type(session) is not str:
        stats.skip("missing fields")
        return None
    if model == "<synthetic>":
        stats.skip("synthetic model")
        return None
    cwd = entry.get("cwd")
    if allowed is not None:
        known: bool | None = False
        if type(cwd) is str:
            known = known_cwds.get(cwd)
            if known is None:
                known = known_cwds[cwd] = inside(cwd, allowed)
        if not known:
            stats.skip("other project")
            return None
    get = usage.get
    inp, out = get("input_tokens"), get("output_tokens")
    if type(inp) is not int or type(out) is not int:
        stats.skip("missing fields")
        return None
    read, write = get("cache_read_input_tokens", 0), get("cache_creation_input_tokens", 0)
    tokens = {
        "input": max(inp, 0),
        "output": max(out, 0),
        "cache_read": read if type(read) is int and read > 0 else 0,
        "cache_write": write if type(write) is int and write > 0 else 0,
    }
    detail = get("cache_creation")
    if type(detail) is dict:
        hour = detail.get("ephemeral_1h_input_tokens", 0)
        if type(hour) is int and hour > 0:
            tokens["cache_write_1h"] = hour
    try:
        moment = parse_ts(stamp)
    except ValueError:
        stats.skip("missing fields")
        return None
    mid, rid = body.get("id"), entry.get("requestId")
    key = f"{mid}:{rid}" if type(mid) is str and type(rid) is str else f"{path.name}:{number:09d}"
    commands = []
    content = body.get("content")
    if type(content) is list:
        for block in content:
            if type(block) is dict and block.get("type") == "tool_use":
                given = block.get("input")
                command = given.get("command") if type(given) is dict else None
                if type(command) is str and "bd" in command:
                    commands.append(command)
    return Message(
        key=key,
        session=session,
        moment=moment,
        model=model,
        tokens=tokens,
        sidechain=entry.get("isSidechain") is True,
        commands=commands,
        day=stamp[:10] if stamp.endswith("Z") else "",
        cwd=cwd if type(cwd) is str else "",
    )
