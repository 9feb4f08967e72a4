"""Bead facts (title, status, priority, type, labels, closes, reopens) at capture time.

One interface, several sources tried in order: the `bd` binary (`BD` names another one),
then the git-tracked JSONL of every beads era: .beads/issues.jsonl, .beads/beads.jsonl,
.beads/bd.jsonl, and the Dolt-era .beads/backup/{issues,labels,events}.jsonl. Reports never
call this: outcome records carry a snapshot, so a clone without bd computes the same figures.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from bd_vpt.errors import VptError

ERA_FILES = (".beads/issues.jsonl", ".beads/beads.jsonl", ".beads/bd.jsonl")
BACKUP_DIR = ".beads/backup"


@dataclass(frozen=True)
class BeadEvent:
    kind: str  # closed, reopened, status_changed, ...
    ts: str
    actor: str | None


@dataclass
class Bead:
    id: str
    title: str | None = None
    status: str | None = None
    priority: int | None = None
    type: str | None = None
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    closed_at: str | None = None
    close_reason: str | None = None
    closed_by_session: str | None = None
    updated_at: str | None = None
    events: list[BeadEvent] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    def snapshot(self) -> dict[str, Any]:
        return {
            "priority": self.priority,
            "type": self.type,
            "labels": sorted(self.labels),
            "title": self.title,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bead:
        priority = data.get("priority")
        labels = data.get("labels") or []
        return cls(
            id=str(data["id"]),
            title=data.get("title"),
            status=data.get("status"),
            priority=priority if type(priority) is int and 0 <= priority <= 4 else None,
            type=data.get("issue_type") or data.get("type"),
            labels=[str(x) for x in labels] if isinstance(labels, list) else [],
            assignee=data.get("assignee") or None,
            closed_at=data.get("closed_at") or None,
            close_reason=data.get("close_reason") or None,
            closed_by_session=data.get("closed_by_session") or None,
            updated_at=data.get("updated_at") or None,
        )


class BeadSource(Protocol):
    name: str

    def all(self) -> dict[str, Bead]: ...

    def fingerprint(self) -> str:
        """Changes whenever any bead fact may have changed."""
        ...

    def get(self, bead_id: str) -> Bead | None: ...


def bd_binary() -> str | None:
    """The bd to run: $BD if set, else `bd` on PATH."""
    return shutil.which(os.environ.get("BD") or "bd")


def _unwrap(payload: object) -> list[dict[str, Any]]:
    """bd's JSON shapes: a bare array (legacy), an object, or the BD_JSON_ENVELOPE=1
    envelope {"schema_version": 1, "data": ...}."""
    if isinstance(payload, dict) and "data" in payload and "id" not in payload:
        payload = payload["data"]
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        raise ValueError("expected a JSON array or object")
    return [item for item in payload if isinstance(item, dict) and "id" in item]


class BdCli:
    """Bead facts from the bd binary."""

    name = "bd"

    def __init__(self, binary: str, cwd: Path) -> None:
        self.binary = binary
        self.cwd = cwd
        self._beads: dict[str, Bead] | None = None
        self._digest = ""

    def run(self, *args: str) -> str:
        proc = subprocess.run(
            [self.binary, *args], cwd=self.cwd, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise VptError(
                f"`bd {' '.join(args)}` failed (exit {proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()}",
                hint="fix bd first; bd-vpt writes nothing when bd fails",
            )
        return proc.stdout

    def _json(self, *args: str) -> list[dict[str, Any]]:
        out = self.run(*args)
        try:
            return _unwrap(orjson.loads(out))
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise VptError(f"`bd {' '.join(args)}` printed unreadable JSON: {exc}") from None

    def all(self) -> dict[str, Bead]:
        if self._beads is None:
            out = self.run("list", "--json", "--all", "--limit", "0")
            self._digest = hashlib.sha1(out.encode()).hexdigest()
            try:
                items = _unwrap(orjson.loads(out))
            except (orjson.JSONDecodeError, ValueError) as exc:
                raise VptError(f"`bd list --json` printed unreadable JSON: {exc}") from None
            self._beads = {b.id: b for b in map(Bead.from_json, items)}
        return self._beads

    def fingerprint(self) -> str:
        self.all()
        return "bd:" + self._digest

    def get(self, bead_id: str) -> Bead | None:
        try:
            items = self._json("show", bead_id, "--json")
        except VptError:
            return None
        return Bead.from_json(items[0]) if items else None


Reader = Callable[[str], bytes | None]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _moment(text: str | None) -> datetime:
    from bd_vpt.ledger.records import parse_ts

    try:
        return parse_ts(text) if text else _EPOCH
    except ValueError:
        return _EPOCH


def _jsonl(data: bytes | None) -> list[dict[str, Any]]:
    out = []
    for line in (data or b"").splitlines():
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a bead export is not ours to police; skip what does not parse
        if isinstance(item, dict):
            out.append(item)
    return out


class JsonlEras:
    """Bead facts from the git-tracked JSONL files of every beads era.

    Where several eras are present, each bead's most recently updated copy wins; events
    (closes, reopens, with the acting agent) come from the backup era's events.jsonl.
    """

    name = "jsonl"

    def __init__(self, read: Reader) -> None:
        self.read = read
        self._beads: dict[str, Bead] | None = None

    @classmethod
    def worktree(cls, root: Path) -> JsonlEras:
        def read(path: str) -> bytes | None:
            file = root / path
            return file.read_bytes() if file.is_file() else None

        return cls(read)

    @classmethod
    def at_commit(cls, root: Path, rev: str) -> JsonlEras:
        from bd_vpt.repo import show_file

        return cls(lambda path: show_file(root, rev, path))

    def fingerprint(self) -> str:
        digest = hashlib.sha1()
        for name in (
            *ERA_FILES,
            *(f"{BACKUP_DIR}/{n}.jsonl" for n in ("issues", "labels", "events")),
        ):
            data = self.read(name)
            digest.update(f"{name}\0{len(data) if data is not None else -1}\0".encode())
            digest.update(data or b"")
        return "jsonl:" + digest.hexdigest()

    def present(self) -> list[str]:
        names = [*ERA_FILES, f"{BACKUP_DIR}/issues.jsonl"]
        return [n for n in names if self.read(n) is not None]

    def all(self) -> dict[str, Bead]:
        if self._beads is None:
            self._beads = self._load()
        return self._beads

    def get(self, bead_id: str) -> Bead | None:
        return self.all().get(bead_id)

    def _load(self) -> dict[str, Bead]:
        beads: dict[str, Bead] = {}

        def offer(bead: Bead) -> None:
            held = beads.get(bead.id)
            if held is None or _moment(bead.updated_at) >= _moment(held.updated_at):
                if held is not None and not bead.labels:
                    bead.labels = held.labels
                beads[bead.id] = bead

        for name in ERA_FILES:
            for item in _jsonl(self.read(name)):
                offer(Bead.from_json(item))
        labels: dict[str, list[str]] = {}
        for item in _jsonl(self.read(f"{BACKUP_DIR}/labels.jsonl")):
            labels.setdefault(str(item.get("issue_id")), []).append(str(item.get("label")))
        for item in _jsonl(self.read(f"{BACKUP_DIR}/issues.jsonl")):
            bead = Bead.from_json(item)
            bead.labels = bead.labels or labels.get(bead.id, [])
            offer(bead)
        for item in _jsonl(self.read(f"{BACKUP_DIR}/events.jsonl")):
            owner = beads.get(str(item.get("issue_id")))
            if owner is not None and isinstance(item.get("created_at"), str):
                owner.events.append(
                    BeadEvent(
                        kind=str(item.get("event_type")),
                        ts=item["created_at"],
                        actor=item.get("actor") or None,
                    )
                )
        for bead in beads.values():
            bead.events.sort(key=lambda e: _moment(e.ts))
        return beads


def open_source(root: Path) -> BeadSource | None:
    """The first source that answers: bd, else the JSONL eras; None when there is none."""
    binary = bd_binary()
    if binary is not None:
        cli = BdCli(binary, root)
        try:
            cli.all()
        except VptError:
            pass  # bd is there but not set up for this repo: fall back to the files
        else:
            return cli
    eras = JsonlEras.worktree(root)
    return eras if eras.present() else None


def lookup(root: Path, bead_id: str) -> Bead | None:
    """One bead's facts: `bd show` when bd is there, else the JSONL eras."""
    binary = bd_binary()
    if binary is not None:
        bead = BdCli(binary, root).get(bead_id)
        if bead is not None:
            return bead
    return JsonlEras.worktree(root).get(bead_id)
