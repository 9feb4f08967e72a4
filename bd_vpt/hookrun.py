"""Kept at this path because installed git hooks run `python -m bd_vpt.hookrun NAME`.

The work is in bd_vpt.integrations.hookrun; this shim answers a pre-commit with nothing to
do first (bd_vpt.integrations.quiet: two git calls, nothing heavy imported), and forwards
everything else.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["pre-commit"]:
        from bd_vpt.integrations.quiet import nothing_to_do

        if nothing_to_do():
            return 0
    from bd_vpt.integrations.hookrun import main as run

    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
