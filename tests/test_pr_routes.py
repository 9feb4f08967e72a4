"""`pr` reads the pull request's side (its records, the beads it touched, the baseline) in a
child process while it sums the head's trend and alerts (integrations/pr.py). On random
branched repositories (two writers on two shards, merges both ways, a record copied into the
other shard, reopens, times with offsets, records on the days the baseline's ends cut, alerts
and budgets that fire) its document is the same with the child and in one process
(BD_VPT_WORKERS=1), cold and from the caches, and each part of it is what the record route
gives: the range's summary, the base's summary over the baseline window, check and the
weekly trend of the ledger at head."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bd_vpt import config as config_file
from bd_vpt.economics.alerts import check
from bd_vpt.economics.metrics import summarize, trend
from bd_vpt.integrations.pr import bead_rows, compose, gather
from bd_vpt.ledger.view import open_view
from bd_vpt.repo import commit_time, discover, merge_base, rev_parse
from tests.helpers import (
    SHARD_A,
    SHARD_B,
    Repo,
    append,
    judged_repo,
    outcome,
    run_cli,
    ulid,
    usage,
)

THRESHOLDS = {"spike_factor": 1.5, "spike_history": 1, "variation_cv": 0.1}
BUDGETS = [{"name": "fleet-week", "scope": "fleet", "period": "week", "limit_usd": 0.05}]
Step = tuple[int, int, int, int, int, int]  # branch, shard, day, hour, kind, bead


def _records(i: int, day: int, hour: int, kind: int, bead: int) -> list[dict[str, Any]]:
    ts = f"2026-11-{day:02d}T{hour:02d}:{i % 60:02d}:00.000Z"
    if kind == 3:  # an offset: the same moment's UTC day may be another
        ts = f"2026-11-{day:02d}T{hour:02d}:{i % 60:02d}:00+05:00"
    name = f"R{bead}"
    spent = usage(ulid(3000 + 2 * i), ts, name, f"w{i % 2}", "m", 100 * (i + 1), 7, 0.013 * i)
    if kind == 1:
        return [spent, outcome(ulid(3001 + 2 * i), ts, name, "w", "completed", bead)]
    if kind == 2:
        return [spent, outcome(ulid(3001 + 2 * i), ts, name, "lead", "reopened", bead)]
    return [spent]


def _repository(root: Path, steps: list[Step]) -> Repo:
    repo = judged_repo(root, THRESHOLDS, BUDGETS, "-b", "main")
    append(repo, SHARD_A, *_records(0, 20, 11, 1, 0))  # the day the baseline's end cuts
    repo.commit_all("init")
    repo.git("branch", "feature")
    for i, (branch, shard, day, hour, kind, bead) in enumerate(steps, 1):
        name = ("main", "feature")[branch]
        repo.git("switch", "-q", name)
        append(repo, (SHARD_A, SHARD_B)[shard], *_records(i, day, hour, kind, bead))
        repo.commit_all(f"step {i} on {name}")
        if i % 4 == 0:
            repo.git("merge", "-q", "--no-edit", ("feature", "main")[branch])
    repo.git("switch", "-q", "feature")
    shards = [root / SHARD_A, root / SHARD_B]
    if all(shard.exists() for shard in shards):
        first = shards[0].read_bytes().split(b"\n", 1)[0]
        with shards[1].open("ab") as out:  # the same record in a second shard
            out.write(first + b"\n")
        repo.commit_all("the same record in a second shard")
    return repo


def _record_route(root: Path, base_rev: str, head_rev: str) -> dict[str, Any]:
    """The document's parts as reading every record gives them."""
    info = discover(root)
    base, head = rev_parse(root, base_rev), rev_parse(root, head_rev)
    config = config_file.at_revision(root, base)
    added = open_view(info, range_=f"{base}...{head}", use_cache=False)
    records = list(added.records())
    at_base = open_view(info, rev=base, use_cache=False).records()
    since = commit_time(root, base) - timedelta(days=30)
    until = commit_time(root, base) + timedelta(seconds=1)
    baseline = summarize(at_base, config, since=since.isoformat(), until=until.isoformat())
    head_records = list(open_view(info, rev=head, use_cache=False).records())
    outcomes = [r for r in head_records if r["kind"] == "outcome"]
    weeks = trend(head_records, config, every="week")
    groups = summarize(records, config, by="bead")["groups"]
    return {
        "merge_base": merge_base(root, base, head),
        "records": len(records),
        "totals": summarize(records, config)["totals"],
        "baseline": baseline["totals"],
        "beads": bead_rows(records, outcomes, {}, groups),
        "alerts": [a.as_dict() for a in check(head_records, config, commit_time(root, head))],
        "weekly": [
            {"period": w["period"], "bc_mt": w["bc_mt"], "tokens": w["tokens"]} for w in weeks
        ][-12:],
    }


def _pr(*argv: str) -> dict[str, Any]:
    result = run_cli("pr", *argv, "--format", "json")
    assert result.code == 0, result.err
    document: dict[str, Any] = result.json()
    return document


STEPS = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.integers(0, 1),
        st.integers(1, 25),
        st.integers(0, 23),
        st.integers(0, 3),
        st.integers(0, 4),
    ),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(STEPS)
def test_the_child_and_one_process_give_the_record_route_s_document(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, steps: list[Step]
) -> None:
    root = tmp_path_factory.mktemp("pr")
    _repository(root, steps)
    expected = _record_route(root, "main", "feature")
    beside = _pr("--base", "main", "--head", "feature", "--no-cache")
    assert beside["merge_base"] == expected["merge_base"]
    assert beside["records"] == expected["records"]
    added = ("beads_touched", "beads_reopened")  # counted from the bead rows
    assert {k: v for k, v in beside["totals"].items() if k not in added} == expected["totals"]
    assert beside["baseline"]["totals"] == expected["baseline"]
    assert [(b["bead"], b["tokens"], b["cost_usd"], b["result"]) for b in beside["beads"]] == [
        (b["bead"], b["tokens"], b["cost_usd"], b["result"]) for b in expected["beads"]
    ]
    assert beside["alerts"] == expected["alerts"]
    assert beside["weekly"] == expected["weekly"]
    for _ in range(2):  # cold in one process, then from the caches
        with monkeypatch.context() as env:
            env.setenv("BD_VPT_WORKERS", "1")
            assert _pr("--base", "main", "--head", "feature") == beside
    assert _pr("--base", "main", "--head", "feature") == beside


def test_gather_then_compose_is_the_command_s_document(tmp_path: Path) -> None:
    root = tmp_path / "pr"
    root.mkdir()
    steps: list[Step] = [(n % 2, n % 2, 1 + 2 * n, 9, n % 3, n % 4) for n in range(9)]
    _repository(root, steps)
    document = compose(gather(discover(root), "main", "feature"))
    assert document == _pr("--base", "main", "--head", "feature", "--no-cache")
    assert document["records"] > 5 and document["alerts"] and document["baseline"]["totals"]


def test_the_bead_files_read_at_once_are_those_read_one_by_one(branched: Repo) -> None:
    from bd_vpt.beads.sources import JsonlEras
    from bd_vpt.integrations.pr import _beads_at

    head = rev_parse(branched.root, "feature")
    beads = _beads_at(discover(branched.root), head)
    assert beads and beads == JsonlEras.at_commit(branched.root, head).all()
