"""The new importers' fixtures: each tool's on-disk format, written by
tests/fixtures/importers/make_fixtures.py, with placeholders the tests fill in."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from tests.helpers import Repo

FIXTURES = Path(__file__).with_name("fixtures") / "importers"


def install(tool: str, dest: Path, repo: Repo, **values: str) -> Path:
    """Copy a tool's fixture tree to dest, filling @CWD@ (the repository), @HASH@ (Gemini's
    sha256 of it) and any other @NAME@ given; an opencode.sql dump becomes opencode.db."""
    cwd = str(repo.root)
    fill = {"CWD": cwd, "HASH": hashlib.sha256(cwd.encode()).hexdigest(), **values}
    source = FIXTURES / tool
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        target = dest / path.relative_to(source)
        text = path.read_text()
        for name, value in fill.items():
            text = text.replace(f"@{name}@", value)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.name == "opencode.sql":
            con = sqlite3.connect(target.with_name("opencode.db"))
            con.executescript(text)
            con.commit()
            con.close()
        else:
            target.write_text(text)
    return dest


def ledger(repo: Repo) -> list[dict[str, Any]]:
    return [
        orjson.loads(x) for p in repo.shards() for x in p.read_bytes().splitlines() if x.strip()
    ]


def by_key(records: list[dict[str, Any]]) -> dict[tuple[str, str | None, str], dict[str, Any]]:
    """Records by (session, bead, model): each appears once in the fixtures."""
    found: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    for record in records:
        key = (record["session"], record["bead"], record["model"])
        assert key not in found, key
        found[key] = record
    return found
