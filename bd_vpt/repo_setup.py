"""`bd-vpt init`: the config file and the union-merge attribute for the ledger."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from bd_vpt import config
from bd_vpt.files import make_folder, optional_regular, write_error

ATTRIBUTE = ".beads/vpt/ledger/** merge=union"


def ensure_gitattributes(root: Path) -> bool:
    """Add the union-merge line to .gitattributes; True when it had to be added."""
    path = root / ".gitattributes"
    text = (optional_regular(path, root=root) or b"").decode("utf-8", errors="replace")
    wanted = ATTRIBUTE.split()
    if any(line.split() == wanted for line in text.splitlines()):
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    try:
        path.write_text(text + ATTRIBUTE + "\n", encoding="utf-8")
    except OSError as exc:
        raise write_error(path, exc) from None
    return True


def init(root: Path, today: str | None = None) -> list[str]:
    """Create what is missing; never overwrite. Returns what it did, line by line."""
    done = []
    path = root / config.CONFIG_PATH
    if os.path.lexists(path):
        config.load(root)  # still check that it parses (and is a regular file)
        done.append(f"kept {config.CONFIG_PATH} (already there)")
    else:
        since = today or datetime.now(UTC).strftime("%Y-%m-%d")
        config.write(root, config.default_document(since))
        done.append(f"wrote {config.CONFIG_PATH}")
    make_folder(root / config.LEDGER_DIR)
    if ensure_gitattributes(root):
        done.append(f"added `{ATTRIBUTE}` to .gitattributes")
    else:
        done.append(".gitattributes already has the union-merge line")
    return done
