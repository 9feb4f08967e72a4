"""Per-blob folds (ledger/rows.py) give exactly the figures of reading every record.

- The fast lane (ledger/fast.py) accepts only lines the one validator accepts, with the
  same values: hypothesis over near-valid records, and every single change of a usage line.
- On random ledgers (several shards, committed and changed files, union-merge duplicates,
  ids and source_refs repeated across shards, retractions, unsplit and unknown token kinds,
  offset times, newer versions, bad and torn lines) the folded route and the record route
  give the same summary (every grouping) and trend, and the same problems, for windows that
  fall on midnights and windows that cut days; cold, from the fold cache, and without it.
"""

from __future__ import annotations

import copy
import dataclasses
import marshal
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec import UNSET

from bd_vpt import config as config_file
from bd_vpt.economics.alerts import budget_rows, budget_status, check_rows, judged_at
from bd_vpt.economics.alerts import check as judge
from bd_vpt.economics.metrics import (
    collect_rows,
    cut_days,
    fleet_facts,
    summarize,
    summarize_rows,
    trend,
    trend_of,
    trend_rows,
    window,
)
from bd_vpt.ledger import fast
from bd_vpt.ledger.records import check
from bd_vpt.ledger.rows import BlobFold, collide, cut_fold, exact, fold_blob, id_keys
from bd_vpt.ledger.usage import merge_row
from bd_vpt.ledger.view import open_view
from bd_vpt.repo import discover
from tests.helpers import Repo, judged_repo, outcome, reported_before, run_cli, ulid, usage
from tests.test_validator_agrees import EDGES, MISSING, USAGE, change, near_valid

FULL_USAGE: dict[str, Any] = {
    **USAGE,
    "tokens": {"input": 1, "output": 2, "cache_read": 3, "cache_write": 4, "reasoning": 1},
    "reported_cost_usd": 0.4,
    "gt_session": "gt-1",
    "messages": 3,
    "requests": 2,
}
USAGE_FIELDS = [*FULL_USAGE, "tokens.input", "tokens.total", "tokens.weird", "tokens.reasoning"]


def _agrees(record: dict[str, Any]) -> bool:
    """The fast lane's verdict implies check's, with the same values. True: it took the line."""
    try:
        line = orjson.dumps(record)
    except TypeError:
        return False
    decoded = fast.decode(line)
    if decoded is None or not fast.columns_ok([decoded.id], [decoded.ts]):
        return False
    parsed = orjson.loads(line)
    assert check(parsed) is None, (record, check(parsed))
    for name in ("id", "ts", "bead", "actor", "source", "model", "cost_usd"):
        assert getattr(decoded, name) == parsed[name], name
    assert decoded.source_ref == parsed.get("source_ref")
    tokens = parsed["tokens"]
    for kind in ("input", "output", "cache_read", "cache_write", "reasoning", "total"):
        value = getattr(decoded.tokens, kind)
        assert (value if value is not UNSET else None) == tokens.get(
            kind, 0 if kind in ("cache_read", "cache_write", "reasoning") else None
        ), kind
    return True


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid())
def test_the_fast_lane_takes_only_lines_check_takes(record: dict[str, Any]) -> None:
    _agrees(record)


def test_every_single_change_of_a_usage_line() -> None:
    taken = refused = 0
    for name in USAGE_FIELDS:
        for value in [MISSING, *EDGES]:
            record = copy.deepcopy(FULL_USAGE)
            change(record, name, value)
            if _agrees(record):
                taken += 1
            else:
                refused += 1
    assert _agrees(FULL_USAGE) and _agrees(USAGE)
    assert taken > 50 and refused > 500  # both lanes are really exercised


def test_lines_not_written_as_bd_vpt_writes_them_take_the_record_route() -> None:
    base = usage(ulid(1), "2026-11-02T10:00:00.000Z", "b", "a", "m", 5, 6, 0.25)
    odd = [
        {**base, "v": 2},  # a newer version: warned about, once
        {**base, "tokens": {"total": 9}},  # unsplit
        {**base, "tokens": {"input": 1, "audio": 4}},  # a token kind bd-vpt does not know
        {**base, "ts": "2026-11-02T10:00:00+02:00"},  # an offset
    ]
    for record in odd:
        line = orjson.dumps(record) + b"\n"
        fold = fold_blob(line)
        assert sum(row[0] for row in fold.rows.values()) == 1, record


