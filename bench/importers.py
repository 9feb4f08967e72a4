"""Transcripts of the newer agents for the import benchmark, in each tool's on-disk format:
OpenClaw/pi session files, OpenCode's opencode.db, Gemini CLI's .jsonl chats. Each session
claims a bead every 50 calls and closes it at the 49th, like bench/agents.py's Claude Code."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

FILLER = "Let me look at the failing test before changing anything. " * 4
START = datetime(2026, 10, 1, tzinfo=UTC)


def _calls(
    index: int, events: int, seed: int = 11
) -> Iterator[tuple[int, datetime, str, dict[str, int]]]:
    rnd = random.Random(seed * 100_003 + index)
    start = START + timedelta(hours=index * 3)
    bead = ""
    for n in range(events):
        if n % 50 == 0:
            bead = f"bench-{index}-{n // 50}"
            command = f"bd update {bead} --claim && bd show {bead}"
        elif n % 50 == 49:
            command = f"make test && bd close {bead} --reason done"
        else:
            command = rnd.choice(
                ("rg -n TODO src", "pytest -q tests/test_api.py", "git diff --stat")
            )
        counts = {
            "input": rnd.randint(1, 40),
            "output": rnd.randint(20, 900),
            "cache_read": rnd.randint(5_000, 120_000),
            "cache_write": rnd.randint(0, 4000),
        }
        yield n, start + timedelta(seconds=20 * n), command, counts


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def openclaw_session(index: int, events: int, cwd: str) -> bytes:
    sid = f"0c1a{index:04d}-0000-4000-8000-{index:012d}"
    lines = [
        orjson.dumps(
            {"type": "session", "version": 3, "id": sid, "timestamp": _iso(START), "cwd": cwd}
        )
    ]
    parent = None
    for n, moment, command, c in _calls(index, events):
        eid = f"{index:04x}{n:04x}"
        usage = {
            "input": c["input"],
            "output": c["output"],
            "cacheRead": c["cache_read"],
            "cacheWrite": c["cache_write"],
            "totalTokens": sum(c.values()),
            "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0},
        }
        message = {
            "role": "assistant",
            "content": [
                {"type": "text", "text": FILLER},
                {
                    "type": "toolCall",
                    "id": f"call_{eid}",
                    "name": "exec",
                    "arguments": {"command": command},
                },
            ],
            "api": "anthropic-messages",
            "provider": "anthropic",
            "model": "claude-sonnet-4-5",
            "usage": usage,
            "stopReason": "toolUse",
            "timestamp": int(moment.timestamp() * 1000),
        }
        lines.append(
            orjson.dumps(
                {
                    "type": "message",
                    "id": eid,
                    "parentId": parent,
                    "timestamp": _iso(moment),
                    "message": message,
                }
            )
        )
        lines.append(
            orjson.dumps(
                {
                    "type": "message",
                    "id": f"r{eid}",
                    "parentId": eid,
                    "timestamp": _iso(moment),
                    "message": {
                        "role": "toolResult",
                        "toolCallId": f"call_{eid}",
                        "toolName": "exec",
                        "content": [{"type": "text", "text": FILLER}],
                        "isError": False,
                    },
                }
            )
        )
        parent = f"r{eid}"
    return b"\n".join(lines) + b"\n"


def gemini_session(index: int, events: int, cwd: str) -> bytes:
    sid = f"6{index:07d}-1111-4111-8111-{index:012d}"
    lines = [
        orjson.dumps(
            {
                "sessionId": sid,
                "projectHash": hashlib.sha256(cwd.encode()).hexdigest(),
                "startTime": _iso(START),
                "lastUpdated": _iso(START),
            }
        )
    ]
    for n, moment, command, c in _calls(index, events):
        total_in = c["input"] + c["cache_read"]
        message: dict[str, Any] = {
            "id": f"m-{index}-{n}",
            "timestamp": _iso(moment),
            "type": "gemini",
            "content": FILLER,
            "thoughts": [],
            "tokens": {
                "input": total_in,
                "output": c["output"],
                "cached": c["cache_read"],
                "thoughts": 0,
                "tool": 0,
                "total": total_in + c["output"],
            },
            "model": "gemini-2.5-pro",
        }
        lines.append(orjson.dumps(message))
        message["toolCalls"] = [
            {
                "id": f"c-{n}",
                "name": "run_shell_command",
                "args": {"command": command},
                "result": [{"text": FILLER}],
                "status": "success",
                "timestamp": _iso(moment),
            }
        ]
        lines.append(orjson.dumps(message))  # re-appended with its tool call, as Gemini CLI does
        lines.append(orjson.dumps({"$set": {"lastUpdated": _iso(moment)}}))
    return b"\n".join(lines) + b"\n"


def write_opencode(db: Path, sessions: int, events: int, cwd: str) -> None:
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE session (id text PRIMARY KEY, project_id text NOT NULL, parent_id text, slug text NOT NULL,"
        " directory text NOT NULL, title text NOT NULL, version text NOT NULL, cost real DEFAULT 0 NOT NULL,"
        " time_created integer NOT NULL, time_updated integer NOT NULL);"
        "CREATE TABLE message (id text PRIMARY KEY, session_id text NOT NULL, time_created integer NOT NULL,"
        " time_updated integer NOT NULL, data text NOT NULL);"
        "CREATE TABLE part (id text PRIMARY KEY, message_id text NOT NULL, session_id text NOT NULL,"
        " time_created integer NOT NULL, time_updated integer NOT NULL, data text NOT NULL);"
    )
    for index in range(sessions):
        sid = f"ses_{index:06d}"
        con.execute(
            "INSERT INTO session VALUES (?, 'prj', NULL, ?, ?, 'bench', '1.3.10', 0, 0, 0)",
            (sid, sid, cwd),
        )
        for n, moment, command, c in _calls(index, events):
            ms = int(moment.timestamp() * 1000)
            mid = f"msg_{index:06d}_{n:06d}"
            data = {
                "role": "assistant",
                "time": {"created": ms, "completed": ms + 3000},
                "parentID": "msg_u",
                "modelID": "claude-sonnet-4-5",
                "providerID": "anthropic",
                "mode": "build",
                "agent": "build",
                "path": {"cwd": cwd, "root": cwd},
                "cost": 0.01,
                "tokens": {
                    "input": c["input"],
                    "output": c["output"],
                    "reasoning": 0,
                    "cache": {"read": c["cache_read"], "write": c["cache_write"]},
                },
                "finish": "tool-calls",
            }
            con.execute(
                "INSERT INTO message VALUES (?, ?, ?, ?, ?)",
                (mid, sid, ms, ms, orjson.dumps(data).decode()),
            )
            parts = [
                {"type": "text", "text": FILLER},
                {
                    "type": "tool",
                    "callID": f"c{n}",
                    "tool": "bash",
                    "state": {
                        "status": "completed",
                        "input": {"command": command, "description": "run"},
                        "output": FILLER,
                        "title": command,
                        "metadata": {},
                        "time": {"start": ms, "end": ms},
                    },
                },
                {
                    "type": "step-finish",
                    "reason": "tool-calls",
                    "cost": 0.01,
                    "tokens": data["tokens"],
                },
            ]
            for k, part in enumerate(parts):
                con.execute(
                    "INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)",
                    (f"prt_{index:06d}_{n:06d}_{k}", mid, sid, ms, ms, orjson.dumps(part).decode()),
                )
    con.commit()
    con.close()


def write_source(
    kind: str, base: Path, sessions: int, events: int, cwd: str
) -> tuple[dict[str, str], int]:
    """Write `sessions` sessions of `events` calls; (environment to find them, bytes written)."""
    writers: dict[str, Callable[[int, int, str], bytes]] = {
        "openclaw": openclaw_session,
        "gemini-cli": gemini_session,
    }
    if kind == "opencode":
        root = base / "data" / "opencode"
        root.mkdir(parents=True, exist_ok=True)
        write_opencode(root / "opencode.db", sessions, events, cwd)
        return {"XDG_DATA_HOME": str(base / "data")}, (root / "opencode.db").stat().st_size
    size = 0
    for index in range(sessions):
        data = writers[kind](index, events, cwd)
        if kind == "openclaw":
            path = base / "state" / "agents" / "main" / "sessions" / f"s{index:05d}.jsonl"
        else:
            path = (
                base / "home" / ".gemini" / "tmp" / "bench" / "chats" / f"session-{index:05d}.jsonl"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        size += len(data)
    if kind == "openclaw":
        return {"OPENCLAW_STATE_DIR": str(base / "state")}, size
    return {"GEMINI_CLI_HOME": str(base / "home")}, size


SOURCES = ("openclaw", "opencode", "gemini-cli")


def bench_importers(
    base: Path,
    sessions: int,
    events: int,
    runs: int,
    bd_vpt: str,
    timed_env: Callable[..., tuple[float, float]],
) -> list[tuple[str, float, float, str]]:
    """A cold `bd-vpt import <source>` of each new source; the last column is the time per
    100 MB of that source's files (the figure comparable across sources)."""
    import shutil
    import subprocess

    repo = base / "repo"
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([bd_vpt, "init"], cwd=repo, check=True, capture_output=True)

    def reset() -> None:
        shutil.rmtree(repo / ".beads" / "vpt" / "ledger", ignore_errors=True)
        shutil.rmtree(repo / ".git" / "bd-vpt", ignore_errors=True)

    rows = []
    for kind in SOURCES:
        env, size = write_source(kind, base / kind, sessions, events, str(repo))
        seconds, rss = timed_env(
            [bd_vpt, "import", kind], repo, runs, {**os.environ, **env, "TZ": "UTC"}, reset
        )
        per = seconds * 100e6 / size
        rows.append(
            (
                f"bd-vpt import {kind}, cold ({size / 1e6:,.0f} MB)",
                seconds,
                rss,
                f"{per:,.1f} s/100 MB",
            )
        )
        reset()
    return rows
