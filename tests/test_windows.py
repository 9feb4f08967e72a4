"""One window semantics: outcomes belong to the period of their transition, rates come from
the transitions inside the window, value and effort follow the bead's final state.

The ledger of the first tests (weights P0..P4 = 8, 4, 2, 1, 0.5; tokens = input + output):
  R (P1): 100k tokens $1.00 in W45 (2026-11-02); completed W45 (10 human minutes, value $500);
          reopened W46 (11-10); 50k tokens $0.50 in W46; completed again W47 (11-18, 20 minutes,
          value $800)
  S (P2): 40k tokens $0.40 in W45; completed 11-04 (value $300, 45 minutes); completed again
          11-05 (a double close, restating value $300 and no minutes); never reopened
  T (P3): 60k tokens $0.60 in W46; completed 11-11; abandoned 11-12
By hand:
  W45: tokens 140k, cost $1.40; completion transitions R, S = 2; reopens 0; closed (final
       completion here): S only -> beads_closed 1, weighted 2; value $300 (S), minutes 45;
       escalations: S's 45 > 30 -> 1; reopen rate 0/2 = 0, escalation rate 1/2
  W46: tokens 110k, cost $1.10; completions T = 1; reopens R = 1 -> reopen rate 1/1 = 1.0;
       closed 0 (T abandoned: its final state is open), weighted 0, value 0
  W47: tokens 0; completions R = 1; reopens 0; closed R -> weighted 4; value $800 (R's final),
       minutes 10 + 20 = 30 (every attempt's minutes, counted once R is closed)
  Whole range: tokens 250k, cost $2.50; completions 4 (R twice, S, T); distinct beads
       completed 3; reopens 1 -> 1/4; closed R, S = 2, weighted 6, BC/MT 6 / 0.25 = 24;
       value $1,100 (S $300 once + R $800), minutes 75.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bd_vpt.config import Config
from bd_vpt.economics.metrics import ADDITIVE, summarize, trend
from tests.helpers import outcome, ulid, usage

LEDGER = [
    usage(ulid(1), "2026-11-02T09:00:00Z", "R", "a1", "m1", 100_000, 0, 1.00),
    outcome(
        ulid(2),
        "2026-11-02T18:00:00Z",
        "R",
        "a1",
        "completed",
        1,
        human_minutes=10,
        value_usd=500.0,
    ),
    usage(ulid(3), "2026-11-03T09:00:00Z", "S", "a2", "m1", 40_000, 0, 0.40),
    outcome(
        ulid(4),
        "2026-11-04T18:00:00Z",
        "S",
        "a2",
        "completed",
        2,
        human_minutes=45,
        value_usd=300.0,
    ),
    outcome(ulid(5), "2026-11-05T18:00:00Z", "S", "a2", "completed", 2, value_usd=300.0),
    outcome(ulid(6), "2026-11-10T08:00:00Z", "R", "lead", "reopened", 1),
    usage(ulid(7), "2026-11-10T09:00:00Z", "R", "a1", "m1", 50_000, 0, 0.50),
    usage(ulid(8), "2026-11-10T10:00:00Z", "T", "a2", "m1", 60_000, 0, 0.60),
    outcome(ulid(9), "2026-11-11T18:00:00Z", "T", "a2", "completed", 3),
    outcome(ulid(10), "2026-11-12T18:00:00Z", "T", "lead", "abandoned", 3),
    outcome(
        ulid(11),
        "2026-11-18T12:00:00Z",
        "R",
        "a1",
        "completed",
        1,
        human_minutes=20,
        value_usd=800.0,
    ),
]
WEEKS = {
    "2026-W45": ("2026-11-02", "2026-11-08"),
    "2026-W46": ("2026-11-09", "2026-11-15"),
    "2026-W47": ("2026-11-16", "2026-11-22"),
}


def test_whole_range_by_hand() -> None:
    t = summarize(LEDGER, Config())["totals"]
    assert (t["tokens"], t["cost_usd"]) == (250_000, pytest.approx(2.50))
    assert (t["completions"], t["beads_completed"], t["reopens"]) == (4, 3, 1)
    assert t["reopen_rate"] == pytest.approx(0.25)
    assert (t["beads_closed"], t["weighted_completions"]) == (2, 6.0)
    assert t["bc_mt"] == pytest.approx(24.0)
    assert t["value_usd"] == 1100.0  # S's double close counts once; R's first value is gone
    assert t["human_minutes"] == 75.0


@pytest.mark.parametrize(
    ("week", "expected"),
    [
        (
            "2026-W45",
            {
                "tokens": 140_000,
                "completions": 2,
                "reopens": 0,
                "beads_closed": 1,
                "weighted_completions": 2.0,
                "value_usd": 300.0,
                "human_minutes": 45.0,
                "reopen_rate": 0.0,
                "escalation_rate": 0.5,
            },
        ),
        (
            "2026-W46",
            {
                "tokens": 110_000,
                "completions": 1,
                "reopens": 1,
                "beads_closed": 0,
                "weighted_completions": 0.0,
                "value_usd": 0.0,
                "reopen_rate": 1.0,
            },
        ),
        (
            "2026-W47",
            {
                "tokens": 0,
                "completions": 1,
                "reopens": 0,
                "beads_closed": 1,
                "weighted_completions": 4.0,
                "value_usd": 800.0,
                "human_minutes": 30.0,
                "reopen_rate": 0.0,
            },
        ),
    ],
)
def test_each_week_by_hand_and_the_same_three_ways(week: str, expected: dict[str, Any]) -> None:
    since, until = WEEKS[week]
    alone = summarize(LEDGER, Config(), since=since, until=until)["totals"]
    row = next(g for g in summarize(LEDGER, Config(), by="week")["groups"] if g["key"] == week)
    trended = next(r for r in trend(LEDGER, Config(), every="week") if r["period"] == week)
    for name, value in expected.items():
        assert alone[name] == pytest.approx(value), name
    for name in alone:
        if name != "outcome_records":
            assert row[name] == alone[name], name
            assert trended[name] == alone[name], name


def test_a_quiet_week_is_a_zero_row() -> None:
    ledger = [r for r in LEDGER if not r["ts"].startswith("2026-11-1")]  # only W45
    ledger.append(usage(ulid(99), "2026-11-25T09:00:00Z", "X", "a1", "m1", 1_000, 0, 0.01))
    rows = trend(ledger, Config(), every="week")
    assert [r["period"] for r in rows] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    assert rows[1]["tokens"] == 0 and rows[1]["cost_usd"] == 0 and rows[1]["beads_closed"] == 0
    by_week = summarize(ledger, Config(), by="week")["groups"]
    assert [g["key"] for g in by_week] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]


# --- the property: periods add up, and a period's rates are its single window's ----------

MOMENTS = [f"2026-11-{d:02d}T{h:02d}:00:00Z" for d in range(1, 29) for h in (3, 15)]


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    n = 0
    for bead in draw(st.lists(st.sampled_from("ABCDEF"), min_size=1, max_size=6, unique=True)):
        priority = draw(st.sampled_from([0, 1, 2, 3, 4, None]))
        for _ in range(draw(st.integers(0, 4))):
            n += 1
            cost = draw(st.sampled_from([0.25, 1.0, None]))
            records.append(
                usage(
                    ulid(n),
                    draw(st.sampled_from(MOMENTS)),
                    bead,
                    draw(st.sampled_from(["a1", "a2"])),
                    "m1",
                    draw(st.integers(1, 9)) * 1000,
                    0,
                    cost,
                )
            )
        for _ in range(draw(st.integers(0, 5))):
            n += 1
            records.append(
                outcome(
                    ulid(n),
                    draw(st.sampled_from(MOMENTS)),
                    bead,
                    "a1",
                    draw(st.sampled_from(["completed", "completed", "reopened", "abandoned"])),
                    priority,
                    human_minutes=draw(st.sampled_from([None, 10, 40])),
                    value_usd=draw(st.sampled_from([None, 100.0])),
                )
            )
    return records


@settings(max_examples=60, deadline=None)
@given(ledgers(), st.sampled_from(["day", "week", "month"]))
def test_periods_add_up_to_the_range(ledger: list[dict[str, Any]], every: str) -> None:
    config = Config()
    whole = summarize(ledger, config)["totals"]
    rows = summarize(ledger, config, by=every)["groups"]
    for name in ADDITIVE:
        assert sum(r[name] for r in rows) == pytest.approx(whole[name], abs=1e-4), name
    trended = {r["period"]: r for r in trend(ledger, config, every=every)}
    for row in rows:
        assert trended[row["key"]]["reopen_rate"] == row["reopen_rate"]
    from bd_vpt.economics.metrics import period_window
    from bd_vpt.ledger.records import format_ts

    for row in rows:
        win = period_window(row["key"], every)
        assert win.since is not None and win.until is not None
        alone = summarize(
            ledger,
            config,
            since=format_ts(win.since),
            until=format_ts(win.until - __import__("datetime").timedelta(milliseconds=1)),
        )
        for name in (
            "reopen_rate",
            "escalation_rate",
            "bc_mt",
            "cost_usd",
            "priced_share",
            *ADDITIVE,
        ):
            assert alone["totals"][name] == row[name], name


def test_the_readme_example() -> None:
    """README, Windows and periods: R alone, closed W45, reopened W46, closed again W47."""
    ledger = [r for r in LEDGER if r["bead"] == "R"]
    rows = {g["key"]: g for g in summarize(ledger, Config(), by="week")["groups"]}
    whole = summarize(ledger, Config())["totals"]
    names = (
        "completions",
        "reopens",
        "reopen_rate",
        "beads_closed",
        "weighted_completions",
        "beads_completed",
        "value_usd",
    )
    table = {key: tuple(row[n] for n in names) for key, row in rows.items()}
    assert table == {
        "2026-W45": (1, 0, 0.0, 0, 0.0, 1, 0.0),
        "2026-W46": (0, 1, None, 0, 0.0, 0, 0.0),
        "2026-W47": (1, 0, 0.0, 1, 4.0, 1, 800.0),
    }
    assert tuple(whole[n] for n in names) == (2, 1, 0.5, 1, 4.0, 1, 800.0)


CHECKED = (  # what check reads of the whole ledger's figures
    "reopen_rate",
    "escalation_rate",
    "reopens",
    "escalations",
    "completions",
    "coverage",
    "priced_share",
    "unpriced_records",
    "unpriced_tokens",
)


@settings(max_examples=60, deadline=None)
@given(ledgers())
def test_transitions_count_what_a_report_with_no_window_counts(
    ledger: list[dict[str, Any]],
) -> None:
    from bd_vpt.economics.facts import transitions
    from bd_vpt.economics.metrics import bead_states, collect, summarize_facts

    config = Config()
    facts = collect(ledger, config)
    totals = summarize_facts(facts, config)["totals"]
    counted = transitions(facts, bead_states(facts), config.escalation_minutes).figures()
    assert {k: counted[k] for k in CHECKED} == {k: totals[k] for k in CHECKED}
