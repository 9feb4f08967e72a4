"""Files at the border: where a path the user (or a clone) controls becomes bytes.

Only regular files under the repository are read as ledger or config: a FIFO, a directory, a
socket, a device, a broken symlink or a symlink leaving the repository is never opened for
reading (a FIFO would hang the read; a symlink out of the repository would count someone
else's records). Opening is done with O_NONBLOCK and checked with fstat on the open file, so a
file swapped for a FIFO between the check and the read cannot block either. Writes go only to
regular files too, and an OSError on the way (read-only, permissions, a file where a folder
should be, a full disk) becomes a user error naming the path.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path

from bd_vpt.errors import EXIT_BAD, Problem, VptError

CHUNK = 1 << 20


def _kind(mode: int) -> str | None:
    """What a non-regular file is, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def inside(path: Path, root: Path) -> bool:
    """Whether path (resolved, every symlink followed) lies under root (resolved)."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def why_not_regular(
    path: Path, root: Path | None = None, *, folder_inside: bool = False
) -> str | None:
    """Why path is not a regular file to read (under root, when given), or None if it is.
    folder_inside: its folder is known to lie under root (only a symlink can leave it)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
            info = os.stat(path)
        except (OSError, RuntimeError):
            return "a broken symlink"
        if root is not None and not inside(target, root):
            return f"a symlink leaving the repository (to {target})"
    elif root is not None and not folder_inside and not inside(path, root):
        return f"outside the repository (it resolves to {path.resolve()})"
    return _kind(info.st_mode)


def read_regular(
    path: Path, *, root: Path | None = None, what: str | None = None, folder_inside: bool = False
) -> bytes:
    """The bytes of a regular file (under root, when given); anything else is a VptError
    (exit 2) naming the path. Never blocks: a FIFO is refused, not read. folder_inside: its
    folder is known to lie under root (why_not_regular)."""
    name = f"{what} {path}" if what else str(path)
    why = why_not_regular(path, root, folder_inside=folder_inside)
    if why == "missing":
        raise VptError(f"{name}: no such file", hint="check the path")
    if why is not None:
        raise VptError(
            f"{name} is {why}, not a regular file: not read",
            hint="replace it with a regular file (or remove it)",
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise VptError(
            f"cannot read {name}: {exc.strerror}", hint="check its permissions"
        ) from None
    try:
        kind = _kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise VptError(f"{name} is {kind}, not a regular file: not read")
        chunks = []
        while chunk := os.read(fd, CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise VptError(f"cannot read {name}: {exc.strerror}") from None
    finally:
        os.close(fd)


def optional_regular(
    path: Path, *, root: Path | None = None, what: str | None = None
) -> bytes | None:
    """read_regular, or None when nothing at all is at path (a broken symlink is not nothing)."""
    if not os.path.lexists(path):
        return None
    return read_regular(path, root=root, what=what)


def regular_files(base: Path, root: Path, suffix: str) -> tuple[list[Path], list[Problem]]:
    """The regular files named *suffix under base (not following symlinked folders), and a
    warning for each thing named like one that is skipped (display paths relative to root)."""

    def shown(path: Path) -> str:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return str(path)

    hint = "bd-vpt reads only regular files inside the repository; remove or replace it"
    if not os.path.lexists(base):
        return [], []
    why = None if base.is_dir() and inside(base, root) else why_not_regular(base, root)
    if why is None and not base.is_dir():
        why = "a file, not a folder"
    if why is not None:
        return [], [Problem(shown(base), None, f"skipped: {why}", hint, "warning")]
    files: list[Path] = []
    problems: list[Problem] = []
    for folder, dirs, names in os.walk(base, followlinks=False):
        here = Path(folder)
        for name in sorted(dirs):
            path = here / name
            if path.is_symlink():
                problems.append(
                    Problem(
                        shown(path),
                        None,
                        "skipped: a symlinked folder (not followed)",
                        hint,
                        "warning",
                    )
                )
            elif name.endswith(suffix):
                problems.append(
                    Problem(
                        shown(path),
                        None,
                        "skipped: a directory named like a ledger file",
                        hint,
                        "warning",
                    )
                )
        dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink() and not d.endswith(suffix))
        for name in names:
            if not name.endswith(suffix):
                continue
            path = here / name
            why = why_not_regular(path, root, folder_inside=True)
            if why is None:
                files.append(path)
            else:
                problems.append(Problem(shown(path), None, f"skipped: {why}", hint, "warning"))
    return sorted(files), problems


_WRITE_WHY = {
    errno.EACCES: ("permission denied", "check the permissions of the folder and the file"),
    errno.EPERM: ("not permitted", "check the permissions of the folder and the file"),
    errno.EROFS: ("read-only file system", "run bd-vpt where the repository can be written"),
    errno.ENOSPC: ("no space left on the device", "free some space and run the command again"),
    errno.EDQUOT: ("disk quota exceeded", "free some space and run the command again"),
    errno.EISDIR: ("it is a directory", "remove the directory; bd-vpt creates the file"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "remove that file"),
    errno.EEXIST: ("something that is not a folder is in the way", "remove it"),
    errno.ELOOP: ("it is a symlink", "bd-vpt writes only regular files: remove the symlink"),
    errno.ENXIO: ("it is a socket or a device", "remove it; bd-vpt creates the file"),
}


def write_error(path: Path, exc: OSError) -> VptError:
    """An OSError met while writing path, as a user error that names the path."""
    why, hint = _WRITE_WHY.get(exc.errno or 0, (exc.strerror or str(exc), "check the path"))
    return VptError(
        f"cannot write {path}: {why}; nothing was written", hint=hint, exit_code=EXIT_BAD
    )


def temporary(folder: Path, prefix: str) -> tuple[int, Path]:
    """A new file of this process's own in folder, open for writing (tempfile.mkstemp's
    promise, without importing tempfile and what it imports on every command that writes)."""
    for _ in range(100):
        path = folder / f"{prefix}{os.urandom(6).hex()}"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


def make_folder(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(path, exc) from None


def open_append(path: Path, root: Path) -> int:
    """A descriptor open for appending to the regular file path under root (created when
    missing). A FIFO, directory, symlink or device there is refused before a byte is written."""
    make_folder(path.parent)
    if not inside(path.parent, root):
        raise VptError(
            f"cannot write {path}: its folder leaves the repository (to {path.parent.resolve()})",
            hint="bd-vpt writes only inside the repository; remove the symlinked folder",
        )
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise write_error(path, exc) from None
    kind = _kind(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise VptError(
            f"cannot write {path}: it is {kind}, not a regular file; nothing was written",
            hint="remove it; bd-vpt creates the file again",
        )
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    return fd
