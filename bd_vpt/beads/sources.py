"""Bead facts (title, status, priority, type, labels, closes, reopens) at capture time.

One interface, several sources, the most reliable first (README: "Bead facts and bd"):
the `bd` binary (`BD` names another one; every call with a timeout), the git-tracked exports of
every era (.beads/issues.jsonl, beads.jsonl, bd.jsonl; lines whose `_type` is not `issue`,
schema headers and unreadable lines are skipped and counted), the backup era
(.beads/backup/{issues,labels,dependencies,events,config}.jsonl) and bd's audit trail
.beads/interactions.jsonl. Reports never call this: outcome records carry a snapshot, so a clone
without bd computes the same figures.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import orjson

from bd_vpt.beads import timeline
from bd_vpt.beads.model import Bead, Report, Statuses
from bd_vpt.beads.where import (
    BACKUP_DIR,
    BD_CONFIG,
    ERA_FILES,
    INTERACTIONS,
    PRESENT,
    bd_binary,
)
from bd_vpt.errors import VptError

BD_TIMEOUT_S = 30.0


class BeadSource(Protocol):
    name: str
    report: Report

    def all(self) -> dict[str, Bead]: ...

    def fingerprint(self) -> str:
        """Changes whenever any bead fact may have changed."""
        ...

    def get(self, bead_id: str) -> Bead | None: ...


def bd_timeout() -> float:
    try:
        return float(os.environ.get("BD_VPT_BD_TIMEOUT") or BD_TIMEOUT_S)
    except ValueError:
        return BD_TIMEOUT_S


def _unwrap(payload: object) -> list[dict[str, Any]]:
    """bd's JSON shapes: a bare array (legacy), an object (legacy `schema_version` inlined),
    or the BD_JSON_ENVELOPE=1 envelope {"schema_version": 1, "data": ...}."""
    if isinstance(payload, dict) and "data" in payload and "id" not in payload:
        payload = payload["data"]
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        raise ValueError("expected a JSON array or object")
    return [item for item in payload if isinstance(item, dict) and "id" in item]


def _beads(items: list[dict[str, Any]], where: str, report: Report) -> Iterator[Bead]:
    for i, item in enumerate(items, 1):
        try:
            yield Bead.from_json(item)
        except (KeyError, ValueError, TypeError):
            report.problem(f"{where}[{i}]", "a bead without an id")


class BdCli:
    """Bead facts from the bd binary."""

    name = "bd"

    def __init__(self, binary: str, cwd: Path, timeout: float | None = None) -> None:
        self.binary = binary
        self.cwd = cwd
        self.timeout = bd_timeout() if timeout is None else timeout
        self.report = Report()
        self._beads: dict[str, Bead] | None = None
        self._digest = ""

    def run(self, *args: str) -> str:
        command = f"bd {' '.join(args)}"
        try:
            proc = subprocess.run(
                [self.binary, *args],
                cwd=self.cwd,
                capture_output=True,
                text=True,
                check=False,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            raise VptError(
                f"`{command}` did not answer within {self.timeout:g} s",
                hint="is a bd/dolt server hung? set BD_VPT_BD_TIMEOUT=SECONDS to wait longer",
            ) from None
        except OSError as exc:
            raise VptError(f"`{command}` could not run: {exc}", hint="check $BD") from None
        if proc.returncode != 0:
            raise VptError(
                f"`{command}` failed (exit {proc.returncode}): "
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
            args = ("list", "--json", "--all", "--limit", "0")
            out = self.run(*args)
            self._digest = hashlib.sha1(out.encode()).hexdigest()
            try:
                items = _unwrap(orjson.loads(out))
            except (orjson.JSONDecodeError, ValueError) as exc:
                raise VptError(f"`bd list --json` printed unreadable JSON: {exc}") from None
            self._beads = {b.id: b for b in _beads(items, "bd list", self.report)}
        return self._beads

    def fingerprint(self) -> str:
        self.all()
        return "bd:" + self._digest

    def custom_statuses(self) -> dict[str, str]:
        """`bd statuses --json` custom_statuses as {name: category}; {} when bd cannot say
        (an older bd, or an error)."""
        try:
            payload = orjson.loads(self.run("statuses", "--json"))
        except (VptError, orjson.JSONDecodeError):
            return {}
        if isinstance(payload, dict) and isinstance(payload.get("data"), dict):
            payload = payload["data"]
        rows = payload.get("custom_statuses") if isinstance(payload, dict) else None
        return {
            str(row["name"]): str(row.get("category") or "unspecified")
            for row in rows or []
            if isinstance(row, dict) and isinstance(row.get("name"), str)
        }

    def get(self, bead_id: str) -> Bead | None:
        try:
            items = self._json("show", bead_id, "--json")
        except VptError:
            return None
        found = list(_beads(items, "bd show", self.report))
        return found[0] if found else None


Reader = Callable[[str], bytes | None]


def _lines(data: bytes | None, path: str, report: Report) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for number, line in enumerate((data or b"").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError:
            report.problem(f"{path}:{number}", "not JSON (skipped)")
            continue
        if isinstance(item, dict):
            out.append((number, item))
        else:
            report.problem(f"{path}:{number}", "not a JSON object (skipped)")
    return out


_CUSTOM = re.compile(r"^status\.custom:\s*[\"']?([^\"'#\n]*)", re.MULTILINE)


def parse_custom_statuses(value: str) -> dict[str, str]:
    """bd's `status.custom` ("name[:category],..."; no category: unspecified)."""
    out = {}
    for part in value.split(","):
        name, _, category = part.strip().partition(":")
        if name:
            out[name.strip()] = category.strip() or "unspecified"
    return out


