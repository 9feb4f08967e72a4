"""The org rollup: many repositories' ledgers as one fleet, by repo, team or agent.

Pure functions over records. Bead ids are namespaced by repository ("api:bd-12"), so two
repositories' beads never merge; every repository is weighed with the same config (one
scale for the organisation). Teams come from that config's [teams]: a usage record belongs
to the first team (by name) that lists its actor, else to the first whose labels its bead
carries, else to "(no team)".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bd_vpt.config import Config
from bd_vpt.ledger.records import Record

NO_TEAM = "(no team)"
BY = ("repo", "team", "agent")


@dataclass
class Part:
    """One repository: its name in the rollup, its records and where they were read."""

    name: str
    records: list[Record]
    facts: dict[str, Any]  # where it was read: path, ref, commit


def namespaced(name: str, records: Iterable[Record]) -> Iterator[Record]:
    for record in records:
        bead = record["bead"]
        yield record if bead is None else {**record, "bead": f"{name}:{bead}"}


def _teams(config: Config) -> list[tuple[str, set[str], set[str]]]:
    teams = config.raw.get("teams") or {}
    return [
        (name, set(teams[name].get("actors", [])), set(teams[name].get("labels", [])))
        for name in sorted(teams)
    ]


def as_teams(records: Iterable[Record], config: Config) -> Iterator[Record]:
    """The records with their actor replaced by their team (records must be a list: bead
    labels come from outcomes, which may follow the usage)."""
    listed = records if isinstance(records, list) else list(records)
    teams = _teams(config)
    labels: dict[str, set[str]] = {}
    for record in listed:
        if record["kind"] == "outcome" and record.get("snapshot"):
            labels[record["bead"]] = set(record["snapshot"].get("labels") or [])
    cache: dict[tuple[str, str | None], str] = {}
    for record in listed:
        key = (record["actor"], record["bead"])
        team = cache.get(key)
        if team is None:
            team = next((n for n, actors, _ in teams if record["actor"] in actors), None)
            if team is None:
                mine = labels.get(record["bead"] or "", set())
                team = next((n for n, _, tagged in teams if tagged & mine), NO_TEAM)
            cache[key] = team
        yield {**record, "actor": team}


def rollup(
    parts: list[Part],
    config: Config,
    *,
    by: str = "repo",
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """{"by", "totals", "groups", "repos"}: the totals of every repository together; groups
    by repo (each repository's own summary), team or agent."""
    from bd_vpt.economics.metrics import summarize

    if by not in BY:
        raise ValueError(f"unknown grouping {by!r}")
    window: dict[str, Any] = {"since": since, "until": until}

    def everything() -> Iterator[Record]:
        for part in parts:
            yield from namespaced(part.name, part.records)

    totals = summarize(everything(), config, **window)["totals"]
    if by == "repo":
        groups = [
            {"key": part.name, **summarize(part.records, config, **window)["totals"]}
            for part in parts
        ]
    elif by == "agent":
        groups = summarize(everything(), config, by="agent", **window)["groups"]
    else:
        teams = as_teams(list(everything()), config)
        groups = summarize(teams, config, by="agent", **window)["groups"]
    return {
        "by": by,
        "totals": totals,
        "groups": groups,
        "repos": [{"name": part.name, **part.facts} for part in parts],
    }
