"""Local state under $GIT_COMMON_DIR/bd-vpt/ (shared by worktrees, never committed): the
ledger lock, atomic writes, and the bytes of torn lines cut from the ledger."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from bd_vpt.repo import RepoInfo

LOCK_TIMEOUT = 120.0  # seconds; a writer holds the lock for one read-dedupe-write


class LockTimeout(Exception):
    """The ledger lock was not free within its timeout."""


class LedgerLock:
    """An exclusive flock(2) on one file, waited for up to timeout seconds. The kernel drops
    it when the holder exits, however it exits, so a killed writer never leaves it held.
    Not reentrant: a second LedgerLock on the same file waits for the first, even in one
    process (flock belongs to the open file). (filelock did this for us; its import cost a
    tenth of a small import's time, and bd-vpt runs where fcntl is: see files.py.)"""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path, self.timeout = path, timeout
        self.fd: int | None = None

    def __enter__(self) -> LedgerLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            from bd_vpt.files import write_error

            raise write_error(self.path, exc) from None
        deadline, pause = time.monotonic() + self.timeout, 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    os.close(fd)
                    raise LockTimeout(str(self.path)) from None
                time.sleep(min(pause, left))
                pause = min(pause * 2, 0.05)
            except BaseException:
                os.close(fd)
                raise
        self.fd = fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # (closing the one open file releases its lock)


def ledger_lock(info: RepoInfo) -> LedgerLock:
    """The one lock every ledger writer of this repository takes (all worktrees share it)."""
    from bd_vpt.files import make_folder

    locks = info.state_dir / "locks"
    make_folder(locks)  # exit 2 naming it when something else is in the way
    return LedgerLock(locks / "ledger.lock", LOCK_TIMEOUT)


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
    from bd_vpt.files import temporary

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temporary(path.parent, f".{path.name}.")
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
