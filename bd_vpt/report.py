"""Reading the ledger for a report: sources, problems, strictness."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bd_vpt import ledger
from bd_vpt.config import Config
from bd_vpt.errors import EXIT_BAD, Problem, VptError, report_problems
from bd_vpt.records import Record


@dataclass
class LedgerView:
    """The records a report reads, and what was wrong on the way."""

    root: Path
    sources: list[tuple[str, bytes]] | Iterator[tuple[str, bytes]]
    scan: ledger.Scan = field(default_factory=ledger.Scan)

    def records(self) -> Iterator[Record]:
        return ledger.read(self.sources, self.scan)


def working_tree(root: Path) -> LedgerView:
    return LedgerView(root, ledger.working_tree_sources(root))


def finish(scan: ledger.Scan, *, strict: bool) -> None:
    """Print one warning per bad line; with --strict any problem fails the report."""
    report_problems(scan.problems)
    if strict and scan.problems:
        raise VptError(
            f"{len(scan.problems)} problem(s) in the ledger (--strict)",
            hint="run `bd-vpt validate` for the list; fix or remove the bad lines",
            exit_code=EXIT_BAD,
        )


def summary(
    view: LedgerView,
    config: Config,
    *,
    by: str | None,
    since: str | None,
    until: str | None,
    strict: bool,
) -> dict[str, Any]:
    from bd_vpt.metrics import summarize

    document = summarize(view.records(), config, by=by, since=since, until=until)
    finish(view.scan, strict=strict)
    document["problems"] = len(view.scan.problems)
    return document


def validate(root: Path, paths: list[Path] | None) -> tuple[ledger.Scan, int]:
    """Full check (schema included) of the given files or of the whole ledger."""
    scan = ledger.Scan()
    files = paths if paths else ledger.ledger_files(root)
    count = sum(
        1 for _ in ledger.read(ledger.working_tree_sources(root, files), scan, full_schema=True)
    )
    return scan, count


def problems_as_rows(problems: list[Problem]) -> list[dict[str, object]]:
    return [p.as_dict() for p in problems]