class JsonlEras:
    """Bead facts from the git-tracked files of every beads era.

    Where several copies of a bead exist, the most recently updated wins. Closes and reopens
    come from interactions.jsonl (true UTC) where it names the bead, else from the backup
    era's events.jsonl (skew-corrected); the bead's own closed_at anchors the last close."""

    name = "jsonl"

    def __init__(self, read: Reader, done_statuses: list[str] | None = None) -> None:
        self.read = read
        self.extra_done = list(done_statuses or [])
        self.report = Report()
        self.statuses = Statuses()
        self._beads: dict[str, Bead] | None = None

    @classmethod
    def worktree(cls, root: Path, done_statuses: list[str] | None = None) -> JsonlEras:
        def read(path: str) -> bytes | None:
            file = root / path
            try:
                return file.read_bytes() if file.is_file() else None
            except OSError:
                return None

        return cls(read, done_statuses)

    @classmethod
    def at_commit(cls, root: Path, rev: str) -> JsonlEras:
        from bd_vpt.repo import show_file

        return cls(lambda path: show_file(root, rev, path))

    def files(self) -> list[str]:
        backup = [f"{BACKUP_DIR}/{n}.jsonl" for n in ("issues", "labels", "dependencies")]
        return [*ERA_FILES, *backup, f"{BACKUP_DIR}/events.jsonl", INTERACTIONS]

    def fingerprinted(self) -> list[str]:
        """Every file the fingerprint reads (the hook's stamp watches their stat data)."""
        return [*self.files(), BD_CONFIG, f"{BACKUP_DIR}/config.jsonl"]

    def fingerprint(self) -> str:
        digest = hashlib.sha1()
        for name in self.fingerprinted():
            data = self.read(name)
            digest.update(f"{name}\0{len(data) if data is not None else -1}\0".encode())
            digest.update(data or b"")
        return "jsonl:" + digest.hexdigest()

    def present(self) -> list[str]:
        return [n for n in PRESENT if self.read(n) is not None]

    def all(self) -> dict[str, Bead]:
        if self._beads is None:
            self._beads = self._load()
        return self._beads

    def get(self, bead_id: str) -> Bead | None:
        return self.all().get(bead_id)

    def custom_statuses(self) -> dict[str, str]:
        found: dict[str, str] = {}
        config = self.read(f"{BACKUP_DIR}/config.jsonl")
        for _, row in _lines(config, f"{BACKUP_DIR}/config.jsonl", Report()):
            if row.get("key") == "status.custom" and isinstance(row.get("value"), str):
                found.update(parse_custom_statuses(row["value"]))
        yaml = (self.read(BD_CONFIG) or b"").decode("utf-8", "replace")
        match = _CUSTOM.search(yaml)
        if match:
            found.update(parse_custom_statuses(match.group(1)))
        return found

    def _issue_lines(self, name: str) -> Iterator[dict[str, Any]]:
        for number, item in _lines(self.read(name), name, self.report):
            kind = item.get("_type")
            if kind not in (None, "issue"):
                self.report.skipped[f"{kind} lines in {name}"] += 1
            elif "_schema" in item and "id" not in item:
                self.report.skipped[f"header lines in {name}"] += 1
            elif not isinstance(item.get("id"), str) or not item["id"]:
                self.report.problem(f"{name}:{number}", "a line without an id (skipped)")
            else:
                yield item

    def _load(self) -> dict[str, Bead]:
        self.statuses = Statuses().with_custom(self.custom_statuses(), self.extra_done)
        beads: dict[str, Bead] = {}

        def offer(bead: Bead) -> None:
            held = beads.get(bead.id)
            newer = held is None or (timeline.moment(bead.updated_at) or timeline._EPOCH) >= (
                timeline.moment(held.updated_at) or timeline._EPOCH
            )
            if held is not None and newer and not bead.labels:
                bead.labels = held.labels
            if newer:
                beads[bead.id] = bead

        for name in ERA_FILES:
            for item in self._issue_lines(name):
                offer(Bead.from_json(item))
        labels: dict[str, list[str]] = {}
        path = f"{BACKUP_DIR}/labels.jsonl"
        for _, row in _lines(self.read(path), path, self.report):
            labels.setdefault(str(row.get("issue_id")), []).append(str(row.get("label")))
        parents: dict[str, str] = {}
        path = f"{BACKUP_DIR}/dependencies.jsonl"
        for _, row in _lines(self.read(path), path, self.report):
            if row.get("type") == "parent-child" and isinstance(row.get("depends_on_id"), str):
                parents[str(row.get("issue_id"))] = row["depends_on_id"]
        for item in self._issue_lines(f"{BACKUP_DIR}/issues.jsonl"):
            bead = Bead.from_json(item)
            bead.labels = bead.labels or labels.get(bead.id, [])
            bead.parent = bead.parent or parents.get(bead.id)
            offer(bead)
        self._attach_trails(beads)
        for bead in beads.values():
            bead.done_statuses = self.statuses.done
            if bead.parent and bead.parent in beads:
                beads[bead.parent].has_children = True
        return beads

    def _attach_trails(self, beads: dict[str, Bead]) -> None:
        path = f"{BACKUP_DIR}/events.jsonl"
        events = timeline.backup_events(
            _lines(self.read(path), path, self.report), path, beads, self.report
        )
        trail = timeline.interactions(
            _lines(self.read(INTERACTIONS), INTERACTIONS, self.report), INTERACTIONS, self.report
        )
        trail_only = not beads  # the Dolt era with no export: the trail is all there is
        for bead_id in set(events) | set(trail):
            bead = beads.get(bead_id)
            if bead is None and not trail_only:
                # deleted or purged (a wisp, another rig's bead): no facts, not counted
                self.report.skipped["beads in the audit trail but in no export (deleted)"] += 1
                continue
            if bead is None:
                bead = beads[bead_id] = Bead(id=bead_id)
            bead.transitions = trail.get(bead_id) or events.get(bead_id) or []
        for bead in beads.values():
            if bead.status is None and bead.transitions:
                last = [t for t in bead.transitions if t.status]
                bead.status = last[-1].status if last else None


