"""`bd-vpt undo [RECORD_ID]`: withdraw a record by appending a retraction.

The ledger stays append-only: the retraction names the record it withdraws, and every read
(ledger/view.py, ledger/known.py) leaves both out, so no report counts either. A withdrawn
capture is not captured again (its source_ref stays held).
"""

from __future__ import annotations

from pathlib import Path

from bd_vpt.errors import VptError
from bd_vpt.ledger.records import SCHEMA_VERSION, Record, new_id, now_ts
from bd_vpt.ledger.store import shard_path, writer_slug
from bd_vpt.ledger.writer import writing
from bd_vpt.repo import RepoInfo


def undo(
    info: RepoInfo, *, record_id: str | None, actor: str, reason: str | None = None
) -> tuple[Record, Record, Path]:
    """(the retraction written, the record it withdraws, the shard written to).

    Without record_id: the newest record this writer (actor, in this worktree) wrote."""
    mine = writer_slug(actor, info.root)
    with writing(info) as writer:
        by_id: dict[str, Record] = {}
        newest: Record | None = None
        retracted: set[str] = set()
        for shown, blob in writer.known.sources.blobs():
            if shown.startswith("stash@") or shown.startswith("("):
                continue  # a stashed record is not in this work tree's ledger
            own = Path(shown).name.startswith(mine)
            for rec in blob.records:
                by_id.setdefault(rec["id"], rec)
                if rec["kind"] == "retraction":
                    retracted.add(rec["retracts"])
                elif own and (newest is None or rec["id"] > newest["id"]):
                    newest = rec
        if record_id is None:
            if newest is None or newest["id"] in retracted:
                raise VptError(
                    f"nothing of yours to undo: no record of {actor} in this worktree's ledger "
                    "that is not withdrawn already",
                    hint="name the record: `bd-vpt undo RECORD_ID` (ids are in the ledger lines "
                    "and in `bd-vpt bead BEAD --format json`)",
                )
            target = newest
        else:
            found = by_id.get(record_id)
            if found is None:
                raise VptError(
                    f"no record {record_id} in the ledger of this worktree: nothing was written",
                    hint="copy the id from the ledger line (26 characters, e.g. 01JD...)",
                )
            target = found
        if target["kind"] == "retraction":
            raise VptError(
                f"{target['id']} is itself an undo: undoing an undo is not supported",
                hint="record the withdrawn figures again (bd-vpt record / close)",
            )
        if target["id"] in retracted:
            raise VptError(f"{target['id']} is already withdrawn: nothing was written")
        retraction: Record = {
            "v": SCHEMA_VERSION,
            "id": new_id(),
            "kind": "retraction",
            "ts": now_ts(),
            "bead": target["bead"],
            "actor": actor,
            "source": "manual",
            "source_ref": None,
            "retracts": target["id"],
            "reason": reason,
        }
        path = shard_path(info.root, actor)
        writer.append([retraction], path)
    return retraction, target, path
