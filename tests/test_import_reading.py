"""How `bd-vpt import claude-code` reads transcripts changes nothing it finds: the narrow
decoder (msgspec) against every line decoded in full and judged as before; files read in
worker processes against one serial pass; the local index of files already read (a hint)
against none at all, with transcripts appended, rewritten and truncated between imports."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from bd_vpt.capture import claude_code, claude_line
from bd_vpt.capture.transcripts import Message, Stats, entries
from bench.agents import session_lines
from tests.helpers import Repo, run_cli


def usage_line(**fields: Any) -> bytes:
    """A usage line of Claude Code's shape, with fields replaced (None: left out)."""
    entry: dict[str, Any] = {
        "type": "assistant",
        "sessionId": "E1",
        "timestamp": "2026-11-12T09:00:00.000Z",
        "requestId": "req-e",
        "cwd": fields.pop("cwd", "/somewhere"),
        "message": {
            "id": fields.pop("mid", "e"),
            "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "input": {"command": "bd close bd-9"}}],
            "usage": {"input_tokens": 3, "output_tokens": 4, "cache_read_input_tokens": 5},
        },
    }
    for key, value in fields.items():
        where = entry["message"] if key in ("model", "content", "usage", "id") else entry
        if value is None:
            where.pop(key, None)
        else:
            where[key] = value
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()


def odd_lines(cwd: str) -> list[bytes]:
    """Lines of every shape the narrow decoder must hand over to the full one, or judge the
    same way itself: each under its own message id, so each counts on its own."""
    big = 2**64 + 5
    lines = [
        usage_line(mid="o1", usage={"input_tokens": 2**63 + 1, "output_tokens": 1}),
        usage_line(mid="o2", usage={"input_tokens": big, "output_tokens": 1}),
        usage_line(mid="o3", usage={"input_tokens": True, "output_tokens": 1}),
        usage_line(mid="o4", usage={"input_tokens": 1.0, "output_tokens": 1}),
        usage_line(
            mid="o5", usage={"input_tokens": 1, "output_tokens": 2, "cache_read_input_tokens": "9"}
        ),
        usage_line(mid="o6", usage={"input_tokens": 1, "output_tokens": 2, "cache_creation": [1]}),
        usage_line(
            mid="o7",
            usage={
                "input_tokens": 1,
                "output_tokens": 2,
                "cache_creation_input_tokens": 50,
                "cache_creation": {"ephemeral_1h_input_tokens": 30},
            },
        ),
        usage_line(
            mid="o8",
            usage={"input_tokens": -4, "output_tokens": 2, "cache_creation": {"x": 1}},
        ),
        usage_line(mid="o9", content="bd close bd-1 as plain text"),
        usage_line(mid="o10", content=[7, {"type": "tool_use", "input": "bd close bd-2"}]),
        usage_line(mid="o11", content=[{"type": "tool_use", "input": {"command": 5}}]),
        usage_line(mid="o12", usage=17),
        usage_line(mid="o13", usage=None),
        usage_line(mid="o14", model="<synthetic>"),
        usage_line(mid="o15", model=None),
        usage_line(mid="o16", sessionId=None),
        usage_line(mid="o17", timestamp="2026-11-12T11:00:00+02:00"),
        usage_line(mid="o18", timestamp=" 2026-11-12T09:30:00.000Z"),
        usage_line(mid="o19", timestamp="2026-11-12T25:00:00.000Z"),
        usage_line(mid="o20", timestamp="2026-11-12"),
        usage_line(mid="o21", timestamp=20261112),
        usage_line(mid="o22", cwd=None),
        usage_line(mid="o23", cwd=7),
        usage_line(mid="o24", cwd=cwd + "/sub"),
        usage_line(mid="o25", cwd=cwd + "-other"),
        usage_line(mid=None),  # no message id: keyed by file and line
        usage_line(mid="o27", requestId=3),
        usage_line(mid="o28", isSidechain="yes"),
        usage_line(mid="o29", isSidechain=True),
        usage_line(
            mid="o30", content=[{"type": "tool_use", "input": {"command": "bd close ✓ bd-3"}}]
        ),
        orjson.dumps([{"usage": {"input_tokens": 1}}]),
        orjson.dumps({"message": [1, 2], "usage": 1}),
        orjson.dumps({"message": None, "usage": 1}),
        b'{"type":"assistant","\\u0075sage":{"input_tokens":1}}',
        b"   ",
        b"",
    ]
    raw = usage_line(mid="o31", cwd=cwd)
    lines.append(raw[:-1] + b',"note":"\xff\xfe"}')  # not UTF-8 (a field never read)
    lines.append(raw.replace(b'"o31"', b'"o32"')[:-1] + b',"note":"\\ud800"}')  # lone surrogate
    lines.append(raw.replace(b'"o31"', b'"o33"')[:-1] + b',"note":"caf\xc3\xa9"}')  # UTF-8
    lines.append(raw.replace(b'"o31"', b'"o34"')[:-1] + b',"note":1e5}')
    lines.append(raw.replace(b'"o31"', b'"o35"')[:-1] + b',"sessionId":"E2"}')  # key twice
    lines.append(raw.replace(b'"o31"', b'"o36"')[:-1] + b",}")  # malformed
    lines.append(raw.replace(b'"o31"', b'"o37"')[:-1] + b',"n":12345678901234567890123}')
    return [line.replace(b"/somewhere", cwd.encode()) for line in lines]


