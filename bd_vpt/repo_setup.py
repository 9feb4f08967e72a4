"""`bd-vpt init`: the config file and the union-merge attribute for the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bd_vpt import config

ATTRIBUTE = ".beads/vpt/ledger/** merge=union"


def ensure_gitattributes(root: Path) -> bool:
    """Add the union-merge line to .gitattributes; True when it had to be added."""
    path = root / ".gitattributes"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    wanted = ATTRIBUTE.split()
    if any(line.split() == wanted for line in text.splitlines()):
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + ATTRIBUTE + "\n", encoding="utf-8")
    return True


def init(root: Path, today: str | None = None) -> list[str]:
    """Create what is missing; never overwrite. Returns what it did, line by line."""
    done = []
    path = root / config.CONFIG_PATH
    if path.exists():
        config.load(root)  # still check that it parses
        done.append(f"kept {config.CONFIG_PATH} (already there)")
    else:
        since = today or datetime.now(UTC).strftime("%Y-%m-%d")
        config.write(root, config.default_document(since))
        done.append(f"wrote {config.CONFIG_PATH}")
    (root / config.LEDGER_DIR).mkdir(parents=True, exist_ok=True)
    if ensure_gitattributes(root):
        done.append(f"added `{ATTRIBUTE}` to .gitattributes")
    else:
        done.append(".gitattributes already has the union-merge line")
    return done
