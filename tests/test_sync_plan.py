"""A capture judges only the beads bd knows: the ledger's outcomes of those beads, and every
outcome's source_ref (Known.outcomes(beads=...), Known.outcome_refs): the same records and
the same reasons as reading every bead's outcomes, a source_ref filed under another bead
included."""

from __future__ import annotations

import orjson

from bd_vpt.beads.sources import open_source
from bd_vpt.beads.sync import explain
from bd_vpt.ledger.known import Known
from bd_vpt.repo import discover
from tests.helpers import Repo, append, outcome, run_cli, ulid

CLOSED = "2026-11-20T10:00:00Z"


def test_the_beads_bd_knows_are_judged_as_with_every_outcome(repo: Repo) -> None:
    assert run_cli("init").code == 0
    beads = [
        {
            "id": f"hb-{n}",
            "title": f"bead {n}",
            "status": "closed",
            "priority": n % 5,
            "issue_type": "task",
            "closed_at": CLOSED,
            "updated_at": CLOSED,
        }
        for n in range(6)
    ]
    (repo.root / ".beads/issues.jsonl").write_bytes(
        b"".join(orjson.dumps(b) + b"\n" for b in beads)
    )
    shard = ".beads/vpt/ledger/2026-11/a-aaaaaa.jsonl"
    held = [
        outcome(ulid(n), "2026-11-02T10:00:00Z", f"z-{n}", "a", "completed", 2) for n in range(40)
    ]
    held.append(  # (hb-1's close, filed under another bead)
        outcome(
            ulid(50), CLOSED, "other", "a", "completed", 1, source_ref=f"bd:hb-1:closed:{CLOSED}"
        )
    )
    held.append(outcome(ulid(51), "2026-11-21T10:00:00Z", "hb-2", "a", "completed", 2))
    held.append(outcome(ulid(52), "2026-11-01T10:00:00Z", "hb-3", "a", "completed", 3))
    held.append(outcome(ulid(53), "2026-11-02T10:00:00Z", "hb-3", "a", "reopened", 3))
    append(repo, shard, *held)
    repo.commit_all("ledger")
    info = discover(repo.root)
    source = open_source(info.root)
    assert source is not None
    found = source.all()
    known = Known(info)
    every = explain(found.values(), known.outcomes(ordered=False), actor="me")
    theirs = explain(
        found.values(),
        known.outcomes(ordered=False, beads=found),
        refs=known.outcome_refs(),
        actor="me",
    )

    def without_ids(records: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k != "id"} for r in records]  # (new ids)

    assert without_ids(every.records) == without_ids(theirs.records)
    assert every.explain == theirs.explain
    written = {r["bead"] for r in every.records}
    assert "hb-1" not in written and "hb-2" not in written and {"hb-0", "hb-3"} <= written
    assert set(known.outcomes(beads=found)) == {"hb-2", "hb-3"}