def test_collide_finds_a_key_in_two_blobs_with_sets_and_with_numpy() -> None:
    small = [id_keys([ulid(1), ulid(2)]), id_keys([ulid(3)])]
    assert not collide(small)
    assert collide([*small, id_keys([ulid(2)])])
    big = [id_keys(ulid(n) for n in range(k, 250_000, 3)) for k in range(3)]
    assert not collide(big)
    assert collide([*big, id_keys([ulid(7)])])


def test_a_cached_fold_loads_as_it_was_dumped() -> None:
    data = b"".join(
        orjson.dumps(r) + b"\n"
        for r in (
            usage(ulid(1), "2026-11-02T10:00:00.000Z", "b", "a", "m", 5, 6, 0.25, source_ref="x"),
            outcome(ulid(2), "2026-11-02T12:00:00.000Z", "b", "a", "completed", 2),
        )
    )
    fold = fold_blob(data + b"not json\n")
    assert fold.rows and fold.outcomes and fold.problems

    loaded = BlobFold.load(marshal.loads(marshal.dumps(fold.dump())))
    assert loaded.rows == fold.rows and loaded.outcomes == fold.outcomes
    assert list(loaded.ids) == list(fold.ids) and list(loaded.refs) == list(fold.refs)
    assert loaded.problems == fold.problems and loaded.lines_read == fold.lines_read


def _by_day_unless(halves: set[str], fold: BlobFold) -> dict[Any, list[Any]]:
    """fold's rows as reports read them: only on a cut day does a row's cut matter (the
    exact way places every record; cut_fold only those of the cut days)."""
    rows: dict[Any, list[Any]] = {}
    for key, row in fold.rows.items():
        key = key if key[3] in halves else (*key[:5], 0, key[6])
        if key in rows:
            merge_row(rows[key], row)
        else:
            rows[key] = list(row)
    return rows


def _cut_both_ways(data: bytes, win: Any) -> tuple[BlobFold | None, BlobFold]:
    from bd_vpt.ledger.store import parse_blob

    halves = cut_days(win)
    placed = cut_fold(fold_blob(data), data, win, halves)
    expected = exact(parse_blob(data), cut=win)
    expected.rows = _by_day_unless(halves, expected)
    return placed, expected


def test_a_cut_day_is_placed_record_by_record_from_its_lines_alone() -> None:
    lines = [
        usage(ulid(n), f"2026-11-0{3 + n % 3}T{n:02d}:10:00.000Z", "b", "a", "m", n, n + 1)
        for n in range(1, 20)
    ]
    lines.append(outcome(ulid(40), "2026-11-04T11:00:00.000Z", "b", "a", "completed", 2))
    data = b"".join(orjson.dumps(r) + b"\n" for r in lines)
    win = window("2026-11-03T00:00:00Z", "2026-11-04T09:30:00Z")  # cuts the 4th
    placed, expected = _cut_both_ways(data, win)
    assert placed is not None and {k[5] for k in placed.rows} == {0, 1, 2}
    assert placed.rows == expected.rows and placed.outcomes == expected.outcomes
    # a cut day's ts written with an escape is not found by its text: the exact way
    escaped = data.replace(b'"ts":"2026-11-04T04', b'"ts":"2026\\u002d11-04T04', 1)
    assert escaped != data and fold_blob(escaped).rows == fold_blob(data).rows
    placed, expected = _cut_both_ways(escaped, win)
    assert placed is None and expected.rows == _cut_both_ways(data, win)[1].rows
    # a line the fold did not keep (a problem): the exact way
    assert _cut_both_ways(data + b"not json\n", win)[0] is None


SHARDS = [
    ".beads/vpt/ledger/2026-11/w1-aaaaaa.jsonl",
    ".beads/vpt/ledger/2026-11/w2-bbbbbb.jsonl",
    ".beads/vpt/ledger/2026-12/w1-aaaaaa.jsonl",
]
KINDS = [
    "usage",
    "usage",
    "usage",
    "unpriced",
    "unsplit",
    "unknown-kind",
    "offset",
    "newer",
    "int-cost",
    "outcome",
    "reopen",
    "retract",
    "same-line",
    "same-id-elsewhere",
    "same-ref-elsewhere",
    "bad",
]
Step = tuple[int, str, int, int, int]  # shard, kind, day, hour, bead


