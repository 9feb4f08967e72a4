"""What counts as a completion: config.toml `[outcomes]`.

- a close whose reason *starts with* a not-done phrase ("Duplicate of bd-9", "stale backlog",
  "won't fix") is `abandoned`, completion 0 ("removed 5 duplicate definitions" is real work);
- a wisp (an ephemeral bead) is not counted (`wisps = "exclude"`, or "count");
- a bead closed with children (an epic) weighs `parent_weight` (default 0: its children count,
  it does not count on top of them).
Every close not counted keeps a record with `excluded` naming the rule, so `summary` can say
how many closes it left out and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bd_vpt.beads.model import Bead
from bd_vpt.config import NOT_DONE  # the default not-done phrases: config owns defaults

_LEAD = re.compile(r"^[\s\W_]+")


@dataclass(frozen=True)
class Outcomes:
    not_done: tuple[str, ...] = NOT_DONE
    wisps: str = "exclude"
    parent_weight: float = 0.0
    done_statuses: tuple[str, ...] = ("closed",)
    problems: list[str] = field(default_factory=list, compare=False)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Outcomes:
        table = document.get("outcomes") or {}
        if not isinstance(table, dict):
            return cls()
        return cls(
            not_done=tuple(str(p).lower() for p in table.get("not_done", NOT_DONE)),
            wisps=str(table.get("wisps", "exclude")),
            parent_weight=float(table.get("parent_weight", 0.0)),
            done_statuses=tuple(str(s) for s in table.get("done_statuses", ("closed",))),
        )

    def not_done_phrase(self, reason: str | None) -> str | None:
        """The not-done phrase the reason starts with (case and leading punctuation aside)."""
        if not reason:
            return None
        text = _LEAD.sub("", reason.lower().replace("\u2019", "'"))
        for phrase in sorted(self.not_done, key=len, reverse=True):
            if text.startswith(phrase):
                rest = text[len(phrase) : len(phrase) + 1]
                if not rest or not (rest.isalnum() or rest == "_"):
                    return phrase
        return None

    def judge(self, bead: Bead, reason: str | None) -> tuple[str, float, str | None, str]:
        """(result, completion, excluded rule or None, why) for a close of bead."""
        if bead.ephemeral and self.wisps == "exclude":
            return "completed", 0.0, "wisp", "a wisp (ephemeral bead): not counted"
        phrase = self.not_done_phrase(reason)
        if phrase is not None:
            return "abandoned", 0.0, phrase, f"the close reason starts with {phrase!r}"
        if bead.has_children:
            if self.parent_weight <= 0:
                return "completed", 0.0, "parent", "closed with children: they count, it does not"
            weight = min(self.parent_weight, 1.0)
            return "completed", weight, None, f"closed with children: weighs {weight:g}"
        return "completed", 1.0, None, "closed"