class Combined:
    """bd for the facts, the files for the audit trail (bd has no history command)."""

    def __init__(self, cli: BdCli, files: JsonlEras) -> None:
        self.name = "bd"
        self.cli, self.files = cli, files
        self.report = files.report
        self._beads: dict[str, Bead] | None = None

    def all(self) -> dict[str, Bead]:
        if self._beads is None:
            beads = dict(self.cli.all())
            trails = self.files.all()
            custom = self.cli.custom_statuses()  # bd's own config (the Dolt config table)
            if custom:
                self.files.statuses = self.files.statuses.with_custom(custom, [])
            self.report.problems.extend(self.cli.report.problems)
            unknown = [b for b_id, b in trails.items() if b_id not in beads and b.transitions]
            if unknown:  # deleted in bd (or wisps bd list leaves out): no facts, not counted
                self.report.skipped["beads in the audit trail that bd does not list"] = len(unknown)
            for bead in beads.values():
                bead.done_statuses = self.files.statuses.done
                known = trails.get(bead.id)
                if known is not None:
                    bead.transitions = known.transitions
                    bead.parent = bead.parent or known.parent
            for bead in beads.values():
                if bead.parent and bead.parent in beads:
                    beads[bead.parent].has_children = True
            self._beads = beads
        return self._beads

    @property
    def statuses(self) -> Statuses:
        self.all()
        return self.files.statuses

    def fingerprint(self) -> str:
        return self.cli.fingerprint() + "+" + self.files.fingerprint()

    def get(self, bead_id: str) -> Bead | None:
        return self.all().get(bead_id)


def open_source(root: Path, done_statuses: list[str] | None = None) -> BeadSource | None:
    """bd (with the audit trail from the files) when it answers, else the files; None when
    there is neither."""
    eras = JsonlEras.worktree(root, done_statuses)
    binary = bd_binary()
    if binary is not None:
        cli = BdCli(binary, root)
        try:
            cli.all()
        except VptError as exc:
            eras.report.notes.append(f"bd did not answer ({exc.message}); read the files")
        else:
            return Combined(cli, eras)
    return eras if eras.present() else None


def statuses_of(source: BeadSource) -> Statuses:
    found = getattr(source, "statuses", None)
    return found if isinstance(found, Statuses) else Statuses()


def lookup(root: Path, bead_id: str) -> Bead | None:
    """One bead's facts: `bd show` when bd is there, else the files."""
    binary = bd_binary()
    if binary is not None:
        bead = BdCli(binary, root).get(bead_id)
        if bead is not None:
            return bead
    return JsonlEras.worktree(root).get(bead_id)
