"""The ledger files of the working tree and the fingerprint that names their content: what
a report's memo is keyed by (view.py), and what a report asked again is answered by
(integrations/again.py) without importing the rest of the ledger code.

A file unchanged since `git add` is named by its blob id in the index; any other is read
and named by the blob id its bytes would have (the bytes are kept: the report reads those).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bd_vpt.errors import Problem
from bd_vpt.files import read_regular, regular_files
from bd_vpt.repo import LEDGER_PATHSPEC, blob_id, ledger_index

# (path relative to the root, blob id, the bytes when read: a file changed since `git add`)
File = tuple[str, str, bytes | None]


Tree = tuple[list[File], list[Problem], str]
_HANDED: dict[Path, Tree] = {}  # made for launch's early answer, for the report after it


def worktree(root: Path, hand_on: bool = False) -> Tree:
    """The ledger's files in order, what was skipped (FIFOs, symlinks out of the
    repository...: never read), and the fingerprint of both. hand_on: the next call in
    this process gets this same answer (launch asked first, the report it hands over to
    reads what it asked about; launch forgets it when the command is done)."""
    handed = _HANDED.pop(root, None)
    if handed is not None:
        return handed
    found = _worktree(root)
    if hand_on:
        _HANDED[root] = found
    return found


def forget() -> None:
    _HANDED.clear()


def _worktree(root: Path) -> Tree:
    clean = ledger_index(root)
    width = len(next(iter(clean.values()), "")) or 40
    files: list[File] = []
    digest = hashlib.sha256()
    found, skipped = regular_files(root / LEDGER_PATHSPEC, root, ".jsonl")
    prefix = os.path.join(str(root), "")
    for path in found:
        text = str(path)  # under root (made from it): cut, not Path.relative_to (1,000s)
        if text.startswith(prefix):
            rel = text[len(prefix) :].replace(os.sep, "/")
        else:
            rel = path.relative_to(root).as_posix()
        sha = clean.get(rel)
        if sha is None:
            data = read_regular(path, root=root)
            files.append((rel, blob_id(data, width), data))
        else:
            files.append((rel, sha, None))
        digest.update(f"{rel}\0{files[-1][1]}\0".encode())
    for problem in skipped:
        digest.update(f"{problem.path}\0{problem.message}\0".encode())
    return files, skipped, "worktree:" + digest.hexdigest()
