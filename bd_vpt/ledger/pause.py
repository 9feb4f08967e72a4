"""The cycle collector paused while many small objects are made (a ledger's folds and
records, an import's messages).

A cold read of a million records makes a million small dicts; CPython's collector would scan
the live ones again and again while they are made (a quarter of a cold 10^6-record report).
They hold no reference cycles, so reference counting frees them all the same. When the
outermost pause ends, what was made meanwhile is left out of later collections (frozen:
still freed as usual when no longer used), or the first collection would walk it all once
more (0.1 s at 10^6).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off inside; nested pauses are fine: it is back on (if it was on) when
    the outermost one ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()
