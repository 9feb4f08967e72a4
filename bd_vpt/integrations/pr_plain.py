"""`pr` in its plain forms, without click: what a CI job runs on every pull request
(`bd-vpt pr --base X [--head Y] [--format markdown|json]`) is made here as the click command
makes it (run, which both call), with the same output, warnings, errors and exit codes;
anything else (other options, a value that looks like an option, --debug) goes to
`bd_vpt.cli`. Importing click and the command table is about 25 ms of a report's start-up.
"""

from __future__ import annotations

from typing import Any

FORMATS = ("markdown", "json")  # pr's (cli/github.py format_option)


def pr_args(argv: list[str]) -> tuple[str, str, str] | None:
    """(base, head, format) of `pr` in a plain form; None for anything else."""
    if argv[:1] != ["pr"]:
        return None
    from bd_vpt.integrations.plain import options

    def revision(value: str) -> bool:
        return bool(value) and not value.startswith("-")

    found = options(
        argv[1:], {"--base": revision, "--head": revision, "--format": FORMATS.__contains__}
    )
    if found is None or "--base" not in found:
        return None
    return found["--base"], found.get("--head", "HEAD"), found.get("--format", "markdown")


def plain(argv: list[str]) -> int | None:
    """The exit code of `pr` in a plain form, made here; None: not a plain form."""
    asked = pr_args(argv)
    if asked is None:
        return None
    from bd_vpt.integrations.plain import run_plain

    base, head, fmt = asked
    return run_plain(lambda: run(base, head, 30, False, False, fmt))


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
