"""A program run with its output on pipes, without importing subprocess: what
`subprocess.run(argv, input=..., capture_output=True, env=...)` gives, started and finished
apart, so a command can start the git calls it will make before its own imports
(repo.ask_early). subprocess's import, with signal, threading, selectors and locale, was
3 ms of every command's start-up.

As subprocess does: the program is found on $PATH as execvp finds it; it inherits this
process's stdin unless it is fed input, and none of its other descriptors (Python opens
them close-on-exec). Unlike subprocess: signals ignored here stay ignored in the program
(Python ignores SIGPIPE; git, the one program run this way, checks every write).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


class Closed(OSError):
    """A standard descriptor of this process is closed: a pipe could take its number
    (subprocess handles that case; callers fall back to it)."""


class Ran:
    """A finished program: subprocess.CompletedProcess's returncode, stdout and stderr."""

    __slots__ = ("returncode", "stderr", "stdout")

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


class Running:
    """A started program: its pid and this side of its pipes (feed: -1 when not fed)."""

    __slots__ = ("err", "feed", "out", "pid")

    def __init__(self, pid: int, out: int, err: int, feed: int) -> None:
        self.pid, self.out, self.err, self.feed = pid, out, err, feed


def start(argv: list[str], env: Mapping[str, str] | None = None, fed: bool = False) -> Running:
    """argv started now, its stdout and stderr on pipes; its stdin a pipe when fed."""
    out, out_end = os.pipe()
    err, err_end = os.pipe()
    feed_end, feed = os.pipe() if fed else (-1, -1)
    ends = [end for end in (out_end, err_end, feed_end) if end >= 0]
    actions = [(os.POSIX_SPAWN_DUP2, out_end, 1), (os.POSIX_SPAWN_DUP2, err_end, 2)]
    if fed:
        actions.append((os.POSIX_SPAWN_DUP2, feed_end, 0))
    try:
        if min(out, out_end, err, err_end, *ends) <= 2:
            raise Closed("a standard descriptor of this process is closed")
        pid = os.posix_spawnp(
            argv[0], argv, os.environ if env is None else env, file_actions=actions
        )
    except BaseException:
        for mine in (out, err, feed):
            if mine >= 0:
                os.close(mine)
        raise
    finally:
        for end in ends:
            os.close(end)
    return Running(pid, out, err, feed)


def run(argv: list[str], env: Mapping[str, str] | None = None, input: bytes | None = None) -> Ran:
    """start() then finish(); subprocess.run where a standard descriptor here is closed."""
    try:
        return finish(start(argv, env, input is not None), input)
    except Closed:
        import subprocess

        done = subprocess.run(argv, input=input, capture_output=True, check=False, env=env)
        return Ran(done.returncode, done.stdout, done.stderr)


def finish(running: Running, input: bytes | None = None) -> Ran:
    """Feed input (when started fed), read both outputs to their end, wait for the exit."""
    import select

    chunks: dict[int, list[bytes]] = {running.out: [], running.err: []}
    poller = select.poll()
    for fd in chunks:
        poller.register(fd, select.POLLIN)
    left = memoryview(input or b"")
    feed = running.feed
    if feed >= 0:
        if left:
            os.set_blocking(feed, False)
            poller.register(feed, select.POLLOUT)
        else:
            os.close(feed)
            feed = -1
    reading = len(chunks)
    while reading or feed >= 0:
        for fd, _event in poller.poll():
            if fd == feed:
                try:
                    left = left[os.write(fd, left[: 1 << 16]) :]
                except BlockingIOError:
                    continue
                except BrokenPipeError:  # it stopped reading: the rest is not fed (as subprocess)
                    left = left[:0]
                if not left:
                    poller.unregister(fd)
                    os.close(fd)
                    feed = -1
                continue
            data = os.read(fd, 1 << 16)
            if data:
                chunks[fd].append(data)
            else:
                poller.unregister(fd)
                os.close(fd)
                reading -= 1
    status = os.waitpid(running.pid, 0)[1]
    out, err = (b"".join(chunks[fd]) for fd in (running.out, running.err))
    return Ran(os.waitstatus_to_exitcode(status), out, err)


def start_early(argvs: list[tuple[str, ...]]) -> None:
    """Start each argv now, from this folder, for take_early (any not taken before is
    finished first, and dropped)."""
    while _EARLY:
        finish(_EARLY.popitem()[1])
    _FROM[:] = [dict(os.environ), os.getcwd()]
    for argv in argvs:
        try:
            _EARLY[argv] = start(list(argv))
        except OSError:  # (no program, a closed descriptor: each is asked when needed)
            return


def early_also_from(folder: str) -> None:
    """An answer start_early started may be taken from folder too (its caller knows the
    answers are the same there)."""
    if _FROM:
        _FROM.append(folder)


def take_early(argv: tuple[str, ...], folder: str) -> Ran | None:
    """The answer to argv start_early started, finished, once; None when there is none, or
    when it was asked from another folder or with another environment (it is thrown away:
    the caller asks again)."""
    running = _EARLY.pop(argv, None) if _EARLY else None
    if running is None:
        return None
    ran = finish(running)
    return ran if folder in _FROM[1:] and dict(os.environ) == _FROM[0] else None


_EARLY: dict[tuple[str, ...], Running] = {}
_FROM: list[Any] = []  # the environment, then the folders an answer may be taken from
