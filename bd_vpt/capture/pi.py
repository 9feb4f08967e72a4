"""pi (badlogic/pi-mono, Gas Town's `pi` preset): $PI_CODING_AGENT_DIR/sessions, default
~/.pi/agent/sessions/--<cwd>--/<timestamp>_<uuid>.jsonl.

The same session lines as OpenClaw (OpenClaw runs pi's agent): read by the OpenClaw importer.
"""

from __future__ import annotations

import os
from pathlib import Path

from bd_vpt.capture.openclaw import files as files  # each source offers files()
from bd_vpt.capture.openclaw import scan as scan


def roots(path: Path | None) -> list[Path]:
    if path is not None:
        return [path]
    agent = os.environ.get("PI_CODING_AGENT_DIR", "").strip()
    base = Path(agent).expanduser() if agent else Path.home() / ".pi" / "agent"
    return [base / "sessions"] if (base / "sessions").is_dir() else []
