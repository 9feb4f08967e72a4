"""What reports group by: the names only, so that the command line can offer them as choices
without importing the figures (`bd-vpt --help` starts fast)."""

from __future__ import annotations

GROUP_KEYS = ("agent", "bead", "model", "priority", "type", "label", "day", "week", "month")
TIME_KEYS = ("day", "week", "month")
BEAD_KEYS = ("bead", "priority", "type", "label")
