"""Claude Code records built apart: with much to read, each run of transcript files is read,
deduplicated, attributed and priced in a worker process (or in this one, which takes back the
runs no worker has started), and only its records come back, not its hundreds of thousands of
messages (handing those back cost a third of reading them, and this process then built every
record alone).

The records are those of reading every file in one process, because nothing one run holds
can change another run's records; when that is not certain, nothing built apart is kept and
the caller reads the usual way:
- a session in two runs (its bd commands open and close the windows of the messages after
  them, across files);
- a message (its id) in two runs (copies are deduplicated across files; 64-bit hashes of the
  ids, the same in every process forked from this one, a collision only costing a second
  read);
- a price card that holds for the moment it was looked up at only (a price by time of day):
  which message of the day is priced first would decide it.
The bead facts, the `bd-vpt start` log and $BD_VPT_BEAD are read before the runs start; Gas
Town's rows, subagent sessions and transcripts read from where they stopped take the usual way.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bd_vpt.capture import claude_code, compiled
from bd_vpt.capture.fanout import share
from bd_vpt.capture.transcripts import Attribution, Stats, build_records
from bd_vpt.config import Config
from bd_vpt.economics.pricing import RateCards
from bd_vpt.ledger.records import Record


@dataclass
class Built:
    """The records of some transcript files, and what building them saw."""

    records: list[Record] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    sessions: set[str] = field(default_factory=set)
    ends: dict[str, str | None] = field(default_factory=dict)  # Attribution.ends
    keys: bytes = b""  # array("q") of the hashes of the messages' ids
    made: dict[str, Any] = field(default_factory=dict)  # RateCards.made
    unknown: set[str] = field(default_factory=set)  # RateCards.unknown
    moment_bound: bool = False  # RateCards.moment_bound
    subagents: bool = False  # a session names its parent (it inherits the parent's windows)


@dataclass
class _Job:
    allowed: list[str] | None
    extra: Attribution
    marks: dict[str, tuple[datetime, str]]
    config: Config
    kept: dict[str, Any]
    actor: str
    source: str
    since: datetime | None
    cards: RateCards | None = None  # each process's own, made at its first run


_JOB: list[_Job] = []  # the job at hand (worker processes are forked with it)


def _build(paths: list[Path]) -> Built:
    """One run of files, read and built in one process (the job's, as build() set it)."""
    job = _JOB[-1]
    stats = Stats()
    sessions = claude_code.merged(
        [claude_code.scan_file(path, job.allowed) for path in paths], stats
    )
    extra = Attribution(
        session_beads=job.extra.session_beads,
        manual=job.extra.manual,
        env_bead=job.extra.env_bead,
    )
    if job.cards is None:  # (one per process: a card is looked up once, not once per run)
        job.cards = compiled.priced(RateCards(job.config, job.kept))
    cards = job.cards
    records = build_records(
        sessions,
        extra,
        job.marks,
        cards,
        actor=job.actor,
        source=job.source,
        stats=stats,
        since=job.since,
    )
    keys = array("q", [hash(m.key) for messages in sessions.values() for m in messages])
    return Built(
        records,
        stats,
        set(sessions),
        extra.ends,
        keys.tobytes(),
        cards.made,
        cards.unknown,
        cards.moment_bound,
        bool(extra.parents),
    )


def _price_tables() -> None:
    """genai-prices and its price list (the module its first lookup imports), imported once
    before the workers start, not in each process (a tenth of a second; pricing the records
    needs them unless its cards were kept)."""
    import importlib

    importlib.import_module("genai_prices")
    importlib.import_module("genai_prices.data")


def build(
    paths: list[Path],
    allowed: list[str] | None,
    extra: Attribution,
    marks: dict[str, tuple[datetime, str]],
    cards: RateCards,
    *,
    actor: str,
    source: str,
    since: datetime | None,
) -> Built | None:
    """The records of these Claude Code transcripts (as build_records() of scan() gives
    them, sorted the same way), built apart in runs; None when one process should read
    them (too little to read, $BD_VPT_JOBS=1), no pool could start, or the runs' records
    could differ from those built together (see the module's docstring). extra: only its
    session_beads, manual and env_bead are read; cards: its config and kept cards (what
    building looks up is not added to it)."""
    _JOB.append(_Job(allowed, extra, marks, cards.config, cards.kept, actor, source, since))
    try:
        done = share(_build, _build, paths, first=None if cards.kept else _price_tables)
    finally:
        _JOB.pop()
    if done is None:
        return None
    total = Built()
    keys: list[array[int]] = []  # each run's (distinct within it: its messages are)
    for _here, built in done:
        if built.moment_bound or built.subagents or not total.sessions.isdisjoint(built.sessions):
            return None
        total.records += built.records
        total.stats.add(built.stats)
        total.sessions |= built.sessions
        total.ends.update(built.ends)
        total.made.update(built.made)
        total.unknown |= built.unknown
        keys.append(array("q", built.keys))
    from bd_vpt.ledger.rows import collide  # (only with runs: it imports msgspec)

    if collide(keys):  # a message in two runs (a radix sort in C, at 10^5 messages and more)
        return None
    total.records.sort(key=lambda r: (r["ts"], r["source_ref"]))
    return total
