"""`bd-vpt import [SOURCE]`: agent transcripts to usage records, attributed to beads.

Sources: claude-code, codex, openclaw, pi, opencode, gemini-cli (and Gas Town's costs.jsonl,
which names the bead of the sessions it ran: see capture/gastown.py).

Idempotent everywhere: each record remembers the last message it holds (`last_message`), and
an import skips every message at or before a session's mark, read from the ledger itself (the
work tree and every stash) under the ledger lock. Importing twice, at the same time, after a
crash, a stash, or from a fresh clone counts each message once; no local state is needed.
The hook's capture takes only sessions run in its own worktree: they belong to its branch.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from bd_vpt import gc_paused
from bd_vpt.capture import apart, claude_code, compiled, gastown, ratecards
from bd_vpt.capture.fileindex import FileIndex, Tail
from bd_vpt.capture.transcripts import (
    Attribution,
    Message,
    Stats,
    build_records,
    high_water,
    high_water_of,
)
from bd_vpt.config import Config
from bd_vpt.economics.pricing import RateCards
from bd_vpt.errors import VptError
from bd_vpt.ledger.records import Record, now_ts, parse_ts, token_total
from bd_vpt.ledger.store import shard_path
from bd_vpt.ledger.writer import Writer, writing
from bd_vpt.repo import RepoInfo, worktree_roots

Sessions = dict[str, list[Message]]

SOURCES = {  # each source's module, imported when used (sqlite3 and the rest cost start-up)
    "claude-code": "claude_code",
    "codex": "codex",
    "openclaw": "openclaw",
    "pi": "pi",
    "opencode": "opencode",
    "gemini-cli": "gemini_cli",
}


def source(kind: str) -> ModuleType:
    """The module that reads one agent source (roots(), files(), scan())."""
    return importlib.import_module(f"bd_vpt.capture.{SOURCES[kind]}")


def detected() -> list[str]:
    """The agent sources whose transcripts are present on this machine."""
    return [kind for kind in SOURCES if source(kind).roots(None)]


def _current_log(info: RepoInfo) -> Path:
    return info.state_dir / "current-bead.jsonl"


def set_current(info: RepoInfo, bead: str | None) -> None:
    """`bd-vpt start ID` / `bd-vpt stop`: the bead a manual session works on from now."""
    path = _current_log(info)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as out:
        out.write(orjson.dumps({"ts": now_ts(), "bead": bead}) + b"\n")


def current_log(info: RepoInfo) -> list[tuple[datetime, str | None]]:
    try:
        lines = _current_log(info).read_bytes().splitlines()
    except OSError:
        return []
    log = []
    for line in lines:
        try:
            item = orjson.loads(line)
            log.append((parse_ts(item["ts"]), item.get("bead")))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
    return sorted(log, key=lambda t: t[0])


def _session_beads(info: RepoInfo) -> dict[str, str]:
    from bd_vpt.beads.where import any_source

    if not any_source(info.root):
        return {}
    from bd_vpt.beads.sources import open_source

    try:
        source = open_source(info.root)
    except VptError:
        return {}
    if source is None:
        return {}
    return {b.closed_by_session: b.id for b in source.all().values() if b.closed_by_session}


def run_import(
    info: RepoInfo,
    config: Config,
    kind: str,
    *,
    actor: str,
    path: Path | None = None,
    files: Sequence[Path] | None = None,
    since: str | None = None,
    all_projects: bool = False,
    dry_run: bool = False,
    writer: Writer | None = None,
    shard: Path | None = None,
    own_worktree: bool = False,
) -> dict[str, Any]:
    """Import one agent's transcripts; returns the summary (and the records written).

    Marks are read and records written under the ledger lock (`writer`, or one taken
    here), so imports running at once never write a message twice. own_worktree (the
    hook's capture): only sessions run in this worktree, whose records belong to its branch."""
    if writer is None:
        with writing(info) as taken:
            return run_import(
                info,
                config,
                kind,
                actor=actor,
                path=path,
                files=files,
                since=since,
                all_projects=all_projects,
                dry_run=dry_run,
                writer=taken,
                shard=shard,
                own_worktree=own_worktree,
            )
    module = source(kind)
    stats = Stats()
    found = list(files) if files is not None else module.files(module.roots(path))
    allowed = (
        None if all_projects else [str(info.root)] if own_worktree else worktree_roots(info.root)
    )
    # the ledger's marks read every usage record it holds (seconds at 10^6 records): only
    # when there is a transcript to judge (a hook's capture with no transcripts reads none)
    marks = high_water_of(writer.known.marks(), kind) if found else {}
    index = FileIndex(info, kind, all_projects, own_worktree)
    with gc_paused():  # (many small objects, none cyclic: collecting them costs a third)
        skip = {f for f in found if index.covered(f, marks)}
        to_scan = [f for f in found if f not in skip]
        # grown Claude Code transcripts: read from where the last import stopped
        tails = index.tails(to_scan, marks) if module is claude_code else {}
        prices = ratecards.kept(info)
        cards = compiled.priced(RateCards(config, prices.cards))
        gastown_rows = gastown.rows(Stats())
        extra = Attribution(
            session_beads=_session_beads(info),
            manual=current_log(info),
            env_bead=os.environ.get("BD_VPT_BEAD") or None,
        )
        try:
            start = parse_ts(since) if since else None
        except ValueError:
            raise VptError(
                f"--since {since!r} is not a date", hint="e.g. --since 2026-11-01"
            ) from None
        built = None
        if module is claude_code and not tails and not gastown_rows:
            # much to read: records built in worker processes (see apart.py)
            built = apart.build(
                to_scan, allowed, extra, marks, cards, actor=actor, source=kind, since=start
            )
            if built is not None and index.sharing(skip, built.sessions):
                built = None  # an unchanged file holds one of its sessions: the usual way
        if built is not None:
            stats, records = built.stats, built.records
            extra.ends.update(built.ends)
            cards.made.update(built.made)
            cards.unknown |= built.unknown
            joined = gastown.join(gastown_rows, {})
        else:

            def scan(files: list[Path], stats: Stats, tails: dict[Path, Tail]) -> Sessions:
                if tails:
                    return claude_code.scan(files, allowed, stats, tails)
                read: Sessions = module.scan(files, allowed, stats)
                return read

            sessions = scan(to_scan, stats, tails)
            # every session is walked whole (its bd commands open and close the windows of
            # the messages after them): unchanged files holding a session read now are read
            seen = set(sessions).union(*(index.sessions_of(f) for f in tails))
            shared = index.sharing(skip, seen)
            if shared:
                skip -= shared
                to_scan = [f for f in found if f not in skip]
                stats = Stats()
                sessions = scan(to_scan, stats, tails)
            starts, refused = index.agree(to_scan, skip, stats, sessions, marks)
            while refused:  # reading these from where they stopped could differ: read whole
                tails = {f: tail for f, tail in tails.items() if f not in refused}
                stats = Stats()
                sessions = scan(to_scan, stats, tails)
                starts, refused = index.agree(to_scan, skip, stats, sessions, marks)
            joined = gastown.join(gastown_rows, sessions)
            extra.work_items, extra.gt_sessions = joined.work_items, joined.names
            extra.starts = starts
            records = build_records(
                sessions, extra, marks, cards, actor=actor, source=kind, stats=stats, since=start
            )
        if skip:
            stats.skip("unchanged file", len(skip))
        prices.save(cards.made)

    def remember() -> None:
        """Note the files read (only once their records are written)."""
        if since is None:  # a partial import (--since) covers nothing for next time
            index.update(to_scan, stats, high_water(records, kind), marks, extra.ends)

    if not dry_run:
        if records:
            records = writer.append(records, shard or shard_path(info.root, actor)).records
        remember()
    tokens = sum(token_total(r["tokens"]) for r in records)
    unattributed = sum(token_total(r["tokens"]) for r in records if r["bead"] is None)
    return {
        "source": kind,
        "dry_run": dry_run,
        "files": stats.files,
        "lines": stats.lines,
        "messages": stats.messages,
        "duplicates": stats.duplicates,
        "already_imported": stats.already_imported,
        "skipped": dict(sorted(stats.skipped.items())),
        "records": records,
        "tokens": tokens,
        "unattributed_tokens": unattributed,
        **_costs(records),
        "reported_cost_usd": _reported(records),
        "unknown_models": sorted(cards.unknown),
        "gastown_rows": sorted(joined.rows),
        "remember": remember,
    }


def run_all(
    info: RepoInfo,
    config: Config,
    kinds: Sequence[str],
    *,
    actor: str,
    since: str | None = None,
    all_projects: bool = False,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Import several sources (`bd-vpt import`: every one present), with Gas Town's report;
    all under one ledger lock (marks read and records written by the one write path)."""
    with writing(info) as writer:
        return _run_all(info, config, kinds, writer, actor, since, all_projects, dry_run)


def _run_all(
    info: RepoInfo,
    config: Config,
    kinds: Sequence[str],
    writer: Writer,
    actor: str,
    since: str | None,
    all_projects: bool,
    dry_run: bool,
) -> dict[str, Any]:
    results = [
        run_import(
            info,
            config,
            kind,
            actor=actor,
            since=since,
            all_projects=all_projects,
            dry_run=dry_run,
            writer=writer,
        )
        for kind in kinds
    ]
    records = [r for result in results for r in result["records"]]
    summary: dict[str, Any] = {
        "sources": [
            {k: v for k, v in result.items() if k not in ("records", "remember")}
            for result in results
        ],
        "dry_run": dry_run,
        "records": records,
        "tokens": sum(result["tokens"] for result in results),
        "unattributed_tokens": sum(result["unattributed_tokens"] for result in results),
        **_costs(records),
        "reported_cost_usd": _reported(records),
        "unknown_models": sorted({m for result in results for m in result["unknown_models"]}),
    }
    if gastown.present():
        stats = Stats()
        rows = gastown.rows(stats)
        joined = {name for result in results for name in result["gastown_rows"]}
        summary["gastown"] = {
            **gastown.report(
                rows, joined, [r for r in writer.known.usage() if r.get("last_message")]
            ),
            "skipped": dict(sorted(stats.skipped.items())),
        }

    def remember() -> None:
        for result in results:
            result["remember"]()

    summary["remember"] = remember
    return summary


def _costs(records: list[Record]) -> dict[str, Any]:
    """Unknown is not zero: cost_usd is null when any record has no known price; the
    priced part and the count of unpriced records say what is known."""
    unknown = sum(1 for r in records if r["cost_usd"] is None)
    priced = round(sum(r["cost_usd"] or 0.0 for r in records), 6)
    return {
        "cost_usd": None if unknown else priced,
        "priced_cost_usd": priced,
        "unpriced_records": unknown,
    }


def _reported(records: list[Record]) -> float | None:
    """The agents' own cost of what was imported (None when none logs one)."""
    reported = [r["reported_cost_usd"] for r in records if "reported_cost_usd" in r]
    return round(sum(reported), 6) if reported else None


CLAUDE_HOOK = "bd-vpt import claude-code --hook"


def claude_settings(root: Path, *, remove: bool = False) -> list[str]:
    """Add (or remove) bd-vpt's SessionEnd and Stop hooks in .claude/settings.json, keeping
    every other setting and hook as it is."""
    path = root / ".claude" / "settings.json"
    try:
        settings = orjson.loads(path.read_bytes()) if path.exists() else {}
    except orjson.JSONDecodeError as exc:
        raise VptError(
            f"{path}: not valid JSON ({exc})", hint="fix it, then run this again"
        ) from None
    if not isinstance(settings, dict):
        raise VptError(f"{path}: expected a JSON object")
    hooks = settings.setdefault("hooks", {})
    done = []
    for event in ("SessionEnd", "Stop"):
        entries = [e for e in hooks.get(event, []) if not _is_ours(e)]
        if not remove:
            entries.append({"hooks": [{"type": "command", "command": CLAUDE_HOOK}]})
        if entries:
            hooks[event] = entries
        else:
            hooks.pop(event, None)
        done.append(
            f"{'removed' if remove else 'set'} the {event} hook in {path.relative_to(root)}"
        )
    if not hooks:
        settings.pop("hooks")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(settings, option=orjson.OPT_INDENT_2) + b"\n")
    return done


def _is_ours(entry: Any) -> bool:
    return isinstance(entry, dict) and any(
        isinstance(h, dict) and h.get("command") == CLAUDE_HOOK for h in entry.get("hooks", [])
    )
