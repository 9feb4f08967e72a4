"""Where bead facts can come from, known without loading the readers (beads/sources.py):
bd's binary, bd's config, and the files of every beads era. An `import` that finds none of
them needs no more of bd_vpt.beads."""

from __future__ import annotations

import os
from pathlib import Path

ERA_FILES = (".beads/issues.jsonl", ".beads/beads.jsonl", ".beads/bd.jsonl")
BACKUP_DIR = ".beads/backup"
INTERACTIONS = ".beads/interactions.jsonl"
BD_CONFIG = ".beads/config.yaml"
PRESENT = (*ERA_FILES, f"{BACKUP_DIR}/issues.jsonl", INTERACTIONS)  # any: the files are a source


def bd_binary() -> str | None:
    """The bd to run: $BD if set, else `bd` on PATH."""
    import shutil

    return shutil.which(os.environ.get("BD") or "bd")


def any_source(root: Path) -> bool:
    """Whether open_source(root) may find a source: bd, or a file of an era."""
    return bd_binary() is not None or any((root / name).is_file() for name in PRESENT)


def bd_config_value(root: Path, key: str) -> str | None:
    """A top-level scalar of .beads/config.yaml (bd's own config), or None."""
    import re

    try:
        text = (root / BD_CONFIG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    pattern = re.compile(rf"^{re.escape(key)}:[ \t]*[\"']?([^\"'#\n]*)", re.MULTILINE)
    match = pattern.search(text)
    value = match.group(1).strip() if match else ""
    return value or None