def _line(n: int, kind: str, day: int, hour: int, bead: int, made: list[dict[str, Any]]) -> bytes:
    ts = f"2026-11-{day:02d}T{hour:02d}:{n % 60:02d}:00.000Z"
    b = f"F-{bead}"
    rec = usage(ulid(n), ts, b if bead else None, f"agent-{n % 2}", ("m1", "m2")[n % 2], n, 2 * n)
    rec["cost_usd"] = round(0.001 * n, 6)
    rec["source_ref"] = f"ref-{n}"
    if kind == "unpriced":
        rec["cost_usd"] = None
    elif kind == "unsplit":
        rec["tokens"] = {"total": 7 * n}
    elif kind == "unknown-kind":
        rec["tokens"] = {"input": n, "audio": 3}
    elif kind == "offset":
        rec["ts"] = f"2026-11-{day:02d}T{hour:02d}:30:00+05:00"
    elif kind == "newer":
        rec["v"] = 2
    elif kind == "int-cost":
        rec["cost_usd"] = n % 3
    elif kind in ("outcome", "reopen"):
        result = "completed" if kind == "outcome" else "reopened"
        rec = outcome(ulid(n), ts, b, "agent-0", result, bead % 5)
    elif kind == "retract" and made:
        target = made[n % len(made)]
        rec = {
            "v": 1,
            "id": ulid(n),
            "kind": "retraction",
            "ts": ts,
            "bead": None,
            "actor": "agent-0",
            "source": "manual",
            "source_ref": None,
            "retracts": target["id"],
            "reason": None,
        }
    elif kind in ("same-line", "same-id-elsewhere") and made:
        rec = made[n % len(made)]
    elif kind == "same-ref-elsewhere" and made:
        rec["source_ref"] = made[n % len(made)].get("source_ref")
    elif kind == "bad":
        return b'{"v":1,"kind":"usage","id":"nope"}\n'
    made.append(rec)
    return orjson.dumps(rec) + b"\n"


def _write(root: Path, steps: list[Step], start: int) -> None:
    made: list[dict[str, Any]] = []
    for i, (shard, kind, day, hour, bead) in enumerate(steps):
        path = root / SHARDS[shard]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as out:
            out.write(_line(start + i, kind, day, hour, bead, made))


WINDOWS = [
    (None, None),
    ("2026-11-03T00:00:00Z", "2026-11-05T00:00:00Z"),  # on midnights
    ("2026-11-03T12:00:00Z", "2026-11-05T06:30:00Z"),  # cutting two days
    (None, "2026-11-04T09:15:00Z"),
]
STEPS = st.lists(
    st.tuples(
        st.integers(0, len(SHARDS) - 1),
        st.sampled_from(KINDS),
        st.integers(1, 6),
        st.integers(0, 23),
        st.integers(0, 4),
    ),
    min_size=1,
    max_size=30,
)


THRESHOLDS = {
    "spike_factor": 1.5,
    "spike_history": 1,
    "bc_mt_floor": 1000.0,
    "variation_cv": 0.1,
    "variation_min_beads": 2,
}
BUDGETS = [
    {"name": "fleet-week", "scope": "fleet", "period": "week", "limit_usd": 0.05},
    {
        "name": "agent-day",
        "scope": "actor",
        "match": "agent-1",
        "period": "day",
        "limit_tokens": 10,
    },
]
NOWS = [
    datetime(2026, 11, 4, 9, 15, tzinfo=UTC),  # cuts a day
    datetime(2026, 11, 6, 0, 0, tzinfo=UTC),  # a midnight
    datetime(2026, 11, 3, 23, 59, 59, 999999, tzinfo=UTC),
]


