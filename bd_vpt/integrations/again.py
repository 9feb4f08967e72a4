"""`summary` in its plain forms, without click: a report asked again is answered with the
text it printed the last time, before click, the command table and the report code are
imported (most of a warm report's time); one not asked before is made without click (make),
as the click command makes it (run_summary, which both call).

`summary` in its plain forms (`--by`, `--format`, `--wide`, nothing else) over the working
tree: its memo key is made here as the report makes it (ledger/memo.py: the report, its
arguments, the config as parsed, the ledger's fingerprint from ledger/tree.py), and the text
kept beside that memo entry for this way of printing it is printed. A report that met any
problem, or anything not kept, or anything unusual (other options, bad values, no
repository, a config that does not parse) goes to `bd_vpt.cli`, which answers the slow way
and keeps the text (keep) for the next time.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from bd_vpt.economics.keys import GROUP_KEYS

if TYPE_CHECKING:
    from bd_vpt.config import Config
    from bd_vpt.ledger.view import LedgerView
    from bd_vpt.render.report import Report
    from bd_vpt.repo import RepoInfo

# the repository _kept found, for make when it had no answer (one `git rev-parse` the less)
_FOUND: list[RepoInfo] = []
FORMATS = ("table", "json", "csv", "markdown")  # summary's (cli/options.py REPORT_FORMATS)


def variant(fmt: str, wide: bool) -> str:
    """How an answer was printed (its name beside the memo entry)."""
    return f"summary-{fmt}{'-wide' if wide else ''}"


def summary_args(argv: list[str]) -> tuple[str | None, str, bool] | None:
    """(by, format, wide) of `summary` in a plain form; None for anything else."""
    if argv[:1] != ["summary"]:
        return None
    from bd_vpt.integrations.plain import options

    found = options(
        argv[1:],
        {"--by": GROUP_KEYS.__contains__, "--format": FORMATS.__contains__},
        ("--wide",),
    )
    if found is None:
        return None
    return found.get("--by"), found.get("--format", "table"), "--wide" in found


def answer(argv: list[str]) -> bool:
    """Print the kept answer to argv (True), or nothing (False: ask bd_vpt.cli)."""
    asked = summary_args(argv)
    if asked is None:
        return False
    by, fmt, wide = asked
    from bd_vpt import gc_paused

    try:
        with gc_paused():  # (start-up: see integrations/plain.py)
            text = _kept(by, fmt, wide)
    except Exception:  # anything unusual: the slow way says what it is
        forget()
        return False
    if text is None:
        return False
    forget()
    sys.stdout.write(text)
    return True


def _kept(by: str | None, fmt: str, wide: bool) -> str | None:
    from bd_vpt.config import document_of, known_good
    from bd_vpt.files import optional_regular
    from bd_vpt.ledger.memo import Memo, key
    from bd_vpt.ledger.tree import worktree
    from bd_vpt.repo import discover

    info = discover()
    _FOUND[:] = [info]
    root = info.root
    data = optional_regular(root / ".beads" / "vpt" / "config.toml", root=root, what="config")
    raw = document_of(data, known_good(info)) if data is not None else {}
    _files, skipped, fingerprint = worktree(root, hand_on=True)  # the report's, if no answer
    if skipped:
        return None  # the report warns about them
    digest = key("summary", {"by": by, "since": None, "until": None}, raw, fingerprint)
    return Memo(info.state_dir).get_answer(digest, variant(fmt, wide))


def forget() -> None:
    """Nothing made here outlives the command (ledger/tree.py hands one answer on)."""
    from bd_vpt.ledger.tree import forget as forget_tree

    forget_tree()
    _FOUND.clear()


def keep(info: RepoInfo, digest: str, report: Report, fmt: str, wide: bool) -> None:
    """Print the summary report, and keep the text beside its memo entry (digest)."""
    import io

    from bd_vpt.ledger.memo import Memo
    from bd_vpt.render.report import emit

    out = io.StringIO()
    emit(report, fmt, out)
    text = out.getvalue()
    sys.stdout.write(text)
    Memo(info.state_dir).put_answer(digest, variant(fmt, wide), text)


def make(argv: list[str]) -> int | None:
    """`summary` in a plain form (see summary_args) made without click: what the click command
    prints and its exit code, errors included; None: not a plain form (click answers)."""
    asked = summary_args(argv)
    if asked is None:
        return None
    from bd_vpt.config import here
    from bd_vpt.integrations.plain import run_plain
    from bd_vpt.ledger.view import open_view

    by, fmt, wide = asked

    def work() -> None:
        info, config = here(_FOUND[0] if _FOUND else None)
        view = open_view(info, progress=fmt not in ("json", "csv"))
        run_summary(info, config, view, by, None, None, False, wide, fmt, True)

    try:
        return run_plain(work)
    finally:
        forget()


def run_summary(
    info: RepoInfo,
    config: Config,
    view: LedgerView,
    by: str | None,
    since: str | None,
    until: str | None,
    strict: bool,
    wide: bool,
    fmt: str,
    asked_again: bool,
) -> None:
    """Make the summary over view and print it; keep its text when it can be asked again
    (asked_again: the working tree, no window)."""
    from bd_vpt import reports
    from bd_vpt.render.report import emit
    from bd_vpt.render.summary import summary_report

    document = reports.summary(view, config, by=by, since=since, until=until, strict=strict)
    report = summary_report(document, wide)
    if view.memo_key is None or document["problems"] or not asked_again:
        emit(report, fmt)
        return
    keep(info, view.memo_key, report, fmt, wide)  # the same question is answered from it
