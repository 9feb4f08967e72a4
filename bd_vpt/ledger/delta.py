"""A view as a step from one read before: the blobs it dropped and added, and the beads whose
usage or outcomes that changes. A report kept per bead (reports.py: the fleet summary) is
then made again from its last result and those beads alone, not from every blob's fold.

An Index is kept only of a view whose blob folds merge as they are (view.py: no id or
(kind, source_ref) key in two blobs, no day cut by a window): its entries,
per blob the beads of its outcomes (in the order of their first outcome) and of its usage
and the problems of its lines, a number per bead, and every id and source_ref key, sorted,
so the blobs a step adds are checked against all the others without reading their folds;
the ids retracted (bd-vpt undo), and the blobs that hold one and so are folded again.
A step whose blobs are anything but plain, or whose keys meet any other blob's, is not
taken (None): the report goes the full way, as it always may. Kept entries are versioned,
written atomically, and checked on load; a bad one is ignored.
"""

from __future__ import annotations

import marshal
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain, pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from bd_vpt import __version__
from bd_vpt.ledger.cache import CACHE_FORMAT, ROWS_FORMAT, write_atomic
from bd_vpt.ledger.records import SCHEMA_VERSION, Record
from bd_vpt.ledger.rows import BlobFold, id_keys
from bd_vpt.ledger.usage import Row, RowKey, merge_row

if TYPE_CHECKING:
    from bd_vpt.ledger.view import Entry, LedgerView

STEP_FORMAT = 3  # 2: each blob's problems, keys as they lie in memory; 3: retractions
_TAG = f"bd-vpt-step/{STEP_FORMAT}/{ROWS_FORMAT}/{CACHE_FORMAT}/{SCHEMA_VERSION}/{__version__}"
MAX_BLOBS = 64  # a step that drops or adds more blobs than this goes the full way

Keys: TypeAlias = "array[int] | memoryview"  # sorted, each once: an array, or the file's
Pieces: TypeAlias = "list[bytes | memoryview]"  # sorted keys' bytes, in pieces (written in turn)


@dataclass
class Index:
    """What is kept of a plain view (see the module's text)."""

    entries: list[tuple[str, str]]  # (path, blob id), in the view's order
    names: list[str]  # bead number -> bead
    blobs: dict[str, tuple[array[int], array[int]]]  # blob id -> (outcome beads, usage beads)
    ids: Keys | Pieces = field(default_factory=lambda: array("q"))  # id keys
    refs: Keys | Pieces = field(default_factory=lambda: array("Q"))  # (kind, source_ref) keys
    numbers: dict[str, int] = field(default_factory=dict)  # bead -> number
    problems: dict[str, list[Any]] = field(default_factory=dict)  # blob id -> its problems
    retracted: dict[str, int] = field(default_factory=dict)  # id -> retractions of it
    rerouted: set[str] = field(default_factory=set)  # blobs folded with the retracted ids

    def __post_init__(self) -> None:
        if not self.numbers:
            self.numbers = {name: n for n, name in enumerate(self.names)}

    def number(self, bead: str) -> int:
        found = self.numbers.get(bead)
        if found is None:
            found = self.numbers[bead] = len(self.names)
            self.names.append(bead)
        return found

    def add_blob(self, sha: str, fold: BlobFold) -> None:
        number = self.number
        outcome_beads = array("q", map(number, dict.fromkeys(o["bead"] for o in fold.outcomes)))
        usage = {key[0] for key in fold.rows if key[0] is not None}
        self.blobs[sha] = (outcome_beads, array("q", map(number, usage)))
        if fold.problems:
            self.problems[sha] = list(fold.problems)

    def problems_in_order(self) -> list[tuple[str, Any]]:
        """(path, problem) of every blob, in the view's order (what folded() reports)."""
        kept = self.problems
        return [(path, p) for path, sha in self.entries for p in kept.get(sha, ())]

    def order(self) -> list[int]:
        """The beads with an outcome, in the order of their first one (the views' order)."""
        blobs = self.blobs
        return list(dict.fromkeys(chain.from_iterable(blobs[sha][0] for _, sha in self.entries)))


