"""The one write path for ledger records (manual, import, sync, hooks).

    with writing(info) as w:          # the repo's ledger lock (every worktree, every process)
        marks = w.known.marks(...)    # what the ledger holds, read under that lock
        w.append(records, shard)      # validate, dedupe, repair a torn tail, write, fsync

What the ledger "holds" is what git can give back to this worktree: its working-tree ledger
files and every stash entry's. A record whose id or (kind, source_ref) is already there is
not written again, so two imports at once, a re-import after `git stash`, a checkout, a
rebase or a second clone add nothing. Local state is never needed for that.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bd_vpt import state
from bd_vpt.errors import EXIT_BAD, EXIT_FAILED, VptError, warn
from bd_vpt.ledger.known import Known
from bd_vpt.ledger.lines import first_line_problem, line_problem
from bd_vpt.ledger.records import Record, check
from bd_vpt.repo import RepoInfo


def encode(record: Record) -> bytes:
    return orjson.dumps(record) + b"\n"


def refuse_bad(records: Iterable[Record]) -> list[bytes]:
    """Each record as its ledger line; a record the validator rejects stops everything (the
    first in order: its check() problem, else its line's line_problem())."""
    lines = []
    wrong: tuple[int, str] | None = None
    for index, record in enumerate(records):
        problem = check(record)
        if problem is not None:
            wrong = (index, problem)
            break
        lines.append(encode(record))
    unfit = first_line_problem(b"".join(lines))
    if unfit is not None and (wrong is None or unfit[0] < wrong[0]):
        wrong = unfit
    if wrong is not None:
        raise VptError(
            f"refusing to write a bad record: {wrong[1]}",
            hint="nothing was written; fix the value given (see schema/record.schema.json)",
            exit_code=EXIT_BAD,
        )
    return lines


@dataclass
class Written:
    records: list[Record] = field(default_factory=list)  # what was appended
    skipped: int = 0  # already in the ledger
    warnings: list[str] = field(default_factory=list)


class Writer:
    def __init__(self, info: RepoInfo) -> None:
        self.info = info
        self.known = Known(info)

    def append(self, records: list[Record], shard: Path) -> Written:
        """Append the records the ledger does not hold yet to shard."""
        done = Written()
        fresh: list[Record] = []
        batch: set[tuple[str, str | None]] = set()
        for record in records:
            ref = (record["kind"], record.get("source_ref"))
            if self.known.holds(record) or (ref[1] is not None and ref in batch):
                done.skipped += 1
                continue
            batch.add(ref)
            fresh.append(record)
        if not fresh:
            return done
        payload = b"".join(refuse_bad(fresh))
        for warning in write_lines(self.info, shard, payload):
            warn(warning)  # a repaired tail is news whichever command wrote
            done.warnings.append(warning)
        self.known.appended(shard, payload, fresh)
        for record in fresh:
            self.known.add(record)
        done.records = fresh
        return done


@contextmanager
def writing(info: RepoInfo) -> Iterator[Writer]:
    """The ledger lock for the whole read-dedupe-write (a report never takes it). Refuses
    in a repository where bd-vpt was never set up (`bd-vpt init`)."""
    require_init(info)
    try:
        with state.ledger_lock(info):
            yield Writer(info)
    except state.LockTimeout:
        raise VptError(
            f"another bd-vpt process has held the ledger lock for {state.LOCK_TIMEOUT:.0f} s",
            hint=(
                f"`fuser {info.state_dir / 'locks' / 'ledger.lock'}` names it; the lock is "
                "free as soon as that process exits (do not remove the file: a writer that "
                "still holds it would then write beside the next one)"
            ),
            exit_code=EXIT_FAILED,
        ) from None


def append(info: RepoInfo, records: list[Record], actor: str, path: Path | None = None) -> Path:
    """Append records to path (default: the actor's shard for this month) through the one
    write path: lock, dedupe, validate, torn-tail repair, fsync."""
    from bd_vpt.ledger.store import shard_path

    path = path or shard_path(info.root, actor)
    with writing(info) as writer:
        writer.append(records, path)
    return path


def require_init(info: RepoInfo) -> None:
    from bd_vpt.config import CONFIG_PATH

    if not (info.root / CONFIG_PATH).is_file():
        raise VptError(
            f"bd-vpt is not set up in {info.root} (no {CONFIG_PATH}): nothing was written",
            hint=f"run `bd-vpt init` there (cd {info.root} && bd-vpt init), then "
            "`git add .beads/vpt .gitattributes && git commit -m 'Track Value Per Token'`",
        )


def _tail_start(fd: int, size: int) -> int:
    """Offset just after the last newline of the file (0 when there is none)."""
    pos = size
    while pos > 0:
        start = max(0, pos - 65536)
        found = os.pread(fd, pos - start, start).rfind(b"\n")
        if found >= 0:
            return start + found + 1
        pos = start
    return 0


def _whole_record(fragment: bytes) -> bool:
    try:
        record = orjson.loads(fragment)
    except orjson.JSONDecodeError:
        return False
    return check(record) is None and line_problem(fragment.strip()) is None


def _display(info: RepoInfo, path: Path) -> str:
    try:
        return path.resolve().relative_to(info.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def write_lines(info: RepoInfo, path: Path, payload: bytes) -> list[str]:
    """Append payload (whole lines) to path: all of it, durably, or nothing.

    A torn last line left by a writer that died is first cut back to the last whole line
    (its bytes are kept under $GIT_COMMON_DIR/bd-vpt/torn/) or, when it is a whole record
    that only lacks its newline, ended. Call with the ledger lock held."""
    warnings: list[str] = []
    shown = _display(info, path)
    created = not path.exists()
    from bd_vpt.files import open_append

    # a regular file inside the repository, or exit 2 naming what is there (a FIFO, a
    # folder, a symlink, no permission) before a byte is written
    fd = open_append(path, info.root)
    done = 0
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            start = _tail_start(fd, size)
            fragment = os.pread(fd, size - start, start)
            if _whole_record(fragment):
                payload = b"\n" + payload  # a whole record that lost only its newline
            else:
                kept = state.keep_torn(info, path.name, fragment)
                os.ftruncate(fd, start)
                size = start
                warnings.append(
                    f"{shown}: cut a torn last line ({len(fragment)} bytes, not a whole record) "
                    f"left by an interrupted write; its bytes are kept in {kept}"
                )
        try:
            while done < len(payload):
                wrote = os.write(fd, payload[done:])
                if wrote <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                done += wrote
            os.fsync(fd)
        except OSError as exc:
            try:  # nothing half-written: back to the last whole line
                os.ftruncate(fd, size)
                os.fsync(fd)
            except OSError:
                pass  # the next write cuts the fragment
            raise _write_error(shown, exc, done, len(payload)) from None
    finally:
        os.close(fd)
        if created:
            _remove_if_empty(path)
    if created:
        state.fsync_dir(path.parent)
    return warnings


def _remove_if_empty(path: Path) -> None:
    try:
        if path.stat().st_size == 0:
            path.unlink()
    except OSError:
        pass


def _write_error(shown: str, exc: OSError, done: int, total: int) -> VptError:
    reason = exc.strerror or str(exc)
    return VptError(
        f"could not write {shown}: {reason} (wrote {done} of {total} bytes, then undid them); "
        "nothing was recorded and the ledger is as it was",
        hint="free some disk space (or raise the file size limit) and run the command again",
        exit_code=EXIT_FAILED,
    )
