"""Reading the ledger for a report: which records (working tree, --rev, --range), the
problems met on the way, and strictness. The figures themselves are in metrics.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bd_vpt.config import Config
from bd_vpt.errors import EXIT_BAD, Problem, VptError, report_problems
from bd_vpt.ledger import store as ledger
from bd_vpt.ledger.history import History
from bd_vpt.ledger.records import Record
from bd_vpt.ledger.store import ParsedBlob
from bd_vpt.repo import RepoInfo


@dataclass
class LedgerView:
    """The records a report reads, and what was wrong on the way."""

    blobs: Iterable[tuple[str, ParsedBlob]]
    history: History | None = None
    scan: ledger.Scan = field(default_factory=ledger.Scan)
    label: str = "working tree"
    fingerprint: str | None = None  # names exactly the ledger content read; None: no memo

    def records(self) -> Iterator[Record]:
        for path, blob in self.blobs:
            yield from self.scan.merge(path, blob)
        if self.history is not None:
            self.scan.problems.extend(self.history.warnings)
            self.history.close()


def working_tree(root: Path) -> LedgerView:
    """Every ledger file as it is on disk (no cache: for tests and the demo)."""
    blobs = ((p, ledger.parse_blob(data)) for p, data in ledger.working_tree_sources(root))
    return LedgerView(blobs)


def _worktree(history: History) -> LedgerView:
    """Files unchanged since `git add` come from the blob cache (by blob id); others are
    read and parsed. The fingerprint names each file by blob id or content hash."""
    import hashlib

    from bd_vpt.repo import ledger_index

    root = history.info.root
    clean = ledger_index(root)
    items: list[tuple[str, str | None, bytes | None]] = []
    digest = hashlib.sha256()
    for path in ledger.ledger_files(root):
        rel = path.relative_to(root).as_posix()
        sha = clean.get(rel)
        data = None if sha else path.read_bytes()
        items.append((rel, sha, data))
        digest.update(f"{rel}\0{sha or hashlib.sha1(data or b'').hexdigest()}\0".encode())

    def blobs() -> Iterator[tuple[str, ParsedBlob]]:
        for rel, sha, data in items:
            if sha is None:
                yield rel, ledger.parse_blob(data or b"")
                continue
            blob = history.cache.get(sha)
            if blob is None:  # clean: the file on disk is the blob, and faster to read
                blob = ledger.parse_blob((root / rel).read_bytes())
                history.cache.put(sha, blob)
            yield rel, blob

    return LedgerView(blobs(), history, fingerprint="worktree:" + digest.hexdigest())


def open_view(
    info: RepoInfo,
    *,
    rev: str | None = None,
    range_: str | None = None,
    use_cache: bool = True,
    progress: bool = False,
) -> LedgerView:
    """The working tree by default; the ledger committed at --rev; or what --range added."""
    if rev and range_:
        raise VptError(
            "--rev and --range do not go together", hint="a range names its own revisions"
        )
    from bd_vpt.ledger.history import parse_range
    from bd_vpt.repo import ledger_tree_id, rev_parse

    history = History.open(info, use_cache=use_cache, show_progress=progress)
    if not rev and not range_:
        return _worktree(history)
    if range_:
        base, head = parse_range(info, range_)
        print_ = f"range:{ledger_tree_id(info.root, base)}:{ledger_tree_id(info.root, head)}"
        return LedgerView(history.added(range_), history, label=range_, fingerprint=print_)
    assert rev is not None
    commit = rev_parse(info.root, rev)
    return LedgerView(
        history.at(commit),
        history,
        label=rev,
        fingerprint=f"rev:{ledger_tree_id(info.root, commit)}",
    )


def memoised(
    view: LedgerView,
    report: str,
    args: dict[str, Any],
    config: Config,
    strict: bool,
    fold: Callable[[Iterable[Record]], Any],
) -> tuple[Any, int]:
    """(fold(the view's records), problems met) once per (ledger content, report, args,
    config). The problems are kept with the result and printed again on a hit, so a warm
    report warns (and --strict fails) as a cold one does."""
    from bd_vpt.ledger.memo import Memo, key

    history = view.history
    usable = view.fingerprint is not None and history is not None and history.cache.dir is not None
    memo = Memo(history.info.state_dir if usable and history is not None else None)
    digest = key(report, args, config.raw, view.fingerprint or "")
    entry = memo.get(digest)
    if entry is not None:
        problems = [Problem(**p) for p in entry["problems"]]
        finish(ledger.Scan(problems=problems), strict=strict)
        return entry["result"], len(problems)
    result = fold(view.records())
    finish(view.scan, strict=strict)
    memo.put(digest, result, [p.as_dict() for p in view.scan.problems])
    return result, len(view.scan.problems)


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
    from bd_vpt.economics.metrics import summarize

    args: dict[str, Any] = {"by": by, "since": since, "until": until}
    document, problems = memoised(
        view, "summary", args, config, strict, lambda records: summarize(records, config, **args)
    )
    return {**document, "source": view.label, "problems": problems}


def trend(
    view: LedgerView,
    config: Config,
    *,
    every: str,
    by: str | None,
    since: str | None,
    until: str | None,
    strict: bool,
) -> list[dict[str, Any]]:
    from bd_vpt.economics.metrics import trend as fold

    args: dict[str, Any] = {"every": every, "by": by, "since": since, "until": until}
    rows: list[dict[str, Any]]
    rows, _ = memoised(view, "trend", args, config, strict, lambda r: fold(r, config, **args))
    return rows


def models(
    view: LedgerView,
    config: Config,
    *,
    facet: str,
    since: str | None,
    until: str | None,
    strict: bool,
) -> dict[str, Any]:
    from bd_vpt.economics.metrics import compare_models

    args: dict[str, Any] = {"facet": facet, "since": since, "until": until}
    document: dict[str, Any]
    document, _ = memoised(
        view, "models", args, config, strict, lambda r: compare_models(r, config, **args)
    )
    return document


def _bd_regex(bead: str) -> str:
    """A git -G (POSIX basic) regex that finds ledger lines about this bead."""
    escaped = "".join("\\" + c if c in ".[]*^$\\" else c for c in bead)
    return f'"bead": *"{escaped}"'


def bead_story(
    info: RepoInfo, view: LedgerView, config: Config, bead: str, *, rev: str | None, strict: bool
) -> dict[str, Any]:
    """One bead: each record with the commit that brought it, and the bead's totals."""
    from bd_vpt.economics.metrics import summarize
    from bd_vpt.repo import log_added_lines

    records = sorted(
        (r for r in view.records() if r["bead"] == bead), key=lambda r: (r["ts"], r["id"])
    )
    finish(view.scan, strict=strict)
    if not records:
        raise VptError(
            f"no records for bead {bead!r} in the ledger ({view.label})",
            hint="check the id; `bd-vpt summary --by bead` lists the beads",
            exit_code=EXIT_BAD,
        )
    commits: dict[str, dict[str, str]] = {}
    head = rev or "HEAD"
    added = log_added_lines(info.root, head, _bd_regex(bead)) if _has_commits(info.root) else []
    for commit, date, subject, line in added:
        try:
            rid = orjson.loads(line).get("id")
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if isinstance(rid, str) and rid not in commits:
            commits[rid] = {"commit": commit, "date": date, "subject": subject}
    rows = [{**r, "brought_by": commits.get(r["id"])} for r in records]
    document = summarize(records, config)
    snapshot = next((r.get("snapshot") for r in reversed(records) if r.get("snapshot")), None)
    return {
        "bead": bead,
        "source": view.label,
        "snapshot": snapshot,
        "records": rows,
        "totals": document["totals"],
    }


def _has_commits(root: Path) -> bool:
    from bd_vpt.repo import git

    return bool(git("rev-parse", "--verify", "--quiet", "HEAD", cwd=root, check=False).strip())


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


def trend_table(rows: list[dict[str, Any]], metric: str) -> tuple[list[dict[str, Any]], list[str]]:
    """One line per group: a sparkline of metric over the periods, and first/last/min/max."""
    from bd_vpt.economics.metrics import sparkline

    periods = sorted({r["period"] for r in rows})
    series: dict[str, dict[str, Any]] = {}
    for r in rows:
        series.setdefault(r["key"], {})[r["period"]] = r.get(metric)
    table = []
    for key, values in series.items():
        line = [values.get(p) for p in periods]
        present = [v for v in line if v is not None]
        table.append(
            {
                "key": key,
                "spark": sparkline(line),
                "first": present[0] if present else None,
                "last": present[-1] if present else None,
                "min": min(present) if present else None,
                "max": max(present) if present else None,
            }
        )
    return table, periods


def bead_heading(story: dict[str, Any]) -> str:
    snap = story["snapshot"] or {}
    pri = f"P{snap['priority']}" if snap.get("priority") is not None else "P?"
    return f"{story['bead']} [{pri} {snap.get('type') or '?'}] {snap.get('title') or ''}".rstrip()


def bead_rows(story: dict[str, Any], config: Config) -> list[dict[str, Any]]:
    from bd_vpt.ledger.records import token_total

    rows = []
    for r in story["records"]:
        usage = r["kind"] == "usage"
        commit = r["brought_by"]
        rows.append(
            {
                "ts": r["ts"][:16].replace("T", " "),
                "kind": r["kind"],
                "actor": r["actor"],
                "what": r["model"] if usage else r["result"],
                "tokens": token_total(r["tokens"], config.token_basis) if usage else None,
                "cost_usd": r.get("cost_usd") if usage else None,
                "commit": f"{commit['commit'][:10]} {commit['subject'][:40]}"
                if commit
                else "(not committed)",
            }
        )
    return rows


def bead_footer(story: dict[str, Any]) -> str:
    totals = story["totals"]
    closed = "yes" if totals["beads_closed"] else "no"
    bc_mt = totals["bc_mt"] if totals["bc_mt"] is not None else "-"
    return (
        f"total: {totals['tokens']:,} tokens, ${totals['cost_usd']:.4f}, closed: {closed}, "
        f"BC/MT {bc_mt}"
    )
