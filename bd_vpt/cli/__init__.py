"""The `bd-vpt` command line: parse and reject at the border, call the core, render.

Click is imported in this package only. One module per command group; `main()` holds the
one catch-all: a user error prints `bd-vpt: error: <what>` with a hint and exits 2; anything
unexpected prints one line (the traceback only with --debug) and exits 1. Core modules are
imported inside each command so that `bd-vpt --help` and the git hooks start fast.
"""

from __future__ import annotations

import os
import sys

import click

from bd_vpt.cli import (  # noqa: F401
    admin,
    capture,
    github,
    governance,
    hooks,
    org,
    prices,
    record,
    reports,
)
from bd_vpt.cli.options import cli
from bd_vpt.errors import EXIT_BAD, EXIT_FAILED, failed

__all__ = ["cli", "main"]


def _debug_first(argv: list[str]) -> tuple[list[str], bool]:
    """--debug is accepted anywhere before `--` (it belongs to the group)."""
    cut = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:cut] or bool(os.environ.get("BD_VPT_DEBUG"))
    if "--debug" in argv[:cut]:
        argv = [a for i, a in enumerate(argv) if not (i < cut and a == "--debug")]
        argv = ["--debug", *argv]
    return argv, debug


def main(argv: list[str] | None = None) -> int:
    args, debug = _debug_first(list(sys.argv[1:] if argv is None else argv))
    from bd_vpt.state import file_size_limit_is_an_error

    file_size_limit_is_an_error()
    try:
        result = cli.main(args=args, prog_name="bd-vpt", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_FAILED
    except click.ClickException as exc:
        exc.show()
        return EXIT_BAD if exc.exit_code == 2 else exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except (Exception, KeyboardInterrupt) as exc:  # (a user error, the machine, a bug)
        code = failed(exc, debug, lambda text: click.echo(text, err=True))
        if code is None:
            raise
        return code
    return result if isinstance(result, int) else 0
