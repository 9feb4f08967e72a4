"""The record constructors produce what the JSON Schema accepts (hooks rely on this to skip
the full schema pass for records they built themselves)."""

from __future__ import annotations

from bd_vpt.ledger.records import check, outcome_record, usage_record
from bd_vpt.ledger.schemas import record_errors


def test_constructed_records_match_the_schema() -> None:
    usage = usage_record(
        bead="bd-1",
        actor="a",
        model="m",
        tokens={"input": 1, "output": 2},
        cost_usd=0.5,
        price_ref="manual",
        ts="2026-11-02T09:00:00Z",
        session="s",
        provider="p",
        extra={"requests": 3},
    )
    bare = usage_record(
        bead=None, actor="a", model="m", tokens={"total": 9}, cost_usd=None, price_ref=None
    )
    outcome = outcome_record(
        bead="bd-1",
        actor="a",
        result="completed",
        snapshot={"priority": 1, "type": "bug", "labels": ["x"], "title": "t"},
        ts="2026-11-02",
        reason="done",
        value_usd=10.0,
        human_minutes=5,
        quality=0.8,
        evidence="PR #1",
        source="sync",
        source_ref="bd:bd-1",
    )
    reopened = outcome_record(bead="bd-1", actor="a", result="reopened", snapshot=None)
    for record in (usage, bare, outcome, reopened):
        assert check(record) is None
        assert record_errors(record) == []


def test_the_fast_check_and_the_schema_agree_on_bad_records() -> None:
    good = usage_record(
        bead="bd-1", actor="a", model="m", tokens={"input": 1}, cost_usd=0.0, price_ref=None
    )
    bad = [
        {**good, "kind": "mystery"},
        {**good, "tokens": {"input": -1}},
        {**good, "tokens": {"input": "1"}},
        {**good, "cost_usd": -0.5},
        {**good, "ts": "yesterday"},
        {**good, "v": 0},
        {**good, "actor": ""},
        {**outcome_record(bead="b", actor="a", result="completed", snapshot=None), "completion": 2},
        {**outcome_record(bead="b", actor="a", result="completed", snapshot=None), "result": "meh"},
        {**outcome_record(bead="b", actor="a", result="completed", snapshot=None), "bead": None},
    ]
    for record in bad:
        assert check(record) is not None, record
        assert record_errors(record), record


def test_ids_are_ulids_that_increase_in_a_process() -> None:
    """new_id(): a ULID python-ulid reads back, its time the clock's (or the moment's), ids
    made one after another strictly increasing (undo's "newest"); a forked process makes
    other ids."""
    import os
    import time
    from datetime import UTC, datetime

    from ulid import ULID

    from bd_vpt.ledger.records import new_id

    before = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(20_000)]
    after = time.time_ns() // 1_000_000
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for rid in (ids[0], ids[-1]):
        assert (
            len(rid) == 26
            and check(
                usage_record(
                    bead=None,
                    actor="a",
                    model="m",
                    tokens={"input": 1, "output": 1},
                    cost_usd=None,
                    price_ref=None,
                )
                | {"id": rid}
            )
            is None
        )
        assert before <= ULID.from_str(rid).milliseconds <= after
    moment = datetime(2026, 11, 12, 9, 30, 0, 123000, tzinfo=UTC)
    assert ULID.from_str(new_id(moment)).datetime == moment
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # (the child writes its ids and leaves at once)
        os.write(write, "".join(new_id() for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 4000).decode()
    os.close(read)
    mine = {new_id() for _ in range(100)}
    theirs = {child[i : i + 26] for i in range(0, len(child), 26)}
    assert len(theirs) == 100 and not mine & theirs
