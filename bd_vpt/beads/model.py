"""What bd-vpt knows of a bead, whatever source told it: facts, status changes, problems.

Statuses follow bd (internal/types/types.go): open is active; in_progress, blocked and hooked
are work in progress; closed is done; deferred and pinned are frozen; `tombstone` marks a
deleted bead in exports before bd 0.50. Custom statuses (bd's `status.custom`) carry one of
those categories; `[outcomes] done_statuses` in config.toml adds statuses that mean done.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

WORKING = frozenset({"open", "in_progress", "blocked", "hooked"})
FROZEN = frozenset({"deferred", "pinned"})
DONE = frozenset({"closed"})
DELETED = "tombstone"


@dataclass(frozen=True)
class Statuses:
    """Which statuses mean done, working (a return to one after done is a reopen) or frozen;
    any other status is neither (a change to it is no close and no reopen)."""

    done: frozenset[str] = DONE
    working: frozenset[str] = WORKING
    frozen: frozenset[str] = FROZEN

    def with_custom(self, custom: dict[str, str], extra_done: list[str]) -> Statuses:
        """Add bd custom statuses ({name: category}) and config.toml's done statuses."""
        done = set(self.done) | {n for n, c in custom.items() if c == "done"} | set(extra_done)
        working = set(self.working) | {n for n, c in custom.items() if c in ("active", "wip")}
        frozen = set(self.frozen) | {n for n, c in custom.items() if c == "frozen"}
        return Statuses(frozenset(done), frozenset(working - done), frozenset(frozen - done))


@dataclass(frozen=True)
class Transition:
    """One change of a bead's status and/or assignee, from bd's own audit trail."""

    ts: str  # UTC, RFC 3339
    status: str | None  # the new status (None: the status did not change)
    old: str | None = None  # the status before, when the trail says it
    actor: str | None = None
    reason: str | None = None
    assignee: str | None = None  # the new assignee, when this change set one
    origin: str = ""  # path:line it came from
    skew_s: float = 0.0  # seconds added to the trail's time to make it UTC


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
    ephemeral: bool = False  # a wisp: `ephemeral: true` (export, bd) or `1` (backup era)
    pinned: bool = False
    deleted: bool = False  # a tombstone (deleted_at / status tombstone)
    parent: str | None = None
    has_children: bool = False
    transitions: list[Transition] = field(default_factory=list)
    done_statuses: frozenset[str] = DONE

    @property
    def closed(self) -> bool:
        return self.status in self.done_statuses and not self.deleted

    def snapshot(self) -> dict[str, Any]:
        return {
            "priority": self.priority,
            "type": self.type,
            "labels": sorted(self.labels),
            "title": self.title,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bead:
        """A bead from bd's JSON (bd list/show, a hook's stdin, an export or backup line).
        Raises KeyError/ValueError only when there is no usable id."""
        bead_id = data["id"]
        if not isinstance(bead_id, str) or not bead_id:
            raise ValueError("no id")
        priority = data.get("priority")
        labels = data.get("labels") or []
        status = _text(data.get("status"))
        parent = _text(data.get("parent"))
        for dep in data.get("dependencies") or []:
            if (
                isinstance(dep, dict)
                and dep.get("type") == "parent-child"
                and dep.get("issue_id") in (None, bead_id)
            ):
                parent = parent or _text(dep.get("depends_on_id"))
        return cls(
            id=bead_id,
            title=_text(data.get("title")),
            status=status,
            priority=priority if type(priority) is int and 0 <= priority <= 4 else None,
            type=_text(data.get("issue_type")) or _text(data.get("type")),
            labels=[str(x) for x in labels] if isinstance(labels, list) else [],
            assignee=_text(data.get("assignee")),
            closed_at=_text(data.get("closed_at")),
            close_reason=_text(data.get("close_reason")),
            closed_by_session=_text(data.get("closed_by_session")),
            updated_at=_text(data.get("updated_at")),
            ephemeral=data.get("ephemeral") in (True, 1),
            pinned=data.get("pinned") in (True, 1),
            deleted=status == DELETED or bool(data.get("deleted_at")),
            parent=parent,
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class Report:
    """What reading the sources skipped or could not read: never fatal, always named."""

    skipped: Counter[str] = field(default_factory=Counter)  # "memory lines in X" -> n
    problems: list[str] = field(default_factory=list)  # "path:line: what is wrong"
    notes: list[str] = field(default_factory=list)  # e.g. the skew found and corrected

    def problem(self, where: str, what: str) -> None:
        if len(self.problems) < 200:
            self.problems.append(f"{where}: {what}")
        else:
            self.skipped["further unreadable lines"] += 1

    def lines(self) -> list[str]:
        out = [f"skipped {n} {what}" for what, n in sorted(self.skipped.items())]
        return out + self.notes + self.problems
