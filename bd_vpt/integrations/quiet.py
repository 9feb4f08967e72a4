"""The pre-commit hook's nothing-to-do check: most commits have nothing to capture and no
ledger line staged, and the hook then answers in two git calls and a few stats, importing
nothing but this module and bd_vpt.repo (no orjson, pathlib, dataclasses or subprocess).

After a full run whose capture found nothing new (no record, no warning), the hook writes a
stamp: the capture's inputs, each with its stat data (the config, the bead files the sync
reads and fingerprints, the capture state, the old spool). The next hook may skip the capture
when every input still has that stat data, no `bd` binary is found (bd's database has no
file to stat: bd is asked every time), and the only configured source is the sync (agent
transcripts are not watched here). Whether there is anything to stage or validate is asked
of git every time: `git status` on the ledger (staged and unstaged changes, untracked and
ignored files) must print nothing. Anything else runs the full hook, which is the only one to decide what
to capture, stage or refuse; the stamp only ever lets it skip work that would find nothing.

A file changed within RACY_NS of its stat could change again with the same stat data (coarse
file times): a stamp holding one is not written, so the next full run writes it.
"""

from __future__ import annotations

import os

from bd_vpt.repo import LEDGER_PATHSPEC, git_finished, git_started

STAMP_HEADER = "bd-vpt hook stamp 1"
RACY_NS = 50_000_000  # 50 ms; a whole-second file time counts as racy for 2 s
CAPTURE_STATE = "capture-state.json"
SPOOL = "spool.jsonl"
CONFIG = os.path.join(".beads", "vpt", "config.toml")


def stamp_path(common_dir: str, git_dir: str) -> str:
    """One stamp per worktree (each has its own sync state and ledger), in bd-vpt's state."""
    worktree = os.path.normpath(git_dir) != os.path.normpath(common_dir)
    name = f"hook-stamp-{os.path.basename(git_dir)}" if worktree else "hook-stamp"
    return os.path.join(common_dir, "bd-vpt", name)


def _stats(path: str) -> list[os.stat_result | None]:
    """The file's own stat data, and its target's when it is a symlink (None: no file)."""
    try:
        own = os.lstat(path)
    except OSError:
        return [None]
    if own.st_mode & 0o170000 != 0o120000:  # not a symlink
        return [own]
    try:
        return [own, os.stat(path)]
    except OSError:
        return [own, None]


def signature(path: str) -> str:
    """The stat data a change shows in ("-" for no file)."""
    return "|".join(
        "-"
        if st is None
        else f"{st.st_mode:o}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
        for st in _stats(path)
    )


def _racy(path: str, now: int) -> bool:
    for st in _stats(path):
        if st is not None:
            newest = max(st.st_mtime_ns, st.st_ctime_ns)
            coarse = st.st_mtime_ns % 1_000_000_000 == 0
            if newest >= now - (2_000_000_000 if coarse else RACY_NS):
                return True
    return False


def watched(root: str, common_dir: str, bead_files: list[str]) -> list[str]:
    """The capture's inputs (absolute paths): bead_files are relative to root."""
    state = os.path.join(common_dir, "bd-vpt")
    return [
        os.path.join(root, CONFIG),
        *(os.path.join(root, name) for name in bead_files),
        os.path.join(state, CAPTURE_STATE),
        os.path.join(state, SPOOL),
        os.path.abspath(__file__),  # a new bd-vpt writes its own stamp
    ]


def remember(root: str, git_dir: str, common_dir: str, bead_files: list[str]) -> bool:
    """After a full capture that found nothing: write the stamp (False when an input changed
    too recently to be trusted, and no stamp is left)."""
    import time

    paths = watched(root, common_dir, bead_files)
    target = stamp_path(common_dir, git_dir)
    now = time.time_ns()
    if any(_racy(path, now) for path in paths):
        forget(common_dir, git_dir)
        return False
    lines = [STAMP_HEADER, root, *(f"{signature(p)}\t{p}" for p in paths)]
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as out:
            out.write("\n".join(lines) + "\n")
        os.replace(tmp, target)
    except (OSError, UnicodeError):
        for stale in (tmp, target):
            try:
                os.unlink(stale)
            except OSError:
                continue
        return False
    return True


def forget(common_dir: str, git_dir: str) -> None:
    """The capture found something, or could not run: no skipping until it finds nothing."""
    try:
        os.unlink(stamp_path(common_dir, git_dir))
    except OSError:
        return  # none there (or a folder bd-vpt cannot write to: then none was written)


def capture_is_quiet(root: str, git_dir: str, common_dir: str) -> bool:
    """The stamp is there and every input the capture reads still has its stat data."""
    try:
        path = stamp_path(common_dir, git_dir)
        with open(path, encoding="utf-8", errors="surrogateescape") as stamp:
            lines = stamp.read().splitlines()
    except (OSError, UnicodeError):
        return False
    if len(lines) < 3 or lines[0] != STAMP_HEADER or lines[1] != root:
        return False
    if not lines[-1].endswith("\t" + os.path.abspath(__file__)):
        return False  # written by another bd-vpt installation
    for line in lines[2:]:
        seen, _, path = line.partition("\t")
        if not path or signature(path) != seen:
            return False
    return not bd_on_path()


def bd_on_path() -> bool:
    """Whether a `bd` would run ($BD, else bd on PATH)."""
    from bd_vpt.beads.where import bd_binary

    return bd_binary() is not None


def nothing_to_do() -> bool:
    """True when the pre-commit hook may exit at once: the capture is quiet (see above) and
    git reports no ledger file staged, changed or untracked. Any doubt answers False."""
    where = git_started("rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir")
    status = git_started(
        "--no-optional-locks",
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--ignored=matching",  # an ignored ledger file: the full hook warns about it
        "--no-renames",
        "--",
        f":(top){LEDGER_PATHSPEC}",
    )
    found = git_finished(where) if where else None
    changes = git_finished(status) if status else None
    if found is None or changes != b"":
        return False
    try:
        root, git_dir, common = os.fsdecode(found).splitlines()[:3]
    except ValueError:
        return False
    # as repo.discover names it (a relative one is resolved from here): the stamp's folder
    common_dir = common if os.path.isabs(common) else os.path.realpath(common)
    return capture_is_quiet(root, git_dir, common_dir)
