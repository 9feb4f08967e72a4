"""What every command run without click does around its work, as bd_vpt.cli does it: the
file size limit an error, not a signal; the cycle collector off, start-up included (the
command's imports make only long-lived objects: modules, functions, classes, which the
collector would walk again and again as they are made, some 30-50 collections, 5-10 ms of a
0.1 s command; its folds are paused already, for bd_vpt.gc_paused's reasons); and what the
work raised said on stderr and turned into the exit code (errors.failed)."""

from __future__ import annotations

import os
from collections.abc import Callable


def options(
    argv: list[str], values: dict[str, Callable[[str], bool]], flags: tuple[str, ...] = ()
) -> dict[str, str] | None:
    """The options of a command's plain form: each at most once, `--name VALUE` or
    `--name=VALUE` with a value values[name] accepts, or one of flags (as ""); None for
    anything else (click then parses it and says what is wrong)."""
    found: dict[str, str] = {}
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if arg in flags and arg not in found:
            found[arg] = ""
            continue
        if name not in values or name in found:
            return None
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        if not values[name](value):
            return None
        found[name] = value
    return found


def run_plain(work: Callable[[], object]) -> int:
    """work(), and the exit code of a command that did it."""
    from bd_vpt import gc_paused
    from bd_vpt.errors import failed
    from bd_vpt.state import file_size_limit_is_an_error

    file_size_limit_is_an_error()
    try:
        with gc_paused():
            work()
    except (Exception, KeyboardInterrupt) as exc:
        code = failed(exc, bool(os.environ.get("BD_VPT_DEBUG")))
        if code is None:
            raise
        return code
    return 0
