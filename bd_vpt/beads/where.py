"""Where bead facts can come from, known without loading the readers (beads/sources.py):
bd's binary, bd's config, and the files of every beads era. An `import` that finds none of
them needs no more of bd_vpt.beads."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing: the hook's check)
if TYPE_CHECKING:
    from pathlib import Path

ERA_FILES = (".beads/issues.jsonl", ".beads/beads.jsonl", ".beads/bd.jsonl")
BACKUP_DIR = ".beads/backup"
INTERACTIONS = ".beads/interactions.jsonl"
BD_CONFIG = ".beads/config.yaml"
PRESENT = (*ERA_FILES, f"{BACKUP_DIR}/issues.jsonl", INTERACTIONS)  # any: the files are a source


def bd_binary() -> str | None:
    """The bd to run: $BD if set, else `bd` on PATH."""
    return on_path(os.environ.get("BD") or "bd")


def on_path(name: str) -> str | None:
    """shutil.which(name) on POSIX: name itself when it holds a folder, else the first
    executable file of that name in $PATH. (shutil's import loads bz2 and lzma: a
    millisecond of every `import`.)"""
    if os.path.dirname(name):
        return name if _runnable(name) else None
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        found = os.path.join(folder, name)
        if _runnable(found):
            return found
    return None


def _runnable(path: str) -> bool:
    return os.access(path, os.F_OK | os.X_OK) and not os.path.isdir(path)


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