def write_corpus(home: Path, cwd: str, seed: int, writable: bool = False) -> list[Path]:
    """A few bench sessions (sidechains, windows opened and closed by bd commands), the odd
    lines, and copies of messages in other files (the largest copy wins, commands merge).
    writable: without the count the ledger refuses (over 10^15 tokens: the import stops)."""
    rnd = random.Random(seed)
    project = home / "projects" / "-repo"
    project.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(4):
        lines = session_lines(index, rnd.randint(60, 140), cwd, seed=seed)
        path = project / f"s{index}.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        paths.append(path)
    odd = project / "odd.jsonl"
    lines = [line for line in odd_lines(cwd) if not (writable and b'"o1"' in line)]
    odd.write_bytes(b"\n".join(lines) + b'\n{"type":"assistant","message":{"usage"')
    paths.append(odd)
    copies = []
    for line in rnd.sample(session_lines(1, 100, cwd, seed=seed), 30):
        entry = orjson.loads(line)
        if "usage" not in entry["message"]:
            continue
        entry["message"]["usage"]["output_tokens"] += rnd.choice((-5, 0, 5))
        entry["isSidechain"] = rnd.choice((True, False))
        entry["message"]["content"] = [
            {
                "type": "tool_use",
                "input": {"command": f"bd update bench-x-{rnd.randint(1, 3)} --claim"},
            }
        ]
        copies.append(orjson.dumps(entry))
    extra = project / "sub" / "copies.jsonl"
    extra.parent.mkdir()
    extra.write_bytes(b"\n".join(copies) + b"\n")
    paths.append(extra)
    return paths


def serial_reference(
    paths: list[Path], allowed: list[str] | None
) -> tuple[dict[str, list[Message]], Stats]:
    """The importer's reading as it was: each line decoded in full and judged by _message(),
    one pass over every file keeping the largest copy of each message."""
    stats = Stats()
    best: dict[str, Message] = {}
    known: dict[str, bool] = {}
    for path in paths:
        for number, entry in entries(path, stats, needle=b'"usage"'):
            message = claude_line.message_of(entry, path, number, allowed, stats, known)
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
    return sessions, stats


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reading_equals_decoding_every_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str, seed: int
) -> None:
    cwd = str(tmp_path / "work")
    paths = write_corpus(tmp_path / "claude", cwd, seed)
    monkeypatch.setenv("BD_VPT_JOBS", jobs)  # 2: worker processes, whatever the size
    for allowed in (None, [cwd]):
        want, want_stats = serial_reference(paths, allowed)
        stats = Stats()
        got = claude_code.scan(paths, allowed, stats)
        assert got == want  # (the same messages, fields, commands, order)
        assert list(got) == list(want)
        assert sorted(stats.file_reads) == sorted(map(str, paths))  # (where each read stopped)
        assert replace(stats, file_reads={}) == want_stats
        assert stats.skipped["malformed JSON"] >= 3 and stats.duplicates > 30