def _judged_both_ways(info: Any, config: Any) -> int:
    """check and budget: records against rows folded with judged_at(now). How many alerts
    fired (over every now)."""
    fired = 0
    for now in NOWS:
        records = open_view(info, use_cache=False).records()
        expected = [a.as_dict() for a in judge(records, config, now)]
        spent = budget_status(open_view(info, use_cache=False).records(), config, now)
        view = open_view(info)
        ledger = view.folded(judged_at(now), cut_days(judged_at(now)))
        got = [a.as_dict() for a in check_rows(ledger.rows, ledger.outcomes, config, now)]
        assert got == expected, now
        assert budget_rows(ledger.rows, ledger.outcomes, config, now) == spent, now
        # pr's way: the head's usage collected by week once, its sum over the weeks for the
        # whole-ledger figures; with no budget, the head is folded without placing now's day
        every = window(None, None)
        by_week = collect_rows(ledger.rows, ledger.outcomes, config, every, every="week")
        fleet = fleet_facts(by_week)
        direct = collect_rows(ledger.rows, ledger.outcomes, config)
        assert (fleet.buckets, fleet.bead_days, fleet.unpriced_days) == (
            direct.buckets,
            direct.bead_days,
            direct.unpriced_days,
        )
        assert list(fleet.buckets) == list(direct.buckets)
        assert (fleet.usage_records, fleet.outcome_records) == (
            direct.usage_records,
            direct.outcome_records,
        )
        weekly = trend_of(by_week, config, every, "week", None)
        shared = check_rows(ledger.rows, ledger.outcomes, config, now, weekly, fleet)
        assert [a.as_dict() for a in shared] == expected, now
        bare = dataclasses.replace(config, raw={**config.raw, "budgets": []})
        unplaced = open_view(info).folded()
        records = open_view(info, use_cache=False).records()
        assert [a.as_dict() for a in judge(records, bare, now)] == [
            a.as_dict() for a in check_rows(unplaced.rows, unplaced.outcomes, bare, now)
        ], now
        fired += len(got)
    return fired


def _both_routes(root: Path) -> int:
    info = discover(root)
    config = config_file.load(root)
    fired = _judged_both_ways(info, config)
    for since, until in WINDOWS:
        win = window(since, until)
        for by in (None, "agent", "model", "bead", "week"):
            record_view = open_view(info, use_cache=False)
            expected = summarize(record_view.records(), config, by=by, since=since, until=until)
            for use_cache in (True, True, False):  # cold, from the fold cache, no cache
                view = open_view(info, use_cache=use_cache)
                folded = view.folded(win, cut_days(win))
                got = summarize_rows(
                    folded.rows, folded.outcomes, config, by=by, since=since, until=until
                )
                assert got == expected, (since, until, by, use_cache)
                assert [p.render() for p in view.scan.problems] == [
                    p.render() for p in record_view.scan.problems
                ]
        view = open_view(info)
        folded = view.folded(win, cut_days(win))
        rows = trend_rows(
            folded.rows, folded.outcomes, config, every="day", since=since, until=until
        )
        records = open_view(info, use_cache=False).records()
        assert rows == trend(records, config, every="day", since=since, until=until)
    return fired


def _ledger(root: Path, committed: list[Step], changed: list[Step]) -> Repo:
    repo = judged_repo(root, THRESHOLDS, BUDGETS)
    _write(root, committed, 100)
    repo.commit_all("committed records")
    _write(root, changed, 500)  # changed since `git add`: folded from the file's bytes
    return repo


def test_alerts_and_budgets_fire_the_same_both_ways(tmp_path: Path) -> None:
    steps: list[Step] = [(n % 2, "usage", 1 + n % 5, 8 + n, n % 3) for n in range(12)]
    steps += [(0, "outcome", 2, 9, 1), (1, "outcome", 3, 9, 2), (0, "reopen", 4, 10, 1)]
    steps += [(2, "unpriced", 4, 9, 1), (0, "usage", 5, 10, 2)]
    (tmp_path / "fires").mkdir()
    _ledger(tmp_path / "fires", steps, [(1, "usage", 4, 9, 1), (1, "usage", 4, 11, 2)])
    assert _both_routes(tmp_path / "fires") > 5  # spikes, floors, budgets, variation


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(committed=STEPS, changed=STEPS)
def test_folded_and_record_routes_agree_on_random_ledgers(
    tmp_path_factory: pytest.TempPathFactory, committed: list[Step], changed: list[Step]
) -> None:
    root = tmp_path_factory.mktemp("folds")
    repo = _ledger(root, committed, changed)
    _both_routes(root)
    repo.commit_all("and those")
    _both_routes(root)


def test_merging_folds_leaves_each_blob_s_fold_as_it_was() -> None:
    from bd_vpt.ledger.rows import Folded

    def blob(n: int) -> bytes:
        rec = usage(ulid(n), "2026-11-02T10:00:00.000Z", "b", "a", "m", n, n)
        return orjson.dumps(rec) + b"\n"

    first, second = fold_blob(blob(1)), fold_blob(blob(2))
    before = (copy.deepcopy(first.rows), copy.deepcopy(second.rows))
    for _ in range(2):  # a second view of the same blobs (pr's base and head)
        merged = Folded()
        merged.add("x", first)
        merged.add("y", second)
        [row] = merged.rows.values()
        assert row[0] == 2 and row[1] == 3  # two records, input 1 + 2
    assert (first.rows, second.rows) == before