def build(
    entries: list[tuple[str, str]],
    folds: list[BlobFold],
    ids: array[int],
    refs: array[int],
    rerouted: set[str],
) -> Index | None:
    """The index of a view whose folds merged as they are, but for the blobs rerouted:
    folded again with the ids the view's retractions withdraw (view.kept: the folds merged,
    the id and source_ref keys sorted, the blobs rerouted); None when a key is there twice."""
    if len({sha for _, sha in entries}) != len(entries):
        return None
    if len(ids) != sum(len(f.ids) for f in folds) or len(refs) != sum(len(f.refs) for f in folds):
        return None  # a key twice in one blob (repeated() looks across blobs)
    outcome_beads = [list(dict.fromkeys(o["bead"] for o in f.outcomes)) for f in folds]
    usage_beads = [list({key[0] for key in f.rows if key[0] is not None}) for f in folds]
    every = chain(chain.from_iterable(outcome_beads), chain.from_iterable(usage_beads))
    names = list(dict.fromkeys(every))
    index = Index(
        list(entries), names, {}, ids if ids else array("q"), refs if refs else array("Q")
    )
    index.problems = {
        sha: list(f.problems) for (_, sha), f in zip(entries, folds, strict=True) if f.problems
    }
    index.retracted = dict(Counter(chain.from_iterable(f.retracts for f in folds)))
    index.rerouted = set(rerouted)
    number = index.numbers.__getitem__
    for (_, sha), outs, usage in zip(entries, outcome_beads, usage_beads, strict=True):
        index.blobs[sha] = (array("q", map(number, outs)), array("q", map(number, usage)))
    return index


def _stepped(keys: Keys, dropped: Iterable[int], added: Iterable[int]) -> Pieces | None:
    """keys without dropped (each in keys) and with added, as pieces of keys' own bytes and
    the added keys' (nothing is copied); None when an added key is already there or comes
    twice."""
    new = sorted(added)
    if any(a == b for a, b in pairwise(new)):
        return None
    was = set(dropped)
    both = was.intersection(new)  # dropped and added again: no change
    events: list[tuple[int, int, int]] = []  # (position in keys, 0 insert / 1 drop, key)
    for key in was - both:
        at = bisect_left(keys, key)
        if at == len(keys) or keys[at] != key:
            return None  # not the index it was made with
        events.append((at, 1, key))
    gone = was - both
    for key in new:
        if key in both:
            continue
        at = bisect_left(keys, key)
        if at < len(keys) and keys[at] == key and key not in gone:
            return None  # in a blob the step keeps
        events.append((at, 0, key))
    events.sort()
    raw = memoryview(keys).cast("B")
    size, code = memoryview(keys).itemsize, memoryview(keys).format
    pieces: Pieces = []
    start = 0
    for at, drop, key in events:
        pieces.append(raw[start * size : at * size])
        if drop:
            start = at + 1
        else:
            pieces.append(array(code[-1], [key]).tobytes())
            start = at
    pieces.append(raw[start * size :])
    return pieces


def _pieces(keys: Keys | Pieces) -> Pieces:
    return keys if isinstance(keys, list) else [memoryview(keys).cast("B")]


@dataclass
class Step:
    """From a kept view to this one."""

    index: Index  # this view's
    dropped: list[BlobFold]
    added: list[BlobFold]
    beads: set[str]  # the beads whose usage or outcomes changed
    rows: dict[RowKey, Row]  # theirs, over the whole view, merged in its order
    outcomes: list[Record]  # theirs, in the view's order
    grew: list[str] = field(default_factory=list)  # files stepped by their lines appended


FoldsOf = Callable[[list["Entry"]], list[BlobFold]]
# a blob of this view (an Entry) or of the kept one ((path, blob id)) folded with these ids
# withdrawn, as view.folded() folds a blob holding a retracted record; None: it cannot be
Refold = Callable[["Entry | tuple[str, str]", frozenset[str]], "BlobFold | None"]


