"""The one route from git to every report: each function takes a view (bd_vpt.ledger.view:
working tree, --rev or --range), folds its records with a pure function from economics/
through the memo, and returns a JSON-ready document. Nothing here renders or parses options.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from bd_vpt.config import Config
from bd_vpt.errors import EXIT_BAD, Problem, VptError
from bd_vpt.ledger import store as ledger
from bd_vpt.ledger.records import Record
from bd_vpt.ledger.view import LedgerView, finish, memoised
from bd_vpt.repo import RepoInfo

if TYPE_CHECKING:
    from bd_vpt.ledger.rows import Folded


def _labelled(
    view: LedgerView,
    report: str,
    args: dict[str, Any],
    config: Config,
    strict: bool,
    fold: Callable[[LedgerView], Any],
) -> dict[str, Any]:
    """A memoised document, with the ledger it read and how many problems it met."""
    document, problems = memoised(view, report, args, config, strict, fold)
    return {**document, "source": view.label, "problems": problems}


def summary(
    view: LedgerView,
    config: Config,
    *,
    by: str | None,
    since: str | None,
    until: str | None,
    strict: bool,
) -> dict[str, Any]:
    args: dict[str, Any] = {"by": by, "since": since, "until": until}

    def folded(view: LedgerView) -> dict[str, Any]:
        from bd_vpt.economics.metrics import cut_days, summarize_rows, window

        if by is None and not cut_days(window(since, until)):
            return fleet_summary(view, config, args)
        ledger = _folded(view, since, until)
        return summarize_rows(ledger.rows, ledger.outcomes, config, **args)

    return _labelled(view, "summary", args, config, strict, folded)


def fleet_summary(view: LedgerView, config: Config, args: dict[str, Any]) -> dict[str, Any]:
    """summary with no --by over a window whose ends fall on midnights: made again from the
    last one kept (ledger/delta.py) and the beads a few changed blobs touch, else the full
    way. Parts (economics/parts.py) holds what each bead adds. What the full way finds is
    kept from the second time this report is made in a repository on (keeping costs a
    tenth of a cold report: a report made once, in a fresh clone or CI, does not pay it)."""
    from bd_vpt.economics.facts import collect_rows
    from bd_vpt.economics.metrics import bead_states, summarize_facts, window
    from bd_vpt.economics.parts import Part, Parts, fleet_document, usage_sums
    from bd_vpt.ledger import delta
    from bd_vpt.ledger.memo import key

    win = window(args["since"], args["until"])
    store = delta.Store(view, key("summary-parts", args, config.raw, ""))
    kept = store.load()
    stepped = view.stepped(kept[0]) if kept is not None else None
    found: dict[str, Part | None] = {}
    document: dict[str, Any] | None = None  # the full way's
    if kept is not None and stepped is not None:
        dumped, sums, attributed, outcome_records = kept[1]
        parts = Parts.load(dumped)
        for sign, folds in ((-1, stepped.dropped), (1, stepped.added)):
            for fold in folds:
                facts = collect_rows(fold.rows, fold.outcomes, config, win)
                more, more_attributed = usage_sums(facts)
                sums = [a + sign * b for a, b in zip(sums, more, strict=True)]
                attributed += sign * more_attributed
                outcome_records += sign * facts.outcome_records
        facts = collect_rows(stepped.rows, stepped.outcomes, config, win)
        summarize_facts(facts, config, win=win, parts=found)
        index, beads = stepped.index, stepped.beads
        parts.grow(len(index.names))
    else:
        asked = store.asked()  # a report made once is not kept
        ledger = view.folded(win, (), keep=asked)
        facts = collect_rows(ledger.rows, ledger.outcomes, config, win)
        keeping = asked and view.kept is not None
        document = summarize_facts(facts, config, win=win, parts=found if keeping else None)
        made = (
            delta.build([(e.path, e.sha) for e in view.entries or []], *view.kept)
            if keeping and view.kept is not None
            else None
        )
        if made is None:
            store.mark()
            return document
        index, beads = made, set(found)
        sums, attributed = usage_sums(facts)
        outcome_records = facts.outcome_records
        parts = Parts()
        parts.grow(len(index.names))
    states, buckets, numbers = bead_states(facts), facts.buckets, index.numbers
    parts.put(
        (numbers[b], states.get(b), found.get(b), buckets.get((b, ""), (0,))[0]) for b in beads
    )
    result = fleet_document(parts, index.order(), index.names, sums, attributed, outcome_records)
    if document is None or result == document:  # kept only when the two ways agree
        store.save(index, (parts.dump(), sums, attributed, outcome_records))
    return document or result


def _folded(view: LedgerView, since: str | None, until: str | None) -> Folded:
    """The view folded for a usage report over [since, until)."""
    from bd_vpt.economics.metrics import window

    return folded_for(view, window(since, until))


def folded_for(view: LedgerView, win: Any) -> Folded:
    """The view folded for a report whose window is win (the days its ends cut are placed
    record by record)."""
    from bd_vpt.economics.metrics import cut_days

    return view.folded(win, cut_days(win))


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
    from bd_vpt.economics.metrics import trend_rows

    args: dict[str, Any] = {"every": every, "by": by, "since": since, "until": until}

    def folded(view: LedgerView) -> list[dict[str, Any]]:
        ledger = _folded(view, since, until)
        return trend_rows(ledger.rows, ledger.outcomes, config, **args)

    rows: list[dict[str, Any]]
    rows, _ = memoised(view, "trend", args, config, strict, folded)
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
    from bd_vpt.economics.choice import compare_models

    args: dict[str, Any] = {"facet": facet, "since": since, "until": until}
    document: dict[str, Any]
    document, _ = memoised(
        view, "models", args, config, strict, lambda v: compare_models(v.records(), config, **args)
    )
    return document


def records_in(
    view: LedgerView, *, since: str | None, until: str | None, strict: bool
) -> list[Record]:
    """The view's records whose time falls in the window (for exports)."""
    from bd_vpt.economics.metrics import window

    win = window(since, until)
    records = [r for r in view.records() if win.holds(r["ts"])]
    finish(view.scan, strict=strict)
    return records