def test_worker_processes_fold_what_one_process_folds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folded in worker processes (ledger/parallel.py), the view is the same as folded
    serially: the same rows, outcomes and problems, in the blobs' order; and the cache
    entries the workers wrote as they exited give it again."""
    import shutil

    from bd_vpt.ledger import parallel
    from bd_vpt.ledger.cache import forget_folds

    if parallel.cores() < 2 or "fork" not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("worker processes need two cores and fork")
    root = many_shards(tmp_path, 20, 1)  # (twenty more shards: each worker has runs of its own)
    info = discover(root)

    def folded(workers: str) -> tuple[Any, ...]:
        forget_folds()
        shutil.rmtree(info.state_dir / "cache", ignore_errors=True)
        reported_before(info)  # (a first report writes no folds)
        monkeypatch.setenv("BD_VPT_WORKERS", workers)
        ledger = open_view(info).folded()
        problems = [p.render() for p in ledger.problems]
        return ledger.rows, [o["id"] for o in ledger.outcomes], problems

    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_JOBS", 2)
    took: list[int] = []
    real = parallel.fold_all

    def counted(history: Any, jobs: list[Any]) -> Any:
        took.append(len(jobs))
        return real(history, jobs)

    monkeypatch.setattr(parallel, "fold_all", counted)
    one = folded("1")
    many = folded("0")
    assert many == one
    assert took and took[0] >= 20  # the parallel route was taken (and serially it was not)
    forget_folds()
    parallel.settle()
    ledger = open_view(info).folded()  # from the entries the workers wrote
    assert (ledger.rows, [o["id"] for o in ledger.outcomes]) == many[:2] and len(took) == 1


def test_a_first_report_writes_no_folds_the_second_does(repo: Repo) -> None:
    """A repository's first report (a fresh clone, a CI run) folds without writing its folds,
    and leaves the cache's folder; the next report writes them; both give the same figures."""
    import shutil

    from bd_vpt.ledger.cache import BlobCache, forget_folds

    shard = repo.root / ".beads/vpt/ledger/2026-03/alice-aaaaaa.jsonl"
    shard.parent.mkdir(parents=True, exist_ok=True)
    record = usage(ulid(1), "2026-03-02T10:00:00.000Z", "B-1", "alice", "m1", 5, 7)
    shard.write_bytes(orjson.dumps(record) + b"\n")
    repo.commit_all("usage")
    info = discover(repo.root)
    folder = BlobCache(info.state_dir).dir
    assert folder is not None and not list(folder.rglob("*.f*"))
    first = run_cli("summary", "--format", "json")
    assert first.code == 0 and folder.is_dir()
    assert not list(folder.rglob("*.f*"))
    forget_folds()  # (a new process decides again)
    shutil.rmtree(info.state_dir / "cache" / "memo-v3", ignore_errors=True)  # not a memo hit
    second = run_cli("summary", "--format", "json")
    assert second.code == 0 and list(folder.rglob("*.f*"))
    assert orjson.loads(second.out)["totals"] == orjson.loads(first.out)["totals"]


def many_shards(tmp_path: Path, count: int, bad_every: int) -> Path:
    """A committed repository in tmp_path/many: test_folds' lines, then count more shards of
    8 usage records each, every bad_every-th ending in a line that is not JSON."""
    root = tmp_path / "many"
    root.mkdir()
    repo = Repo(root)
    repo.git("init", "-q")
    os.chdir(root)
    assert run_cli("init").code == 0
    steps: list[Step] = [(n % 3, KINDS[n % 11], 1 + n % 6, n % 24, n % 5) for n in range(60)]
    _write(root, steps, 100)
    for n in range(count):
        path = root / f".beads/vpt/ledger/2026-11/w{n}-cccccc.jsonl"
        recs = [
            usage(
                ulid(1000 + 10 * n + k),
                f"2026-11-0{1 + k % 5}T10:00:00.000Z",
                "F-1",
                f"agent-{n}",
                "m1",
                k + 1,
                2 * k,
            )
            for k in range(8)
        ]
        bad = b"not json\n" if n % bad_every == 0 else b""
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs) + bad)
    repo.commit_all("shards")
    return root