def step(
    index: Index,
    entries: list[Entry],
    folds_of: FoldsOf,
    cached: Callable[[str], BlobFold | None],
    refold: Refold,
) -> Step | None:
    """The step from index's view to the view of entries; None when it is not plain (or
    too large to be worth it): the report then goes the full way. folds_of: the folds of
    entries of this view; cached: a blob's fold from the cache (the blobs the step drops).
    The ids retracted must be the same before and after (the blobs rerouted stay so)."""
    was = set(index.entries)
    now = {(e.path, e.sha) for e in entries}
    gone = [(path, sha) for path, sha in index.entries if (path, sha) not in now]
    new = [e for e in entries if (e.path, e.sha) not in was]
    if len(gone) + len(new) > MAX_BLOBS or len({e.sha for e in entries}) != len(entries):
        return None
    retracted = frozenset(index.retracted)
    withdrawn = set(id_keys(retracted))
    new_folds = folds_of(new)
    # a file whose new blob is its old one with lines appended (tail.py) steps by the lines
    # appended alone: the old blob's fold is neither read nor taken away
    grew: dict[str, BlobFold] = {}  # path -> the fold of the lines appended
    for entry, fold in zip(new, new_folds, strict=True):
        if fold.grown is not None and (entry.path, fold.grown[0]) in was:
            old_sha, tail = fold.grown
            if old_sha not in index.rerouted and (not withdrawn or withdrawn.isdisjoint(fold.ids)):
                grew[entry.path] = tail
    gone_now = [item for item in gone if item[0] not in grew]
    found = [cached(sha) for _, sha in gone_now]
    dropped = [fold for fold in found if fold is not None]
    if len(dropped) != len(found):
        return None
    stepping = [(e, f) for e, f in zip(new, new_folds, strict=True) if e.path not in grew]
    added = [f for _, f in stepping]
    count = Counter(index.retracted)
    count.subtract(chain.from_iterable(f.retracts for f in dropped))
    count.update(chain.from_iterable(f.retracts for f in added))
    if {rid for rid, n in count.items() if n > 0} != retracted:
        return None
    if isinstance(index.ids, list) or isinstance(index.refs, list):
        return None  # an index a step made: only for keeping
    tails = list(grew.values())
    ids = _stepped(
        index.ids,
        chain.from_iterable(f.ids for f in dropped),
        chain.from_iterable(f.ids for f in chain(added, tails)),
    )
    refs = _stepped(
        index.refs,
        chain.from_iterable(f.refs for f in dropped),
        chain.from_iterable(f.refs for f in chain(added, tails)),
    )
    if ids is None or refs is None:
        return None
    rerouted = index.rerouted - {sha for _, sha in gone}
    rerouted.update(e.sha for e, f in stepping if not withdrawn.isdisjoint(f.ids))
    were = [
        refold(item, retracted) if item[1] in index.rerouted else fold
        for item, fold in zip(gone_now, dropped, strict=True)
    ]
    are = [refold(e, retracted) if e.sha in rerouted else fold for e, fold in stepping]
    dropped = [fold for fold in were if fold is not None]
    added = [fold for fold in are if fold is not None]
    if len(dropped) != len(were) or len(added) != len(are):
        return None
    blobs = dict(index.blobs)
    problems = dict(index.problems)
    for _, sha in gone:
        del blobs[sha]
        problems.pop(sha, None)
    after = Index(
        [(e.path, e.sha) for e in entries], index.names, blobs, ids, refs, index.numbers, problems
    )
    after.retracted, after.rerouted = {k: n for k, n in count.items() if n > 0}, rerouted
    folded = dict(zip([e.sha for e in new], new_folds, strict=True))  # (grown: as they are)
    folded.update(zip([e.sha for e, _ in stepping], added, strict=True))  # (rerouted: again)
    for entry in new:
        after.add_blob(entry.sha, folded[entry.sha])
    beads = _changed(
        {path: f for (path, _), f in zip(gone_now, dropped, strict=True)},
        {e.path: f for (e, _), f in zip(stepping, added, strict=True)},
    )
    for tail in tails:  # (what the lines appended change: their beads' rows and outcomes)
        beads.update(o["bead"] for o in tail.outcomes)
        beads.update(key[0] for key in tail.rows if key[0] is not None)
    numbers = {after.number(b) for b in beads}
    holding = [
        e
        for e in entries
        if not numbers.isdisjoint(blobs[e.sha][0]) or not numbers.isdisjoint(blobs[e.sha][1])
    ]
    rows: dict[RowKey, Row] = {}
    outcomes: list[Record] = []
    for entry, held in zip(holding, folds_of(holding), strict=True):
        merged = refold(entry, retracted) if entry.sha in rerouted else held
        if merged is None:
            return None
        for key, row in merged.rows.items():
            if key[0] in beads:
                have = rows.get(key)
                if have is None:
                    rows[key] = list(row)
                else:
                    merge_row(have, row)
        outcomes.extend(o for o in merged.outcomes if o["bead"] in beads)
    return Step(after, dropped, [*added, *tails], beads, rows, outcomes, list(grew))


