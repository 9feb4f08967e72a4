"""Claude Code records built apart, in runs of files (capture/apart.py), against the same
transcripts read and built in one process: the same records, figures and counts; and the
cases where building apart could differ (a session or a message in two runs, a price by time
of day) give nothing, so that the import reads the usual way."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from bd_vpt.capture import apart, claude_code
from bd_vpt.capture.transcripts import Attribution, Stats, build_records
from bd_vpt.config import Config
from bd_vpt.economics.pricing import RateCards
from bd_vpt.ledger.records import parse_ts
from bench.agents import session_lines
from tests.helpers import Repo
from tests.test_import_golden import priced_lines
from tests.test_import_reading import grow, import_json, ledger, start_over, usage_line


def write_sessions(home: Path, cwd: str, seed: int) -> list[Path]:
    """Sessions of one file each (sidechains, bead windows), of random lengths, some lines
    of other projects, priced lines of several models and days (tiered prices, a model no
    one prices, one priced in config.toml)."""
    rnd = random.Random(seed)
    project = home / "projects" / "-repo"
    project.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(rnd.randint(5, 9)):
        lines = session_lines(index, rnd.randint(20, 160), cwd, seed=seed)
        if index == 2:
            lines = [line.replace(cwd.encode(), b"/elsewhere") for line in lines]
        path = project / f"s{index}.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        paths.append(path)
    path = project / "priced.jsonl"
    path.write_bytes(b"\n".join(priced_lines(cwd)) + b"\n")
    return [*paths, path]


def config() -> Config:
    return Config(prices={"in-house-7b": {"input": 0.5, "output": 1.5}})


def together(
    paths: list[Path], allowed: list[str] | None, marks: dict[str, Any], since: Any = None
) -> tuple[list[dict[str, Any]], Stats, dict[str, str | None], RateCards]:
    """The usual way: every file read in one process, then every record built."""
    stats = Stats()
    sessions = claude_code.merged([claude_code.scan_file(p, allowed) for p in paths], stats)
    extra = Attribution(env_bead="bd-env")
    cards = RateCards(config())
    records = build_records(
        sessions, extra, marks, cards, actor="a", source="claude-code", stats=stats, since=since
    )
    return records, stats, extra.ends, cards


def without_ids(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "id"} for r in records]


@pytest.mark.parametrize("jobs", ["2", "3"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_records_built_apart_are_those_built_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str, seed: int
) -> None:
    cwd = str(tmp_path / "work")
    paths = write_sessions(tmp_path / "claude", cwd, seed)
    monkeypatch.setenv("BD_VPT_JOBS", jobs)
    marks = {"bench-session-00001": (parse_ts("2026-10-01T03:10:00Z"), "msg_00001_000030")}
    since = parse_ts("2026-10-01T01:00:00Z") if seed == 4 else None
    for allowed in (None, [cwd]):
        records, stats, ends, cards = together(paths, allowed, marks, since)
        built = apart.build(
            paths,
            allowed,
            Attribution(env_bead="bd-env"),
            marks,
            RateCards(config()),
            actor="a",
            source="claude-code",
            since=since,
        )
        assert built is not None
        assert without_ids(built.records) == without_ids(records) and records
        assert built.stats == stats
        assert built.ends == ends
        assert built.made == cards.made and built.unknown == cards.unknown
        assert built.sessions == set().union(*stats.file_sessions.values())
        assert stats.already_imported > 0
        assert ("other project" in stats.skipped) == (allowed is not None)


def test_what_could_differ_apart_is_built_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message copied into another file, a session in two files, a model priced by the
    time of day: nothing built apart (None)."""
    monkeypatch.setenv("BD_VPT_JOBS", "2")
    cwd = str(tmp_path / "work")
    home = tmp_path / "claude"
    paths = write_sessions(home, cwd, 5)

    def built(extra: list[bytes]) -> apart.Built | None:
        path = home / "projects" / "-repo" / "zz.jsonl"
        path.write_bytes(b"\n".join(extra) + b"\n")
        return apart.build(
            [*paths, path],
            None,
            Attribution(),
            {},
            RateCards(config()),
            actor="a",
            source="claude-code",
            since=None,
        )

    assert built([usage_line(mid="new-1", sessionId="new")]) is not None
    copy = session_lines(0, 20, cwd, seed=5)[-1]
    entry = orjson.loads(copy)
    entry["sessionId"] = "another"
    assert built([orjson.dumps(entry)]) is None
    assert built([usage_line(mid="new-2", sessionId="bench-session-00000")]) is None
    assert built([usage_line(mid="new-3", sessionId="new", model="deepseek-chat")]) is None


def test_an_import_built_apart_writes_the_serial_ledger(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cold, then after the transcripts grow (read from where they stopped, the usual way),
    the same ledger and the same figures with one process and with workers building."""
    home = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    config = repo.root / ".beads" / "vpt" / "config.toml"
    config.write_text(config.read_text() + '\n[prices."in-house-7b"]\ninput = 0.5\noutput = 1.5\n')
    taken: list[bool] = []
    build = apart.build

    def spied(*args: Any, **kwargs: Any) -> apart.Built | None:
        found = build(*args, **kwargs)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(apart, "build", spied)
    runs = []
    for jobs in ("1", "2"):
        shutil.rmtree(home, ignore_errors=True)
        start_over(repo)
        write_sessions(home, str(repo.root), seed=6)
        found = [import_json(jobs, monkeypatch)]
        for step in range(2):
            grow(home, str(repo.root), step)
            found.append(import_json(jobs, monkeypatch))
        runs.append((ledger(repo), found))
    assert runs[0] == runs[1]
    assert taken == [False, True]  # cold only (then read from where they stopped)
    assert runs[0][1][0]["records"] and runs[0][1][0]["unknown_models"] == ["mystery-model-9"]
