"""Codex transcripts: $CODEX_HOME/sessions/**/*.jsonl (default ~/.codex).

Usage comes from `event_msg` lines with payload.type "token_count": per turn, the change in
info.total_token_usage (an event whose total did not change is a re-emission and is skipped).
Codex's input_tokens include cached_input_tokens and output_tokens include
reasoning_output_tokens: the record keeps input uncached, cache_read, output (reasoning inside)
and reasoning (informational), so nothing is counted twice. The model is the latest
turn_context's. A forked or sub-agent file (session_meta naming a parent, or a sub-agent source)
begins by replaying its parent's history: token counts stamped before the file's own
session_meta only set the baseline.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.capture.transcripts import Message, Stats, entries, inside
from bd_vpt.capture.transcripts import files as files  # each source offers files()
from bd_vpt.ledger.records import parse_ts

FORK_KEYS = ("forked_from_id", "forked_from", "parent_session_id", "parent_id")


def roots(path: Path | None) -> list[Path]:
    if path is not None:
        return [path]
    home = Path(os.environ.get("CODEX_HOME", "").strip() or Path.home() / ".codex").expanduser()
    return [home / "sessions"] if (home / "sessions").is_dir() else []


def _is_fork(meta: dict[str, Any]) -> bool:
    source = meta.get("source")
    return (
        any(meta.get(k) for k in FORK_KEYS)
        or (isinstance(source, dict) and "subagent" in source)
        or source == "subagent"
    )


def _commands(payload: dict[str, Any]) -> list[str]:
    """Shell command lines of a function/local shell call."""
    raw: Any = None
    if payload.get("type") == "function_call":
        try:
            args = orjson.loads(payload.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            return []
        raw = args.get("command") if isinstance(args, dict) else None
    elif payload.get("type") == "local_shell_call":
        action = payload.get("action")
        raw = action.get("command") if isinstance(action, dict) else None
    if isinstance(raw, list):
        parts = [str(p) for p in raw]
        raw = parts[-1] if len(parts) >= 3 and parts[-2] in ("-c", "-lc") else " ".join(parts)
    return [raw] if isinstance(raw, str) and "bd" in raw else []


def scan(
    paths: list[Path], allowed_cwds: list[str] | None, stats: Stats
) -> dict[str, list[Message]]:
    sessions: dict[str, list[Message]] = {}
    for path in paths:
        session, model, folder = path.stem, None, ""
        meta_moment = None
        fork = False
        keep = allowed_cwds is None
        previous: dict[str, int] | None = None
        pending: list[str] = []
        messages: list[Message] = []
        for number, entry in entries(path, stats):
            if not isinstance(entry, dict) or not isinstance(entry.get("payload"), dict):
                stats.skip("unknown record type")
                continue
            kind, payload, stamp = entry.get("type"), entry["payload"], entry.get("timestamp")
            if kind == "session_meta":
                session = str(payload.get("id") or session)
                fork = _is_fork(payload)
                cwd = payload.get("cwd")
                folder = cwd if isinstance(cwd, str) else ""
                keep = allowed_cwds is None or (isinstance(cwd, str) and inside(cwd, allowed_cwds))
                meta_moment = parse_ts(stamp) if isinstance(stamp, str) else None
            elif kind == "turn_context":
                model = payload.get("model") if isinstance(payload.get("model"), str) else model
            elif kind == "response_item":
                pending += _commands(payload)
            elif kind == "event_msg" and payload.get("type") == "token_count":
                info = payload.get("info")
                total = info.get("total_token_usage") if isinstance(info, dict) else None
                if not isinstance(total, dict) or not isinstance(stamp, str):
                    stats.skip("missing fields")
                    continue
                now = {
                    k: int(total.get(k) or 0)
                    for k in (
                        "input_tokens",
                        "cached_input_tokens",
                        "output_tokens",
                        "reasoning_output_tokens",
                    )
                }
                moment = parse_ts(stamp)
                if fork and meta_moment is not None and moment < meta_moment:
                    previous = now  # the parent's history, replayed: a baseline, not usage
                    stats.skip("replayed by a fork")
                    continue
                if now == previous:
                    stats.skip("re-emitted token count")
                    continue
                delta = {k: max(0, v - (previous or {}).get(k, 0)) for k, v in now.items()}
                previous = now
                cached = min(delta["cached_input_tokens"], delta["input_tokens"])
                tokens = {
                    "input": delta["input_tokens"] - cached,
                    "output": delta["output_tokens"],
                    "cache_read": cached,
                    "reasoning": delta["reasoning_output_tokens"],
                }
                messages.append(
                    Message(
                        key=f"{number:09d}",
                        session=session,
                        moment=moment,
                        model=model or "gpt-5",
                        tokens=tokens,
                        commands=pending,
                    )
                )
                pending = []
            else:
                stats.skip("not a usage line")
        if not keep:
            stats.skip("other project", len(messages))
            continue
        for message in messages:
            message.session = session
            message.cwd = folder
        if messages:
            stats.saw(path, session)
        stats.messages += len(messages)
        sessions.setdefault(session, []).extend(messages)
    return sessions
