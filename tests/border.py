"""What the bad-input table (tests/test_bad_inputs.py) builds its rows from: good ledger lines
to spoil, and setups that put a FIFO, a folder, a socket or a symlink where a file belongs."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from tests.helpers import SHARD_A, outcome, ulid, usage

LEDGER = Path(".beads/vpt/ledger")
CONFIG = Path(".beads/vpt/config.toml")
GOOD = (
    usage(ulid(1), "2026-11-02T09:00:00Z", "b1", "agent-a", "m", 60_000, 40_000, 1.0),
    outcome(ulid(2), "2026-11-02T17:00:00Z", "b1", "agent-a", "completed", 1, labels=["x"]),
)
BAD_LINE = f"{SHARD_A}:3"  # the row's line comes after the two good ones


@dataclass(frozen=True)
class Bad:
    """One bad input: run argv (after setup) and expect code with every name in the output."""

    argv: tuple[str, ...]
    names: tuple[str, ...]
    code: int = 2
    line: bytes | None = None  # a ledger line written after GOOD
    config: str | None = None  # the config's TOML (instead of the one `init` wrote)
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path], object] | None = None
    validator: bool = False  # needs the one validator (bounds, real dates) in the reader


def rec(kind: str = "usage", **changes: object) -> bytes:
    """A good record of kind (id 3) with changes; a change of None removes the field."""
    base = GOOD[0] if kind == "usage" else GOOD[1]
    record = {**base, "id": ulid(3), **changes}
    return orjson.dumps({k: v for k, v in record.items() if v is not None})


def snap(**changes: object) -> bytes:
    return rec("outcome", snapshot={**GOOD[1]["snapshot"], **changes})


SHARD = ".beads/vpt/ledger/2026-11/shard.jsonl"
MONTH = ".beads/vpt/ledger/2026-10"


def instead(name: str | Path, make: Callable[[Path], object]) -> Callable[[Path], None]:
    """Put make(path) where name is (removing what is there)."""

    def setup(root: Path) -> None:
        path = root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif os.path.lexists(path):
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)

    return setup


def touch(path: Path) -> None:
    path.write_text("")


def not_utf8(path: Path) -> None:
    path.write_bytes(b"\xff\xfe = 1\n")


def link_to(target: str) -> Callable[[Path], None]:
    return lambda path: path.symlink_to(target)


def link_out(path: Path) -> None:
    """A link to a file outside the repository holding a thousand big records."""
    far = path.parents[len(path.parts) - 2] / f"elsewhere-{path.name}"
    rows = [
        usage(ulid(100 + i), "2026-11-03T09:00:00Z", "b9", "x", "m", 10**6, 0) for i in range(1000)
    ]
    far.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    path.symlink_to(far)


def socket_at(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()


def month_is_a_file(path: Path) -> None:
    path.parent.rmdir()
    path.parent.write_text("")


def ledger_linked_out(root: Path) -> None:
    ledger = root / LEDGER
    far = root.parent / "far-ledger"
    shutil.move(ledger, far)
    ledger.symlink_to(far)


def own_shard(make: Callable[[Path], None]) -> Callable[[Path], None]:
    """make() the shard `record --actor me` would append to this month."""

    def setup(root: Path) -> None:
        from bd_vpt.ledger.store import shard_path

        path = shard_path(root, "me")
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)

    return setup


REC = ("record", "b1", "-m", "m", "--actor", "me")
CLOSE = ("close", "b1", "--no-bd", "--actor", "me")
INPUT = (*REC, "--input", "5")
