"""What a pull request's agents spent and finished, next to the repo's usual VPT.

- The PR's records are what `base...head` added (the --range semantics of reports).
- The baseline is the ledger committed at base, over the trailing N days before base's
  commit date: the target branch's usual figures.
- The config (weights, rates, thresholds) is base's: a pull request cannot re-weight its
  own figures or silence its alerts by editing config.toml.
- Bead titles, priorities and statuses come from the bead files committed at head, else
  from the newest snapshot in the ledger at head.

gather() reads git; compose() is a pure function of what was read. The baseline is read in
a child process (ledger/parallel.beside) while compose() sums the head's trend and alerts and
reads what the pull request added (its records, the beads it touched): the two halves share
the head's folds and its beads' stories, made once before the child starts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from itertools import chain
from typing import TYPE_CHECKING, Any

from bd_vpt.config import Config
from bd_vpt.economics.facts import Facts
from bd_vpt.economics.periods import Window
from bd_vpt.errors import Problem, VptError
from bd_vpt.ledger.records import Record, parse_ts
from bd_vpt.ledger.rows import Folded
from bd_vpt.repo import RepoInfo

if TYPE_CHECKING:
    from bd_vpt.ledger.view import LedgerView

# (figure, label, True when higher is better)
COMPARED = (
    ("bc_mt", "BC/MT (weighted beads closed per million tokens)", True),
    ("cost_per_completion", "model cost per completion", False),
    ("fully_loaded_cost_per_completion", "fully loaded cost per completion", False),
)
WEEKS_CHARTED = 12
BASELINE_DAYS = 30

# What a pull request's report read (the folds, facts and stories of head and base), kept
# until the process ends (or the next gather): launch.run ends the process without the
# interpreter's tear-down, and freeing them one by one as each function returned took 20 ms
# (7 ms of the child's).
KEPT: list[object] = []


@dataclass
class Read:
    """Everything compose() needs, as read from git."""

    base: str
    head: str
    merge_base: str
    base_time: datetime
    head_time: datetime
    head_ledger: Folded  # the ledger at head, folded for judging at head's commit time
    head_outcomes: Facts  # its outcomes alone, collected by week (their states folded)
    baseline_days: int  # the trailing days of the baseline
    config: Config
    head_problems: list[Problem]
    info: RepoInfo
    added: LedgerView  # what base...head added (compose reads it: pr_side)
    # the base's totals over the baseline window (baseline_side): a child process reads them
    # while compose() works on the head's trend and the pull request's records; this gives them
    side: Callable[[], dict[str, Any]]


def gather(
    info: RepoInfo,
    base_rev: str,
    head_rev: str,
    *,
    use_cache: bool = True,
    baseline_days: int = BASELINE_DAYS,
) -> Read:
    from bd_vpt import config as config_file
    from bd_vpt.economics.alerts import budgets, judged_at
    from bd_vpt.economics.metrics import bead_states, collect_rows, cut_days, window
    from bd_vpt.ledger import view
    from bd_vpt.ledger.parallel import beside
    from bd_vpt.repo import commit_time, is_shallow, merge_base, rev_parse
    from bd_vpt.reports import folded_for

    KEPT.clear()
    try:
        base = rev_parse(info.root, base_rev)
        head = rev_parse(info.root, head_rev)
        fork = merge_base(info.root, base, head)
    except VptError as exc:
        if is_shallow(info.root):
            exc.hint = (
                "this clone is shallow: check out with `fetch-depth: 0` (actions/checkout) "
                "or run `git fetch --unshallow`"
            )
        raise
    views = [
        view.open_view(info, range_=f"{base}...{head}", use_cache=use_cache),
        view.open_view(info, rev=base, use_cache=use_cache),
        view.open_view(info, rev=head, use_cache=use_cache),
    ]
    view.mark_clean(views[1:])  # (their files in the checkout are read without hashing)
    base_time, head_time = commit_time(info.root, base), commit_time(info.root, head)
    config = config_file.at_revision(info.root, base)
    # head first: a cold report folds every blob here, and base's folds are then those in
    # memory but for the blobs the pull request changed. head is judged at its commit's
    # time, but only a budget (its period ends there) reads the records of that day one by
    # one: the trend and the other alerts read them all
    baseline = baseline_window(base_time, baseline_days)
    views[2].ahead = (baseline, cut_days(baseline))  # (base is folded next, for the baseline)
    head_ledger = (
        folded_for(views[2], judged_at(head_time)) if budgets(config) else views[2].folded()
    )
    # the head's outcomes collected by week, and its beads' stories folded, before the child
    # starts: base's are then those (economics/timeline.state_of) but for the beads the pull
    # request changed
    head_outcomes = collect_rows({}, head_ledger.outcomes, config, window(None, None), every="week")
    bead_states(head_outcomes, keep=True)
    views[1].like = views[2]  # base's blobs are head's but for the pull request's
    side = beside(partial(baseline_side, views[1], head_outcomes, config, baseline))
    return Read(
        base=base,
        head=head,
        merge_base=fork,
        base_time=base_time,
        head_time=head_time,
        head_ledger=head_ledger,
        head_outcomes=head_outcomes,
        baseline_days=baseline_days,
        config=config,
        head_problems=list(views[2].scan.problems),
        info=info,
        added=views[0],
        side=side,
    )


def pr_side(
    info: RepoInfo, added: LedgerView, head: str, head_outcomes: Facts, config: Config
) -> dict[str, Any]:
    """What the pull request added (its records' figures, the beads it touched, the models
    and agents that spent), and the problems met reading it. head_outcomes: the head's
    outcomes by bead (only the touched beads' are read)."""
    from bd_vpt.economics.metrics import summarize

    records = list(added.records())
    pr = summarize(records, config, by="bead")
    beads = _beads_at(info, head)
    spenders = {
        by: [
            {"key": g["key"], "tokens": g["tokens"], "cost_usd": g["cost_usd"]}
            for g in summarize(records, config, by=by)["groups"]
            if g["tokens"]
        ]
        for by in ("model", "agent")
    }
    touched = {record["bead"] for record in records}
    mine = chain.from_iterable(head_outcomes.outcomes.get(bead, ()) for bead in touched)
    return {
        "records": len(records),
        "totals": pr["totals"],
        "beads": bead_rows(records, mine, beads, pr["groups"]),
        **spenders,
        "problems": list(added.scan.problems),
    }


def baseline_side(
    base: LedgerView, head_outcomes: Facts, config: Config, baseline: Window
) -> dict[str, Any]:
    """The base's totals over the baseline window: plain data, as a child process sends
    them back. head_outcomes: the head's outcomes by bead, their states folded: base's beads
    take those states where their records are the head's (in a child process, each
    reference Python takes writes to the page of the object, a copy)."""
    from bd_vpt.economics.metrics import bead_states, collect_rows, summarize_facts
    from bd_vpt.economics.periodic import compiled_totals, states_like
    from bd_vpt.reports import folded_for

    if base.history is not None:  # a changed file's older blob: read from the file if it grew
        for entry in base.entries or []:
            if not entry.on_disk and entry.data is None:
                base.history.may_begin(entry.sha, entry.path)
    ledger = folded_for(base, baseline)
    facts = collect_rows(ledger.rows, ledger.outcomes, config, baseline)
    KEPT.extend((ledger, facts))
    usual = compiled_totals(
        facts, states_like(facts, head_outcomes) or bead_states(facts), config, baseline
    )
    if usual is None:
        usual = summarize_facts(facts, config, win=baseline)["totals"]
    return {"baseline": usual}


def _beads_at(info: RepoInfo, head: str) -> dict[str, Any]:
    """bead id -> beads.Bead, from the bead files committed at head (read in one git
    process: JsonlEras.at_commit starts one per file)."""
    from bd_vpt.beads.sources import JsonlEras
    from bd_vpt.repo import cat_file_batch, show_file

    eras = JsonlEras.at_commit(info.root, head)
    names = eras.fingerprinted()  # every file it may read
    refs = [f"{head}:{name}" for name in names]
    found = dict(zip(names, cat_file_batch(info.root, refs), strict=True))
    eras.read = lambda path: found[path] if path in found else show_file(info.root, head, path)
    return eras.all()


def baseline_window(base_time: datetime, days: int = BASELINE_DAYS) -> Window:
    """The trailing days before base's commit: the target branch's usual figures."""
    return Window(base_time - timedelta(days=days), base_time + timedelta(seconds=1))


def compose(read: Read) -> dict[str, Any]:
    """The pull request's document: figures, beads, baseline, alerts, weekly BC/MT."""
    from bd_vpt.economics.alerts import check_rows, weekly_tail
    from bd_vpt.economics.metrics import window
    from bd_vpt.economics.periodic import usage_of, with_usage

    config = read.config
    head = read.head_ledger
    # the head's usage folded by week once: the weekly chart and check's trend, and check's
    # whole-ledger figures (summed over the weeks)
    usage = usage_of(head.rows, config, window(None, None), "week")
    by_week = with_usage(read.head_outcomes, usage)  # = collect_rows of both, every="week"
    weeks = weekly_tail(by_week, config, WEEKS_CHARTED)  # the weeks charted and judged
    alerts = check_rows(head.rows, head.outcomes, config, read.head_time, weeks, by_week)
    weekly = [
        {"period": row["period"], "bc_mt": row["bc_mt"], "tokens": row["tokens"]}
        for row in weeks[-WEEKS_CHARTED:]
    ]
    side = pr_side(read.info, read.added, read.head, read.head_outcomes, config)
    rows, baseline = side["beads"], read.side()["baseline"]
    since = baseline_window(read.base_time, read.baseline_days).since
    assert since is not None
    problems: dict[str, Problem] = {}  # base's are already in head's, or fixed there
    for problem in [*side["problems"], *read.head_problems]:
        problems.setdefault(problem.render(), problem)
    return {
        "base": read.base,
        "head": read.head,
        "merge_base": read.merge_base,
        "range": f"{read.base}...{read.head}",
        "records": side["records"],
        "totals": {
            **side["totals"],
            "beads_touched": sum(1 for r in rows if r["bead"] is not None),
            "beads_reopened": sum(1 for r in rows if r["reopened"]),
        },
        "baseline": {
            "days": read.baseline_days,
            "since": since.isoformat(),
            "until": read.base_time.isoformat(),
            "totals": baseline,
        },
        "comparison": comparison(side["totals"], baseline),
        "beads": rows,
        "models": side["model"],
        "agents": side["agent"],
        "alerts": [a.as_dict() for a in alerts],
        "hard_alerts": sum(1 for a in alerts if a.hard),
        "weekly": weekly,
        "problems": [p.as_dict() for p in problems.values()],
    }


def comparison(pr: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """Each compared figure: the PR's, the baseline's, the change, and whether it is better."""
    rows = []
    for figure, label, higher_is_better in COMPARED:
        mine, usual = pr.get(figure), baseline.get(figure)
        change = (mine - usual) / usual if mine is not None and usual else None
        better = None if change is None or change == 0 else (change > 0) == higher_is_better
        rows.append(
            {
                "figure": figure,
                "label": label,
                "pr": mine,
                "baseline": usual,
                "change": round(change, 6) if change is not None else None,
                "better": better,
            }
        )
    return rows


def bead_rows(
    pr_records: Iterable[Record],
    head_outcomes: Iterable[Record],
    beads: dict[str, Any],
    groups: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """One row per bead the PR touched (most tokens first); usage on no bead last."""
    from bd_vpt.economics.metrics import NO_BEAD

    pr_outcomes: dict[str, list[Record]] = defaultdict(list)
    touched: set[str] = set()
    for record in pr_records:
        if record["bead"] is not None:
            touched.add(record["bead"])
            if record["kind"] == "outcome":
                pr_outcomes[record["bead"]].append(record)
    latest: dict[str, Record] = {}  # newest outcome at head per touched bead
    for record in head_outcomes:
        bead = record["bead"]
        if bead in touched:
            held = latest.get(bead)
            if held is None or _when(record) > _when(held):
                latest[bead] = record
    figures = {g["key"]: g for g in groups}
    rows = []
    for bead in touched:
        outcomes = sorted(pr_outcomes.get(bead, []), key=_when)
        facts = beads.get(bead)
        snapshot = (latest.get(bead) or {}).get("snapshot") or {}
        status = facts.status if facts is not None and facts.status else None
        if status is None and bead in latest:
            status = "closed" if latest[bead]["result"] == "completed" else "open"
        group = figures.get(bead, {})
        rows.append(
            {
                "bead": bead,
                "title": facts.title
                if facts is not None and facts.title
                else snapshot.get("title"),
                "priority": facts.priority
                if facts is not None and facts.priority is not None
                else snapshot.get("priority"),
                "status": status,
                "tokens": group.get("tokens", 0),
                "cost_usd": group.get("cost_usd", 0.0),
                "result": outcomes[-1]["result"] if outcomes else None,
                "reopened": any(o["result"] == "reopened" for o in outcomes),
            }
        )
    rows.sort(key=lambda r: (-r["tokens"], r["bead"]))
    none = figures.get(NO_BEAD)
    if none is not None and none["tokens"]:
        rows.append(
            {
                "bead": None,
                "title": None,
                "priority": None,
                "status": None,
                "tokens": none["tokens"],
                "cost_usd": none["cost_usd"],
                "result": None,
                "reopened": False,
            }
        )
    return rows


def _when(record: Record) -> tuple[datetime, str]:
    """Time order of records whose times may carry different offsets (then by id)."""
    return parse_ts(record["ts"]), record["id"]
