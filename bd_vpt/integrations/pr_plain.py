"""`pr` in its plain forms, without click: what a CI job runs on every pull request
(`bd-vpt pr --base X [--head Y] [--format markdown|json]`) is made here as the click command
makes it (run, which both call), with the same output, warnings, errors and exit codes;
anything else (other options, a value that looks like an option, --debug) goes to
`bd_vpt.cli`. Importing click and the command table is about 25 ms of a report's start-up.
"""

from __future__ import annotations

import os
from typing import Any

FORMATS = ("markdown", "json")  # pr's (cli/github.py format_option)


def pr_args(argv: list[str]) -> tuple[str, str, str] | None:
    """(base, head, format) of `pr` in a plain form; None for anything else."""
    if argv[:1] != ["pr"]:
        return None
    found: dict[str, str] = {}
    rest = argv[1:]
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if name not in ("--base", "--head", "--format") or name in found:
            return None
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        if not value or value.startswith("-") or (name == "--format" and value not in FORMATS):
            return None
        found[name] = value
    if "--base" not in found:
        return None
    return found["--base"], found.get("--head", "HEAD"), found.get("--format", "markdown")


def plain(argv: list[str]) -> int | None:
    """The exit code of `pr` in a plain form, made here; None: not a plain form."""
    asked = pr_args(argv)
    if asked is None:
        return None
    from bd_vpt.errors import failed
    from bd_vpt.ledger.pause import gc_paused
    from bd_vpt.state import file_size_limit_is_an_error

    base, head, fmt = asked
    file_size_limit_is_an_error()
    try:
        with gc_paused():  # start-up included (integrations/again.py make says why)
            run(base, head, 30, False, False, fmt)
    except (Exception, KeyboardInterrupt) as exc:
        code = failed(exc, bool(os.environ.get("BD_VPT_DEBUG")))
        if code is None:
            raise
        return code
    return 0


def run(
    base: str, head: str, baseline_days: int, no_cache: bool, strict: bool, fmt: str
) -> dict[str, Any]:
    """Make the pull request's document and print it (the click command and plain's);
    returns the document (--fail-on-alert reads its hard alerts)."""
    from bd_vpt import repo
    from bd_vpt.errors import Problem
    from bd_vpt.integrations import pr as pull_request
    from bd_vpt.ledger.pause import gc_paused
    from bd_vpt.ledger.store import Scan
    from bd_vpt.ledger.view import finish
    from bd_vpt.render.markdown import pr_comment
    from bd_vpt.render.report import Report, emit

    # no here(): the config that judges a pull request is base's, read by gather()
    with gc_paused():  # the head's records are held at once while folded
        read = pull_request.gather(
            repo.discover(), base, head, use_cache=not no_cache, baseline_days=baseline_days
        )
        document = pull_request.compose(read)
    finish(Scan(problems=[Problem(**p) for p in document["problems"]]), strict=strict)
    emit(Report(document, after=[pr_comment(document)]), fmt)
    return document
