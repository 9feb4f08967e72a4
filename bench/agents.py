"""Claude Code transcripts for the import benchmark: N sessions of M assistant events, with
realistic content blocks (text, tool_use, a tool_result user line per call), as compact JSON."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")
FILLER = "Let me look at the failing test before changing anything."


def assistant_line(
    session: str,
    ts: str,
    mid: str,
    model: str,
    usage: dict[str, object],
    block: dict[str, object],
    *,
    cwd: str,
    uuid: str,
    sidechain: bool = False,
) -> bytes:
    """One line of a Claude Code transcript: one content block of an assistant message,
    repeating the message's usage (compact JSON, as Claude Code writes it and ccusage reads
    it). The tests build their transcripts with it too."""
    return orjson.dumps(
        {
            "parentUuid": f"p-{mid}",
            "isSidechain": sidechain,
            "userType": "external",
            "cwd": cwd,
            "sessionId": session,
            "version": "2.0.31",
            "gitBranch": "main",
            "type": "assistant",
            "message": {
                "id": mid,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [block],
                "stop_reason": "tool_use",
                "usage": usage,
            },
            "requestId": f"req_{mid}",
            "uuid": uuid,
            "timestamp": ts,
        }
    )


def session_lines(index: int, events: int, cwd: str, seed: int = 7) -> list[bytes]:
    rnd = random.Random(seed * 100_003 + index)
    start = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(hours=index * 3)
    session = f"bench-session-{index:05d}"
    lines: list[bytes] = []
    bead = None
    for n in range(events):
        moment = start + timedelta(seconds=20 * n)
        ts = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        if n % 50 == 0:
            bead = f"bench-{index}-{n // 50}"
            command = f"bd update {bead} --claim && bd show {bead}"
        elif n % 50 == 49 and bead:
            command = f"make test && bd close {bead} --reason done"
        else:
            command = rnd.choice(
                ("rg -n TODO src", "pytest -q tests/test_api.py", "git diff --stat")
            )
        use = {
            "input_tokens": rnd.randint(1, 40),
            "output_tokens": rnd.randint(20, 900),
            "cache_creation_input_tokens": rnd.randint(0, 4000),
            "cache_read_input_tokens": rnd.randint(5_000, 120_000),
            "service_tier": "standard",
        }
        mid = f"msg_{index:05d}_{n:06d}"
        tool: dict[str, object] = {
            "type": "tool_use",
            "id": f"toolu_{mid}",
            "name": "Bash",
            "input": {"command": command, "description": "run it"},
        }
        # one line per content block, each repeating the usage; most calls are a bare tool call
        blocks: list[dict[str, object]] = (
            [{"type": "text", "text": FILLER}, tool] if n % 5 == 0 else [tool]
        )
        for block in blocks:
            lines.append(
                assistant_line(
                    session,
                    ts,
                    mid,
                    MODELS[(index + n // 200) % len(MODELS)],
                    use,
                    block,
                    cwd=cwd,
                    uuid=f"u-{mid}-{len(lines)}",
                    sidechain=n % 97 == 0,
                )
            )
        if n % 10:
            continue
        lines.append(
            orjson.dumps(
                {
                    "parentUuid": f"u-{mid}-tool_use",
                    "isSidechain": False,
                    "userType": "external",
                    "cwd": cwd,
                    "sessionId": session,
                    "type": "user",
                    "message": {
                        "role": "user",
                        "content": [
                            {
                                "tool_use_id": f"toolu_{mid}",
                                "type": "tool_result",
                                "content": "ok",
                                "is_error": False,
                            }
                        ],
                    },
                    "uuid": f"r-{mid}",
                    "timestamp": ts,
                }
            )
        )
    return lines


def write_sessions(root: Path, sessions: int, events: int, cwd: str, first: int = 0) -> int:
    """Write sessions into root/projects/<project>/; returns bytes written."""
    project = root / "projects" / "-bench-repo"
    project.mkdir(parents=True, exist_ok=True)
    size = 0
    for index in range(first, first + sessions):
        data = b"\n".join(session_lines(index, events, cwd)) + b"\n"
        (project / f"bench-session-{index:05d}.jsonl").write_bytes(data)
        size += len(data)
    return size
