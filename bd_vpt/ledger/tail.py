"""A blob folded from the fold of the blob it grew from: a shard's new bytes are most often
its old bytes and a few lines appended (an import, a hook's capture), so only the lines
appended are folded, and added to the old blob's cached fold.

The cache notes, for each ledger path, the last blob folded there and its length
(cache.BlobCache.note_blobs). A blob not cached whose bytes begin with a noted blob's bytes
(git's own id of that prefix is the noted blob's id) and a whole line after it is folded as
old fold + tail fold: rows summed key by key (earlier first ts), outcomes, ids and refs one
after the other, lines read added. That is what folding the whole blob gives, except the
order of the rows' keys and of the id and ref keys, which no report reads (the compiled and
the Python lanes order them differently already). Only when it is certain; else the whole
blob is folded: a problem in either part (line numbers, a warning once per blob), a
retraction or a record withdrawn or deduplicated in either, or an id or a (kind, source_ref)
of the tail also in the old blob (their keys meet: a collision only costs the whole fold).
tests/test_tail.py holds the two ways together on random appends.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from bd_vpt.ledger.usage import merge_row

if TYPE_CHECKING:
    from bd_vpt.ledger.cache import BlobCache
    from bd_vpt.ledger.rows import BlobFold


def blob_id(data: bytes | memoryview, like: str) -> str:
    """git's id of a blob holding data, in the object format of `like` (SHA-1 or SHA-256)."""
    digest = hashlib.sha256() if len(like) == 64 else hashlib.sha1()
    digest.update(b"blob %d\0" % len(data))
    digest.update(data)  # (not joined to the header: a ledger's bytes are not copied)
    return digest.hexdigest()


def appended(
    cache: BlobCache,
    path: str,
    data: bytes,
    noted: dict[str, tuple[str, int]],
    sha: str | None = None,
) -> BlobFold | None:
    """data's fold, from the fold of the blob last folded at path (noted: path -> (its id,
    its length)) when data is that blob with whole lines appended; None: fold data whole.
    sha: data's blob id, when known: a writer that appended to that blob may have noted so
    (cache.grown_from), and the old bytes need not be hashed again."""
    from bd_vpt.ledger.rows import fold_blob

    held = noted.get(path)
    if held is None:
        return None
    old_sha, size = held
    if not 0 < size < len(data) or data[size - 1] != 0x0A:  # (a whole line ends the old bytes)
        return None
    old = cache.get_fold(old_sha)
    if old is None or not _plain(old):
        return None
    if (sha is None or cache.grown_from(sha) != (old_sha, size)) and blob_id(
        memoryview(data)[:size], old_sha
    ) != old_sha:
        return None
    tail = fold_blob(data[size:])
    fold = merged(old, tail)
    if fold is not None:
        fold.grown = (old_sha, tail)
    return fold


def _plain(fold: BlobFold) -> bool:
    """Nothing in the fold that depends on the blob read as a whole."""
    return not (fold.problems or fold.retracts or fold.duplicates or fold.withdrawn)


def merged(old: BlobFold, tail: BlobFold) -> BlobFold | None:
    """The fold of a blob made of old's bytes then tail's (whole lines), or None when it is
    not certain to be that (see the module's docstring). old is left as it was."""
    from bd_vpt.ledger.rows import BlobFold, collide

    if not (_plain(old) and _plain(tail)):
        return None
    if (old.ids and tail.ids and collide([old.ids, tail.ids])) or (
        old.refs and tail.refs and collide([old.refs, tail.refs])
    ):
        return None
    rows = dict(old.rows)  # (a row only one part has stays that part's list: never changed)
    for key, row in tail.rows.items():
        have = rows.get(key)
        if have is None:
            rows[key] = row
        else:
            rows[key] = have = list(have)
            merge_row(have, row)
    fold = BlobFold(rows, old.outcomes + tail.outcomes, old.ids[:], old.refs[:])
    fold.ids.extend(tail.ids)
    fold.refs.extend(tail.refs)
    fold.lines_read = old.lines_read + tail.lines_read
    return fold
