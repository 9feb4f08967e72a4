"""Shared by the tests on fixtures cut from public beads repositories."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.helpers import Repo

REAL = Path(__file__).parent / "fixtures" / "real"


def load(repo: Repo, name: str) -> None:
    """Put a fixture's .beads/ into the repo and commit it."""
    shutil.copytree(REAL / name / ".beads", repo.root / ".beads", dirs_exist_ok=True)
    repo.commit_all(f"beads from {name}")


def sync(repo: Repo, *extra: str) -> dict[str, Any]:
    result = repo.ok("sync", "--since", "2025-01-01", "--format", "json", *extra).json()
    assert isinstance(result, dict)
    return result


def brief(records: object) -> list[tuple[str, str, str, str | None]]:
    assert isinstance(records, list)
    return [(r["bead"], r["result"], r["ts"], r.get("excluded")) for r in records]


def totals(repo: Repo, *extra: str) -> dict[str, Any]:
    document = repo.ok("summary", "--format", "json", *extra).json()
    assert isinstance(document, dict)
    return document
