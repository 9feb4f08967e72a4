"""The local spool: where hook captures wait until a commit holds them.

Captured records are written here first ($GIT_COMMON_DIR/bd-vpt/spool.jsonl, one line per
record with the shard it belongs in). The pre-commit hook moves them into their shard and
stages it; a spooled record is forgotten only once git holds it at that shard (in HEAD or
in a local branch), so an aborted commit or a reset never loses it, and a record captured on
one branch is never copied into another.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import orjson

from bd_vpt.ledger.records import Record
from bd_vpt.ledger.store import lock_for
from bd_vpt.repo import RepoInfo


@dataclass(frozen=True)
class Spooled:
    shard: str  # path of the shard, relative to the work tree root
    record: Record


def add(info: RepoInfo, shard: str, records: list[Record]) -> None:
    if not records:
        return
    path = info.state_dir / "spool.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = b"".join(orjson.dumps({"shard": shard, "record": r}) + b"\n" for r in records)
    with lock_for(info, path), path.open("ab") as out:
        out.write(payload)
        out.flush()
        os.fsync(out.fileno())


def load(info: RepoInfo) -> list[Spooled]:
    path = info.state_dir / "spool.jsonl"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    entries = []
    for line in data.splitlines():
        try:
            item = orjson.loads(line)
            entries.append(Spooled(item["shard"], item["record"]))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue  # a torn spool line: its record was never acknowledged, capture redoes it
    return entries


def keep_only(info: RepoInfo, entries: list[Spooled]) -> None:
    """Rewrite the spool with entries (atomically, under its lock)."""
    path = info.state_dir / "spool.jsonl"
    tmp = path.with_suffix(".tmp")
    with lock_for(info, path):
        if not entries:
            path.unlink(missing_ok=True)
            return
        tmp.write_bytes(
            b"".join(orjson.dumps({"shard": e.shard, "record": e.record}) + b"\n" for e in entries)
        )
        os.replace(tmp, path)
