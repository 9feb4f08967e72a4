"""Kept at this path because installed git hooks run `python -m bd_vpt.hookrun NAME`.

The work is in bd_vpt.integrations.hookrun; this shim only forwards to it.
"""

from __future__ import annotations

from bd_vpt.integrations.hookrun import main

if __name__ == "__main__":
    raise SystemExit(main())