def budget(view: LedgerView, config: Config, *, at: str | None, strict: bool) -> list[Any]:
    """Spend against each [[budgets]] cap, judged at `at` (default now)."""
    from bd_vpt.economics.alerts import budget_rows, judged_at, now_or

    moment = now_or(at)

    def folded(view: LedgerView) -> list[Any]:
        ledger = folded_for(view, judged_at(moment))
        return budget_rows(ledger.rows, ledger.outcomes, config, moment)

    rows: list[Any]
    rows, _ = memoised(
        view,
        "budget",
        {"at": moment.isoformat()},
        config,
        strict,
        folded,
    )
    return rows


def check(view: LedgerView, config: Config, *, at: str | None, strict: bool) -> list[Any]:
    """Every alert that fires, as dicts (name, pattern, action, evidence, hard, subject)."""
    from bd_vpt.economics.alerts import check_rows, judged_at, now_or

    moment = now_or(at)

    def folded(view: LedgerView) -> list[Any]:
        ledger = folded_for(view, judged_at(moment))
        return [a.as_dict() for a in check_rows(ledger.rows, ledger.outcomes, config, moment)]

    alerts: list[Any]
    alerts, _ = memoised(
        view,
        "check",
        {"at": moment.isoformat()},
        config,
        strict,
        folded,
    )
    return alerts


def period_figures(view: LedgerView, config: Config, spec: str, *, strict: bool) -> Any:
    """The baseline figures of one period (what `compare` sets side by side)."""
    from bd_vpt.economics.governance import figures

    found, _ = memoised(
        view,
        "figures",
        {"period": spec},
        config,
        strict,
        lambda v: figures(v.records(), config, spec),
    )
    return found


def baseline_entry(
    view: LedgerView, config: Config, spec: str, now: datetime, *, strict: bool
) -> dict[str, Any]:
    """What `baseline set` stores: the period's figures (the same fold as `compare`)."""
    from bd_vpt.economics.governance import baseline_entry as entry

    return entry(period_figures(view, config, spec, strict=strict), spec, now)


