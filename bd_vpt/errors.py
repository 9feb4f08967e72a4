"""The user-facing error type and the `path:line: problem` diagnostics.

Exit codes: 0 ok, 1 a check or gate failed, 2 bad usage or bad data.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing)
if TYPE_CHECKING:
    from collections.abc import Callable

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD = 2

SECRET_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
_USERINFO = r"(?<=://)[^/?#\s@]*@"
_TOKEN_SHAPES = r"(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,})"
_BEARER = r"(?i)(bearer\s+)\S+"
# (re is imported when something is redacted: this module is on the path of the pre-commit
# hook's nothing-to-do check, which imports as little as it can)


def redact(text: str, *secrets: str) -> str:
    """text without any secret: the given ones and those in SECRET_VARIABLES (in any case),
    credentials inside URLs (`//user:token@host`), bearer values and anything shaped like a
    GitHub token. Every error and warning bd-vpt prints goes through here."""
    import re

    known = {*secrets, *(os.environ.get(name, "") for name in SECRET_VARIABLES)}
    for secret in sorted((s for s in known if s), key=len, reverse=True):
        text = re.sub(re.escape(secret), "***", text, flags=re.IGNORECASE)
    text = re.sub(_USERINFO, "***@", text)
    text = re.sub(_BEARER, r"\1***", text)
    return re.sub(_TOKEN_SHAPES, "***", text)


class VptError(Exception):
    """An error the user can fix: printed as a message and a hint, never a traceback."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = EXIT_BAD) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def render(self) -> str:
        text = f"bd-vpt: error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return redact(text)


class Problem:
    """One bad line (or file) in the ledger or another input. (A plain class, not a
    dataclass: dataclasses imports inspect, too slow for the hooks' start-up.)"""

    __slots__ = ("hint", "line", "message", "path", "severity")

    def __init__(
        self,
        path: str,
        line: int | None,
        message: str,
        hint: str | None = None,
        severity: str = "error",  # "error" or "warning"
    ) -> None:
        self.path = path
        self.line = line
        self.message = message
        self.hint = hint
        self.severity = severity

    def _fields(self) -> tuple[str, int | None, str, str | None, str]:
        return (self.path, self.line, self.message, self.hint, self.severity)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Problem)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"Problem(path={self.path!r}, line={self.line!r}, message={self.message!r}, "
            f"hint={self.hint!r}, severity={self.severity!r})"
        )

    def render(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        text = f"{where}: {self.severity}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


def warn(message: str) -> None:
    print(redact(f"bd-vpt: warning: {message}"), file=sys.stderr)


def report_problems(problems: list[Problem]) -> None:
    for problem in problems:
        print(problem.render(), file=sys.stderr)


def to_stderr(text: str) -> None:
    print(text, file=sys.stderr)


def failed(exc: BaseException, debug: bool, echo: Callable[[str], None] = to_stderr) -> int | None:
    """What a command that raised exc says (echo: on stderr) and exits with; None: raise it
    (--debug). A user error: its message and hint, exit 2; the machine saying no (a full
    disk): what and where, exit 1; a bug: one line, exit 1."""
    if isinstance(exc, VptError):
        echo(exc.render())
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):
        sys.stderr.close()  # `bd-vpt summary | head`: not an error
        return 0
    if isinstance(exc, KeyboardInterrupt):
        echo("bd-vpt: interrupted")
        return 130
    if isinstance(exc, OSError):  # the machine said no (a full disk, a read-only folder)
        if debug:
            return None
        where = f" ({exc.filename})" if exc.filename else ""
        echo(
            f"bd-vpt: error: {exc.strerror or exc}{where}\n"
            "  hint: free some space or fix the permissions, then run the command again"
        )
        return EXIT_FAILED
    if isinstance(exc, Exception):  # a bug: one line, the traceback only on request
        if debug:
            return None
        line = (
            f"bd-vpt: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback, and please report it)"
        )
        echo(redact(line))
        return EXIT_FAILED
    return None