def _changed(gone: dict[str, BlobFold], new: dict[str, BlobFold]) -> set[str]:
    """The beads whose outcomes or usage rows differ between the files' old and new folds
    (a file's blobs sit at the same place in the view's order)."""
    beads: set[str] = set()
    for path in gone.keys() | new.keys():
        old, now = _by_bead(gone.get(path)), _by_bead(new.get(path))
        beads.update(b for b in old.keys() | now.keys() if old.get(b) != now.get(b))
    return beads


def _by_bead(fold: BlobFold | None) -> dict[str, tuple[list[Any], list[Any]]]:
    """A fold's outcomes and row items per bead, in order (beads with usage only, too)."""
    found: dict[str, tuple[list[Any], list[Any]]] = {}
    if fold is None:
        return found
    for outcome in fold.outcomes:
        found.setdefault(outcome["bead"], ([], []))[0].append(outcome)
    for key, row in fold.rows.items():
        if key[0] is not None:
            found.setdefault(key[0], ([], []))[1].append((key, row))
    return found


class Store:
    """Where a report's last index and result are kept: one entry per report key."""

    def __init__(self, view: LedgerView, key: str) -> None:
        history = view.history
        self.path: Path | None = None
        if history is not None and history.cache.dir is not None and view.entries is not None:
            self.path = history.info.state_dir / "cache" / f"steps-v{STEP_FORMAT}" / key[:40]
        self.key = key

    def asked(self) -> bool:
        """Whether this report was made here before (kept, or marked)."""
        return self.path is not None and (
            self.path.exists() or self.path.with_suffix(".asked").exists()
        )

    def mark(self) -> None:
        """Remember that this report was made (the next full one is kept)."""
        if self.path is not None and not self.path.with_suffix(".asked").exists():
            write_atomic(self.path.with_suffix(".asked"), b"")

    def load(self) -> tuple[Index, Any] | None:
        """The kept index and result; None when there is none, or not a good one. The file:
        8 bytes giving the length of the marshalled rest of the index and the result, then
        that, then the sorted id keys and source_ref keys as they are in memory."""
        if self.path is None:
            return None
        try:
            data = memoryview(self.path.read_bytes())
            size = int.from_bytes(data[:8], "little")
            head = marshal.loads(data[8 : 8 + size])
            tag, key, entries, names, blobs, problems, retracted, rerouted, sizes, payload = head
            if tag != _TAG or key != self.key or 8 + size + sum(sizes) != len(data):
                raise ValueError("not an entry of this report")
            keys = data[8 + size :]
            ids, refs = keys[: sizes[0]].cast("q"), keys[sizes[0] :].cast("Q")
            index = Index([tuple(e) for e in entries], list(names), {}, ids, refs)
            index.problems = {sha: [tuple(p) for p in found] for sha, found in problems.items()}
            index.retracted, index.rerouted = dict(retracted), set(rerouted)
            for sha, (outs, usage) in blobs.items():
                index.blobs[sha] = (array("q", outs), array("q", usage))
            if any(sha not in index.blobs for _, sha in index.entries):
                raise ValueError("an entry's blob is missing")
        except (OSError, ValueError, EOFError, TypeError):
            return None
        return index, payload

    def save(self, index: Index, payload: Any) -> None:
        if self.path is None:
            return
        blobs = {sha: (o.tobytes(), u.tobytes()) for sha, (o, u) in index.blobs.items()}
        ids, refs = _pieces(index.ids), _pieces(index.refs)
        sizes = (sum(len(p) for p in ids), sum(len(p) for p in refs))
        head = marshal.dumps(
            (
                *(_TAG, self.key, index.entries, index.names, blobs, index.problems),
                *(index.retracted, index.rerouted, sizes, payload),
            )
        )
        chunks: list[bytes | memoryview] = [len(head).to_bytes(8, "little"), head]
        chunks += [*ids, *refs]
        write_atomic(self.path, chunks)