def marginal(
    view: LedgerView,
    config: Config,
    *,
    by: str,
    since: str | None,
    until: str | None,
    strict: bool,
) -> dict[str, Any]:
    from bd_vpt.economics.governance import marginal as fold

    orchestrators = list(config.raw.get("roles", {}).get("orchestrators", []))
    args: dict[str, Any] = {"by": by, "since": since, "until": until}
    document: dict[str, Any]
    document, _ = memoised(
        view,
        "marginal",
        args,
        config,
        strict,
        lambda v: fold(v.records(), config, orchestrators=orchestrators, **args),
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
    snapshot = next(  # (an outcome's; a field of that name on another record may be anything)
        (
            r["snapshot"]
            for r in reversed(records)
            if isinstance(r.get("snapshot"), dict) and r["snapshot"]
        ),
        None,
    )
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
    sources = ledger.working_tree_sources(root, paths or None, scan.problems)
    count = sum(1 for _ in ledger.read(sources, scan, full_schema=True))
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
    from bd_vpt.economics.modelnames import canonical
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
                "what": canonical(r["model"]) if usage else r["result"],
                "tokens": token_total(r["tokens"], config.token_basis) if usage else None,
                "cost_usd": r.get("cost_usd") if usage else None,
                "commit": f"{commit['commit'][:8]} {commit['subject'][:18]}"
                if commit
                else "(not committed)",
            }
        )
    return rows


def bead_footer(story: dict[str, Any]) -> str:
    totals = story["totals"]
    closed = "yes" if totals["beads_closed"] else "no"
    bc_mt = totals["bc_mt"] if totals["bc_mt"] is not None else "-"
    from bd_vpt.render.output import cost_line

    return (
        f"total: {totals['tokens']:,} tokens, {cost_line(totals)}, closed: {closed}, BC/MT {bc_mt}"
    )


def dashboard(
    view: LedgerView,
    config: Config,
    *,
    since: str | None,
    until: str | None,
    every: str | None,
    strict: bool,
) -> dict[str, Any]:
    """The dashboard's document (economics/overview.py), memoised like every report."""
    from bd_vpt.economics.overview import compose

    args: dict[str, Any] = {"since": since, "until": until, "every": every}
    return _labelled(
        view, "dashboard", args, config, strict, lambda v: compose(v.records(), config, **args)
    )


def rollup(
    paths: list[str],
    config: Config,
    *,
    by: str,
    since: str | None,
    until: str | None,
    strict: bool,
    use_cache: bool = True,
) -> dict[str, Any]:
    """Many repositories' ledgers, each as committed at its default branch (never a working
    tree, no checkout): the org's figures by repo, team or agent (economics/rollup.py)."""
    from bd_vpt import repo
    from bd_vpt.economics.rollup import Part
    from bd_vpt.economics.rollup import rollup as fold
    from bd_vpt.ledger.view import open_view

    parts: list[Part] = []
    roots = repo.repositories(paths)
    names = short_names(roots)
    for root, name in zip(roots, names, strict=True):
        info = repo.discover(root)
        found = repo.default_branch(root)
        records: list[Record] = []
        facts: dict[str, Any] = {"path": str(root), "ref": None, "commit": None, "problems": 0}
        if found is not None:
            ref, commit = found
            view = open_view(info, rev=commit, use_cache=use_cache)
            records = list(view.records())
            finish(view.scan, strict=strict)
            facts.update(ref=ref, commit=commit, problems=len(view.scan.problems))
        facts["records"] = len(records)
        parts.append(Part(name, records, facts))
    return fold(parts, config, by=by, since=since, until=until)


def short_names(roots: list[Path]) -> list[str]:
    """Each repository's folder name; parent/name where two share a name."""
    names = [root.name for root in roots]
    return [
        f"{root.parent.name}/{root.name}" if names.count(root.name) > 1 else root.name
        for root in roots
    ]
