"""bd-vpt: Value Per Token for coding-agent fleets on beads."""

from __future__ import annotations

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing)
if TYPE_CHECKING:
    from types import ModuleType

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
