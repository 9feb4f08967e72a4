"""`pr` in its plain forms, without click: what a CI job runs on every pull request
(`bd-vpt pr --base X [--head Y] [--format markdown|json] [--baseline-days N]
[--fail-on-alert]`, the GitHub Action's form) is made here as the click command makes it
(run, which both call), with the same output, warnings, errors and exit codes; anything else
(other options, a value that looks like an option, --debug) goes to `bd_vpt.cli`. Importing
click and the command table is about 25 ms of a report's start-up.
"""

from __future__ import annotations

import sys
from typing import Any

FORMATS = ("markdown", "json")  # pr's (cli/github.py format_option)


class Asked:
    """A plain form's arguments."""

    __slots__ = ("base", "baseline_days", "fail_on_alert", "fmt", "head")

    def __init__(self, found: dict[str, str]) -> None:
        self.base, self.head = found["--base"], found.get("--head", "HEAD")
        self.fmt = found.get("--format", "markdown")
        self.baseline_days = int(found.get("--baseline-days", "30"))
        self.fail_on_alert = "--fail-on-alert" in found


def pr_args(argv: list[str]) -> Asked | None:
    """The arguments of `pr` in a plain form; None for anything else."""
    if argv[:1] != ["pr"]:
        return None
    from bd_vpt.integrations.plain import options

    def revision(value: str) -> bool:
        return bool(value) and not value.startswith("-")

    def days(value: str) -> bool:  # (click's IntRange(1, 3650), digits only)
        return value.isascii() and value.isdigit() and value[0] != "0" and int(value) <= 3650

    found = options(
        argv[1:],
        {
            "--base": revision,
            "--head": revision,
            "--format": FORMATS.__contains__,
            "--baseline-days": days,
        },
        ("--fail-on-alert",),
    )
    return Asked(found) if found is not None and "--base" in found else None


def plain(argv: list[str]) -> int | None:
    """The exit code of `pr` in a plain form, made here; None: not a plain form."""
    asked = pr_args(argv)
    if asked is None:
        return None
    from bd_vpt.integrations.plain import run_plain

    hard: list[int] = []

    def work() -> None:
        document = run(asked.base, asked.head, asked.baseline_days, False, False, asked.fmt)
        if asked.fail_on_alert and document["hard_alerts"]:
            hard.append(document["hard_alerts"])

    code = run_plain(work)
    if code == 0 and hard:
        from bd_vpt.errors import EXIT_FAILED

        sys.stdout.flush()  # (after printing, as click.echo does it)
        sys.stderr.write(f"bd-vpt: {hard[0]} hard alert(s)\n")
        return EXIT_FAILED
    return code


def run(
    base: str, head: str, baseline_days: int, no_cache: bool, strict: bool, fmt: str
) -> dict[str, Any]:
    """Make the pull request's document and print it (the click command and plain's);
    returns the document (--fail-on-alert reads its hard alerts)."""
    from bd_vpt import gc_paused, repo
    from bd_vpt.errors import Problem
    from bd_vpt.integrations import pr as pull_request
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
        pull_request.KEPT.append(read)
    finish(Scan(problems=[Problem(**p) for p in document["problems"]]), strict=strict)
    emit(Report(document, after=[pr_comment(document)]), fmt)
    return document
