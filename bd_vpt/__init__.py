"""bd-vpt: Value Per Token for coding-agent fleets on beads."""

from __future__ import annotations

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing)
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import ModuleType
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

__version__ = "0.1.0"


def compiled(name: str) -> ModuleType | None:
    """One of bd-vpt's compiled parts (setup.py builds them where a C compiler is found), or
    None: not built, or turned off for a run (BD_VPT_LANE=python). Without it the caller does
    the same in Python, with the same results."""
    import os

    if os.environ.get("BD_VPT_LANE") == "python":
        return None
    from importlib import import_module

    try:
        return import_module(name)
    except ImportError:  # installed where no C compiler was found
        return None


# Answers that full object ids alone decide (a commit's ledger tree, two commits' merge base,
# the config at a commit: repo.py asks git) are asked once per process: a report over
# revisions (pr: base, head, their range) asked the same ones up to three times.
FIXED: dict[tuple[str, ...], Any] = {}


def object_ids(*names: str) -> bool:
    """Are these all full object ids (SHA-1 or SHA-256, hex)?"""
    return all(
        len(name) in (40, 64) and name.isascii() and all(c in "0123456789abcdef" for c in name)
        for name in names
    )


def by_ids(ask: F) -> F:
    """ask(root, *names) answered from FIXED when every name is a full object id (a list is
    kept as a tuple and handed out as a list of the caller's own)."""

    def once(root: Path, *names: str) -> Any:
        key = (ask.__name__, str(root), *names)
        if key in FIXED:
            kept = FIXED[key]
            return list(kept) if type(kept) is tuple else kept
        found = ask(root, *names)
        if object_ids(*names):
            FIXED[key] = tuple(found) if type(found) is list else found
        return found

    once.__name__, once.__doc__ = ask.__name__, ask.__doc__
    return once  # type: ignore[return-value]


class _Paused:
    """gc_paused's context: the collector off inside; back on (if it was on) when the
    outermost pause ends, with what was made meanwhile frozen."""

    __slots__ = ("enabled",)

    def __enter__(self) -> None:
        import gc

        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            import gc

            gc.freeze()
            gc.enable()


def gc_paused() -> _Paused:
    """The cycle collector paused while many small objects are made (a ledger's folds and
    records, an import's messages, the beads' stories, a command's start-up); nested pauses
    are fine.

    A cold read of a million records makes a million small dicts; CPython's collector would
    scan the live ones again and again while they are made (a quarter of a cold 10^6-record
    report). They hold no reference cycles, so reference counting frees them all the same.
    When the outermost pause ends, what was made meanwhile is left out of later collections
    (frozen: still freed as usual when no longer used), or the first collection would walk
    it all once more (0.1 s at 10^6). (In the root package: every part may use it.)"""
    return _Paused()