def ledger(repo: Repo) -> list[dict[str, Any]]:
    """Every ledger line, in order, without its random id."""
    lines = [orjson.loads(x) for p in sorted(repo.shards()) for x in p.read_bytes().splitlines()]
    return [{k: v for k, v in line.items() if k != "id"} for line in lines]


def import_json(jobs: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("BD_VPT_JOBS", jobs)
    result = run_cli("import", "claude-code", "--format", "json")
    assert result.code == 0, result.err
    found: dict[str, Any] = orjson.loads(result.out)
    for record in found.get("records", []):
        record.pop("id")
    return found


def start_over(repo: Repo) -> None:
    for shard in repo.shards():
        shard.unlink()
    shutil.rmtree(repo.root / ".git" / "bd-vpt", ignore_errors=True)


def test_parallel_import_writes_the_serial_ledger(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    write_corpus(home, str(repo.root), seed=5, writable=True)
    serial = import_json("1", monkeypatch)
    first = ledger(repo)
    start_over(repo)
    parallel = import_json("2", monkeypatch)
    assert ledger(repo) == first and first
    assert parallel == serial


def grow(home: Path, cwd: str, step: int) -> None:
    """Change the transcripts between imports: append to one, rewrite one shorter (other
    content, same name), truncate one mid-line, add one."""
    project = home / "projects" / "-repo"
    s0 = project / "s0.jsonl"
    with s0.open("ab") as out:
        out.write(b"\n".join(session_lines(0, 60 + 20 * step, cwd, seed=9)[-15:]) + b"\n")
    s1 = project / "s1.jsonl"
    s1.write_bytes(b"\n".join(session_lines(1, 30, cwd, seed=10 + step)) + b"\n")
    s2 = project / "s2.jsonl"
    data = s2.read_bytes()
    s2.write_bytes(data[: len(data) * 2 // 3])
    new = project / f"n{step}.jsonl"
    new.write_bytes(b"\n".join(session_lines(10 + step, 40, cwd, seed=step)) + b"\n")
    late = [  # new messages of s3's session, later: read from where the last import stopped
        usage_line(
            mid=f"late-{step}-{n}",
            sessionId="bench-session-00003",
            requestId=f"rl-{step}-{n}",
            timestamp=f"2026-12-0{step + 1}T10:0{n}:00.000Z",
            cwd=cwd,
            content=[
                {"type": "tool_use", "input": {"command": ("ls", "bd close bench-3-1")[n % 2]}}
            ],
        )
        for n in range(4)
    ]
    with (project / "s3.jsonl").open("ab") as out:
        out.write(b"\n".join(late) + b"\n")


def test_index_of_files_read_is_only_a_hint(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Imports between changes of the transcripts write the same ledger whether the index
    of files already read is kept, or removed before each import."""
    home = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    cwd = str(repo.root)
    state = repo.root / ".git" / "bd-vpt"
    ledgers = []
    for keep in (True, False):
        shutil.rmtree(home, ignore_errors=True)
        start_over(repo)
        write_corpus(home, cwd, seed=7, writable=True)
        summaries = []
        for step in range(3):
            if not keep:
                for index in state.glob("imported-*.json"):
                    index.unlink()
            found = import_json("1", monkeypatch)
            summaries.append((found["records"], found["tokens"]))
            if keep and step:
                assert found["skipped"]["unchanged file"] >= 1
            grow(home, cwd, step)
        ledgers.append((ledger(repo), summaries))
    assert ledgers[0] == ledgers[1]
    assert len(ledgers[0][0]) > 20


def test_a_session_in_several_files_is_read_whole(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subagent's transcript (same session, a file of its own) closes the bead its parent
    claimed; when only the parent's file grows, the unchanged subagent file is read again
    (its bd close still ends the window), as a full read would."""
    home = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    cwd = str(repo.root)
    project = home / "projects" / "-repo"
    use = {"input_tokens": 10, "output_tokens": 5}

    def line(ts: str, mid: str, command: str, sidechain: bool = False) -> bytes:
        block = {"type": "tool_use", "input": {"command": command}}
        return usage_line(
            mid=mid,
            sessionId="P",
            timestamp=ts,
            requestId=f"r-{mid}",
            cwd=cwd,
            usage=use,
            content=[block],
            isSidechain=sidechain,
        )

    parent = [
        line("2026-11-12T10:00:00.000Z", "p1", "bd update bd-7 --claim"),
        line("2026-11-12T10:02:00.000Z", "p2", "ls"),
    ]
    agent = [line("2026-11-12T10:01:00.000Z", "a1", "bd close bd-7", sidechain=True)]
    later = [line("2026-11-12T10:05:00.000Z", "p3", "ls")]
    state = repo.root / ".git" / "bd-vpt"
    results = []
    for keep in (True, False):
        shutil.rmtree(home, ignore_errors=True)
        start_over(repo)
        project.mkdir(parents=True)
        (project / "P.jsonl").write_bytes(b"\n".join(parent) + b"\n")
        (project / "agent-a.jsonl").write_bytes(b"\n".join(agent) + b"\n")
        import_json("1", monkeypatch)
        with (project / "P.jsonl").open("ab") as out:
            out.write(b"\n".join(later) + b"\n")
        if not keep:
            for index in state.glob("imported-*.json"):
                index.unlink()
        second = import_json("1", monkeypatch)
        assert "unchanged file" not in second["skipped"]
        results.append(ledger(repo))
    assert results[0] == results[1]
    assert [r["bead"] for r in results[0]] == ["bd-7", None, None]  # p1+a1, p2; p3


def test_a_grown_transcript_is_read_from_where_it_stopped(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines appended to a transcript are read alone (the bead window open at the old end
    carried over), and the ledger is the one a whole read gives; a copy of a message from
    before that point (same id, later time) makes the import read it whole."""
    home = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    cwd = str(repo.root)
    transcript = home / "projects" / "-repo" / "G.jsonl"
    state = repo.root / ".git" / "bd-vpt"

    def line(n: int, command: str = "ls", out: int = 5, ts: str = "") -> bytes:
        return usage_line(
            mid=f"g{n}",
            sessionId="G",
            requestId=f"rg{n}",
            timestamp=ts or f"2026-11-12T10:{n:02d}:00.000Z",
            cwd=cwd,
            usage={"input_tokens": 10, "output_tokens": out},
            content=[{"type": "tool_use", "input": {"command": command}}],
        )

    head = [line(0, "bd update bd-5 --claim"), line(1), line(2)]
    appended = [line(3), line(4, "bd close bd-5"), line(5)]
    copy = [line(2, out=50, ts="2026-11-12T10:02:30.000Z")]
    found: dict[tuple[bool, str], tuple[list[dict[str, Any]], int]] = {}
    for keep in (True, False):
        for name, more in (("appended", appended), ("copied", copy + appended)):
            shutil.rmtree(home, ignore_errors=True)
            start_over(repo)
            transcript.parent.mkdir(parents=True)
            transcript.write_bytes(b"\n".join(head) + b"\n")
            import_json("1", monkeypatch)
            with transcript.open("ab") as out:
                out.write(b"\n".join(more) + b"\n")
            if not keep:
                for index in state.glob("imported-*.json"):
                    index.unlink()
            second = import_json("1", monkeypatch)
            found[(keep, name)] = (ledger(repo), second["lines"])
    for name in ("appended", "copied"):
        assert found[(True, name)][0] == found[(False, name)][0], name
    assert [found[(True, "appended")][1], found[(False, "appended")][1]] == [3, 6]
    assert [found[(True, "copied")][1], found[(False, "copied")][1]] == [7, 7]
    assert [(r["bead"], r["messages"]) for r in found[(True, "appended")][0]] == [
        ("bd-5", 3),
        ("bd-5", 2),
        (None, 1),
    ]


def test_a_message_time_is_placed_on_its_utc_day_however_it_is_written() -> None:
    from datetime import UTC, datetime

    from bd_vpt.capture.transcripts import Message, stamp_day

    assert stamp_day("2026-11-12T09:30:00.000Z") == "2026-11-12"
    for odd in (" 2026-11-12T09:30:00.000Z", "2026-11-12T09:30:00+00:00", "2026-11-12", ""):
        assert stamp_day(odd) == ""  # the day comes from the parsed moment
    moment = datetime(2026, 11, 12, 9, 30, tzinfo=UTC)
    message = Message("k", "s", moment, "m", {"input": 1}, day=stamp_day(" 2026-11-12T09:30Z"))
    assert message.day == "2026-11-12"
