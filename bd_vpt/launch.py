"""The `bd-vpt` executable's first stop: what needs no command-line parser is answered without
importing click and the command table (most of a start-up).

- `bd-vpt --help` (or `-h`): the help text click rendered the last time, kept under the user's
  cache folder ($XDG_CACHE_HOME/bd-vpt, else ~/.cache/bd-vpt) and keyed by the bd-vpt version,
  the interpreter, the size and modification time of every command-line module and of the
  folder bd-vpt is installed in, and the terminal width click wraps to. A miss renders it with
  click, prints it and stores it.
- `bd-vpt shell-init [--shell bash|zsh|fish]`: the shell function, printed directly (it runs at
  every shell start-up).
- `bd-vpt hook pre-commit` (the pre-commit framework's entry): done at once when there is
  nothing to do (bd_vpt.integrations.quiet); else the command runs as usual.
- `bd-vpt import claude-code` and `bd-vpt import claude-code --hook` (Claude Code's hook, run
  after every reply): run without click (bd_vpt.integrations.importing), the same output and exit code.
- `bd-vpt pr --base X` with any of `--head`, `--format`, `--baseline-days`, `--fail-on-alert`
  (what the GitHub Action runs on every pull request): made without click
  (bd_vpt.integrations.pr_plain), the same output and exit code.
- `bd-vpt summary` in its plain forms (`--by`, `--format`, `--wide`): asked again, the text it
  printed the last time for the same ledger and config; else made without click, as the
  command makes it (bd_vpt.integrations.again).

Everything else, and anything unusual about these (other options, bad values), goes to
`bd_vpt.cli.main`, which gives the same answers the slow way.
"""

from __future__ import annotations

import os
import sys
import zlib

from bd_vpt import __version__

SHELLS = ("bash", "zsh", "fish")


def _columns() -> int:
    """The width shutil.get_terminal_size() reports (what click wraps help to), without
    importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def help_key(sources: list[str]) -> str:
    """Names the help text: it changes when any of these files, the version, the interpreter
    or the terminal width changes."""
    parts = [__version__, sys.executable, str(_columns())]
    for path in sorted(sources):
        try:
            stat = os.stat(path)
        except OSError:
            parts.append(f"{path}:missing")
            continue
        parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return f"{zlib.crc32(chr(0).join(parts).encode()):08x}"


def _sources() -> list[str]:
    """The command-line modules, and the folder bd-vpt is installed in (its time changes when a
    package beside it, click say, is installed, upgraded or removed)."""
    package = os.path.dirname(os.path.abspath(__file__))
    here = os.path.join(package, "cli")
    try:
        names = os.listdir(here)
    except OSError:
        names = []
    return [os.path.dirname(package)] + [os.path.join(here, n) for n in names if n.endswith(".py")]


def _cache_file(key: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bd-vpt", f"help-{key}.txt")


def _help() -> int:
    path = _cache_file(help_key(_sources()))
    try:
        with open(path, encoding="utf-8") as cached:
            text = cached.read()
    except (OSError, UnicodeDecodeError):
        text = ""
    if text:
        sys.stdout.write(text)
        return 0
    import contextlib
    import io

    from bd_vpt.cli import main as cli_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(["--help"])
    text = out.getvalue()
    sys.stdout.write(text)
    if code == 0 and text:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as out_file:
                out_file.write(text)
            os.replace(tmp, path)
        except OSError:
            pass  # a help that cannot be kept is only slower next time
    return code


def _shell(argv: list[str]) -> str | None:
    """The dialect `shell-init` was asked for ("" for $SHELL's), or None when the arguments
    are anything but the plain forms (click then parses and answers them)."""
    if argv == ["shell-init"]:
        return ""
    if len(argv) == 3 and argv[:2] == ["shell-init", "--shell"] and argv[2] in SHELLS:
        return argv[2]
    if len(argv) == 2 and argv[0] == "shell-init" and argv[1].startswith("--shell="):
        dialect = argv[1].removeprefix("--shell=")
        return dialect if dialect in SHELLS else None
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if args in (["--help"], ["-h"]):
            return _help()
        if args[:1] == ["summary"]:
            from bd_vpt.integrations import early

            early.summary()
            from bd_vpt.integrations.again import answer, make

            if answer(args):
                return 0
            made = make(args)
            if made is not None:
                return _ended(made)
        if args == ["hook", "pre-commit"]:
            from bd_vpt.integrations.quiet import nothing_to_do

            if nothing_to_do():
                return 0
        if args[:1] == ["pr"]:
            from bd_vpt.integrations.pr_plain import plain as plain_pr

            made = plain_pr(args)
            if made is not None:
                return _ended(made)
        if args[:2] == ["import", "claude-code"] and args[2:] in ([], ["--hook"]):
            from bd_vpt.integrations import early

            early.importing()
            from bd_vpt.integrations.importing import plain

            return plain("claude-code", hook=len(args) == 3)
        dialect = _shell(args)
        if dialect is not None:
            from bd_vpt.integrations.shell import shell_function

            sys.stdout.write(shell_function(dialect or None))
            return 0
    except BrokenPipeError:
        sys.stderr.close()  # `bd-vpt --help | head`: not an error
        return 0
    from bd_vpt.cli import main as cli_main

    try:
        code = cli_main(args)
    finally:
        if args[:1] == ["summary"]:
            from bd_vpt.integrations.again import forget

            forget()
    return _ended(code)


def run() -> None:
    """The console script and `python -m bd_vpt`: main(), then the process ends without the
    interpreter's tear-down, which frees every object one by one (60-80 ms after a cold
    report over a million records) and does nothing else bd-vpt needs. What it needs of an
    exit is done here: the output flushed (a reader that left early is not an error, as in
    main) and the fold workers joined (they write their cache entries as they exit). An
    exception main lets through ends the process the usual way."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 (contextlib is not imported on every path)
            stream.flush()
        except (BrokenPipeError, ValueError):  # (ValueError: a stream main closed)
            pass
    parallel = sys.modules.get("bd_vpt.ledger.parallel")
    if parallel is not None:
        parallel.settle()
    os._exit(code)


def _ended(code: int) -> int:
    """The process ends here. What a report read (a million records' folds) stays alive to
    the end; frozen, the collector's pass at exit does not walk it all again (up to a
    second)."""
    import gc

    gc.freeze()
    return code
