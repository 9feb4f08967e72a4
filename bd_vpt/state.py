"""Local state under $GIT_COMMON_DIR/bd-vpt/ (shared by worktrees, never committed): the
ledger lock, atomic writes, and the bytes of torn lines cut from the ledger."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bd_vpt.repo import RepoInfo

LOCK_TIMEOUT = 120.0  # seconds; a writer holds the lock for one read-dedupe-write


def ledger_lock(info: RepoInfo) -> Any:
    """The one lock every ledger writer of this repository takes (all worktrees share it)."""
    from filelock import FileLock

    from bd_vpt.files import make_folder

    locks = info.state_dir / "locks"
    make_folder(locks)  # exit 2 naming it when something else is in the way
    return FileLock(str(locks / "ledger.lock"), timeout=LOCK_TIMEOUT)


def fsync_dir(path: Path) -> None:
    """Make a new directory entry (a created or renamed file) durable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """All or nothing: a temporary file in the same folder, fsynced, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def keep_torn(info: RepoInfo, name: str, fragment: bytes) -> Path:
    """Keep the bytes of a torn line cut from a shard (nothing a writer wrote is lost)."""
    path = info.state_dir / "torn" / f"{name}.{time.strftime('%Y%m%dT%H%M%S')}.{os.getpid()}"
    atomic_write(path, fragment)
    return path


def file_size_limit_is_an_error() -> None:
    """Over a file size limit (`ulimit -f`) the kernel kills a writer with SIGXFSZ, leaving a
    torn line; ignored, the write fails with EFBIG and the writer undoes it cleanly."""
    import contextlib
    import signal

    if hasattr(signal, "SIGXFSZ"):
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
