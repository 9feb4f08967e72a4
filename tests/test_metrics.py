"""Summary figures on a small ledger, checked against values computed by hand.

The ledger (weights P0..P4 = 8, 4, 2, 1, 0.5; basis total = input + output):
  A (P0): a1 150k tokens, $1.00; completed on 11-02
  B (P2): a2 200k $0.40 on 11-02, a1 100k $0.60 on 11-03; completed 11-03, reopened 11-04
  (no bead): mayor 100k $0.50 on 11-03                     -> unattributed
  C (P3): a2 250k, unpriced, completed 11-04 with completion 0.5
  D (P1): a1 30k + a2 10k on 11-05, completed 11-05         -> credit split 3/4 : 1/4
Totals: tokens 840k; cost unknown (C has no price): $2.50 priced over 590k tokens, priced
share 590 / 840; closed A, C, D = 3 (B's final state is reopened), weighted 8 + 0.5 + 4 = 12.5,
BC/MT = 12.5 / 0.84 = 14.880952; reopen rate = 1 reopen / 4 completions (A, B, C, D);
coverage 740k / 840k.
"""

from __future__ import annotations

from typing import Any

import pytest

from bd_vpt.config import Config
from bd_vpt.economics.metrics import summarize
from bd_vpt.ledger.records import token_total
from tests.helpers import outcome, ulid, usage

LEDGER = [
    usage(ulid(1), "2026-11-02T09:00:00Z", "A", "a1", "m1", 100_000, 50_000, 1.00),
    usage(ulid(2), "2026-11-02T10:00:00Z", "B", "a2", "m2", 200_000, 0, 0.40),
    outcome(ulid(3), "2026-11-02T18:00:00Z", "A", "a1", "completed", 0),
    usage(ulid(4), "2026-11-03T09:00:00Z", "B", "a1", "m1", 50_000, 50_000, 0.60),
    usage(ulid(5), "2026-11-03T10:00:00Z", None, "mayor", "m1", 100_000, 0, 0.50),
    outcome(ulid(6), "2026-11-03T18:00:00Z", "B", "a2", "completed", 2),
    outcome(ulid(7), "2026-11-04T09:00:00Z", "B", "lead", "reopened", 2),
    usage(ulid(8), "2026-11-04T10:00:00Z", "C", "a2", "m2", 200_000, 50_000, None),
    outcome(ulid(9), "2026-11-04T18:00:00Z", "C", "a2", "completed", 3, completion=0.5),
    usage(ulid(10), "2026-11-05T09:00:00Z", "D", "a1", "m1", 10_000, 20_000, 0.0),
    usage(ulid(11), "2026-11-05T10:00:00Z", "D", "a2", "m2", 10_000, 0, 0.0),
    outcome(ulid(12), "2026-11-05T18:00:00Z", "D", "a1", "completed", 1),
]


def groups(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["key"]: g for g in document["groups"]}


def test_fleet_totals() -> None:
    totals = summarize(LEDGER, Config())["totals"]
    assert totals["tokens"] == 840_000
    assert totals["tokens_by_kind"]["input"] == 670_000
    assert totals["tokens_by_kind"]["output"] == 170_000
    assert totals["cost_usd"] is None  # unknown, never $2.50 (C is unpriced)
    assert totals["priced_cost_usd"] == pytest.approx(2.50)
    assert totals["priced_share"] == pytest.approx(590 / 840, abs=1e-6)
    assert totals["unpriced_records"] == 1 and totals["unpriced_tokens"] == 250_000
    assert totals["beads_closed"] == 3
    assert totals["weighted_completions"] == pytest.approx(12.5)
    assert totals["bc_mt"] == pytest.approx(12.5 / 0.84, abs=1e-6)
    assert totals["cost_per_completion"] is None
    assert (totals["completions"], totals["reopens"]) == (4, 1)
    assert totals["reopen_rate"] == pytest.approx(0.25)
    assert totals["coverage"] == pytest.approx(740 / 840, abs=1e-6)


def test_by_agent_splits_credit_by_token_share() -> None:
    rows = groups(summarize(LEDGER, Config(), by="agent"))
    assert rows["a1"]["tokens"] == 280_000
    assert rows["a1"]["beads_closed"] == 2  # A alone, D shared
    assert rows["a1"]["weighted_completions"] == pytest.approx(8 + 4 * 0.75)
    assert rows["a1"]["bc_mt"] == pytest.approx(11 / 0.28, abs=1e-5)
    assert rows["a1"]["reopen_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert rows["a2"]["weighted_completions"] == pytest.approx(0.5 + 4 * 0.25)
    assert rows["a2"]["cost_usd"] is None and rows["a2"]["priced_cost_usd"] == pytest.approx(0.40)
    assert rows["a1"]["cost_usd"] == pytest.approx(1.60)  # all of a1's usage is priced
    assert rows["a2"]["unpriced_records"] == 1
    assert rows["mayor"] == {
        **rows["mayor"],
        "tokens": 100_000,
        "beads_closed": 0,
        "bc_mt": 0.0,
        "coverage": 0.0,
        "cost_per_completion": None,
    }


def test_by_day_credits_the_day_of_the_close() -> None:
    rows = groups(summarize(LEDGER, Config(), by="day"))
    assert list(rows) == ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]
    assert rows["2026-11-02"]["bc_mt"] == pytest.approx(8 / 0.35, abs=1e-5)
    assert rows["2026-11-03"]["weighted_completions"] == 0  # B's completion was revoked
    assert rows["2026-11-04"]["bc_mt"] == pytest.approx(2.0)
    assert rows["2026-11-05"]["bc_mt"] == pytest.approx(100.0)


def test_by_priority_and_label() -> None:
    rows = groups(summarize(LEDGER, Config(), by="priority"))
    assert [k for k in rows] == ["(none)", "P0", "P1", "P2", "P3"]
    assert rows["P0"]["tokens"] == 150_000 and rows["P0"]["weighted_completions"] == 8
    assert rows["P2"]["beads_closed"] == 0 and rows["P2"]["reopen_rate"] == 1.0
    assert rows["(none)"]["tokens"] == 100_000


def test_window() -> None:
    totals = summarize(LEDGER, Config(), since="2026-11-04")["totals"]
    assert totals["tokens"] == 290_000
    assert totals["beads_closed"] == 2  # C and D; A closed before the window
    assert totals["weighted_completions"] == pytest.approx(4.5)
    before = summarize(LEDGER, Config(), until="2026-11-03")["totals"]
    assert before["tokens"] == 550_000
    # A only: B was completed on 11-03, but its final state (reopened 11-04) is open
    assert before["beads_closed"] == 1 and before["completions"] == 2


def test_weights_and_basis_come_from_config() -> None:
    config = Config(weights={"P0": 1, "P1": 1, "P2": 1, "P3": 1, "P4": 1}, token_basis="output")
    totals = summarize(LEDGER, config)["totals"]
    assert totals["tokens"] == 170_000
    assert totals["weighted_completions"] == pytest.approx(2.5)


def test_unknown_priority_weighs_as_p2() -> None:
    rec = outcome(ulid(1), "2026-11-02T18:00:00Z", "X", "a", "completed", None)
    assert summarize([rec], Config())["totals"]["weighted_completions"] == 2.0


@pytest.mark.parametrize(
    ("basis", "expected"),
    [
        ("total", 1 + 2 + 4 + 8),
        ("input_output", 3),
        ("no_cache_read", 11),
        ("output", 2),
    ],
)
def test_token_basis(basis: str, expected: int) -> None:
    tokens = {"input": 1, "output": 2, "cache_read": 4, "cache_write": 8, "reasoning": 1}
    assert token_total(tokens, basis) == expected


def test_bare_total_counts_on_any_basis() -> None:
    rec = {**usage(ulid(1), "2026-11-02T09:00:00Z", "A", "a", "m", 0, 0), "tokens": {"total": 5000}}
    totals = summarize([rec], Config(token_basis="output"))["totals"]
    assert totals["tokens"] == 5000 and totals["tokens_by_kind"]["unsplit"] == 5000


def test_empty_ledger() -> None:
    totals = summarize([], Config())["totals"]
    assert totals["tokens"] == 0 and totals["bc_mt"] is None and totals["coverage"] is None


def test_seed_example_fully_loaded_cost() -> None:
    """../shared/seeds/001: a frontier model at $40 plus 15 minutes of review ($62.50) beats a
    cheap model at $4 plus two hours of fixing ($184) once human attention is priced in."""
    ledger = [
        usage(ulid(1), "2026-11-02T09:00:00Z", "F", "a", "frontier", 100_000, 20_000, 40.0),
        outcome(ulid(2), "2026-11-02T18:00:00Z", "F", "a", "completed", 2, human_minutes=15),
        usage(ulid(3), "2026-11-02T09:00:00Z", "C", "b", "cheap", 100_000, 20_000, 4.0),
        outcome(ulid(4), "2026-11-02T18:00:00Z", "C", "b", "completed", 2, human_minutes=120),
    ]
    rows = groups(summarize(ledger, Config(), by="model"))
    assert rows["frontier"]["fully_loaded_cost_usd"] == pytest.approx(62.5)
    assert rows["cheap"]["fully_loaded_cost_usd"] == pytest.approx(184.0)
    assert rows["cheap"]["cost_usd"] < rows["frontier"]["cost_usd"]
    assert rows["cheap"]["escalation_rate"] == 1.0 and rows["frontier"]["escalation_rate"] == 0.0


def test_value_rework_delay_waste_by_hand() -> None:
    """R (P1): $3 on 11-02, completed, reopened 11-03 ($1 more that day), completed 11-04 noon.
    D (P2): $2, abandoned. Cost of delay $100/day; human rate $60/h."""
    ledger = [
        usage(ulid(1), "2026-11-02T09:00:00Z", "R", "a", "m", 300_000, 0, 3.0),
        outcome(ulid(2), "2026-11-02T18:00:00Z", "R", "a", "completed", 1, human_minutes=10),
        outcome(ulid(3), "2026-11-03T08:00:00Z", "R", "lead", "reopened", 1),
        usage(ulid(4), "2026-11-03T09:00:00Z", "R", "a", "m", 100_000, 0, 1.0),
        outcome(
            ulid(5),
            "2026-11-04T12:00:00Z",
            "R",
            "a",
            "completed",
            1,
            human_minutes=50,
            value_usd=1200.0,
        ),
        usage(ulid(6), "2026-11-02T10:00:00Z", "D", "b", "m", 200_000, 0, 2.0),
        outcome(ulid(7), "2026-11-02T19:00:00Z", "D", "b", "abandoned", 2),
    ]
    config = Config(human_usd_per_hour=60.0, delay_usd_per_day=100.0)
    t = summarize(ledger, config)["totals"]
    assert t["human_minutes"] == 60 and t["human_usd"] == pytest.approx(60.0)
    assert t["rework_usd"] == pytest.approx(4.0)  # R's spend up to its reopen day (day granularity)
    assert t["delay_usd"] == pytest.approx(
        100.0 * 2.5
    )  # R: first usage 11-02 00:00 -> close 11-04 12:00
    assert t["fully_loaded_cost_usd"] == pytest.approx(6.0 + 60.0 + 250.0 + 4.0)
    assert t["value_usd"] == 1200.0 and t["value_per_mtok"] == pytest.approx(1200 / 0.6)
    assert t["roi"] == pytest.approx(1200 / 320.0)
    assert t["waste_share"] == pytest.approx(200 / 600)  # D was abandoned
    # R completed twice: 10 minutes, then 50 (> 30): 1 escalation of 2 completions
    assert t["escalation_rate"] == pytest.approx(0.5)
    assert t["fully_loaded_cost_per_completion"] == pytest.approx(320.0)


def test_delay_rate_by_label_and_type() -> None:
    config = Config(
        delay_usd_per_day=1.0,
        delay_by_label={"pay": 50.0, "web": 20.0},
        delay_by_type={"bug": 10.0},
    )
    assert config.delay_rate({"labels": ["web", "pay"], "type": "bug"}) == 50.0
    assert config.delay_rate({"labels": ["docs"], "type": "bug"}) == 10.0
    assert config.delay_rate({"labels": [], "type": "task"}) == 1.0


def test_models_view_names_the_cheapest_fully_loaded_model() -> None:
    from bd_vpt.economics.choice import compare_models

    ledger = [
        usage(ulid(1), "2026-11-02T09:00:00Z", "F", "a", "frontier", 100_000, 20_000, 40.0),
        outcome(
            ulid(2),
            "2026-11-02T18:00:00Z",
            "F",
            "a",
            "completed",
            2,
            human_minutes=15,
            type="feature",
        ),
        usage(ulid(3), "2026-11-02T09:00:00Z", "C", "b", "cheap", 100_000, 20_000, 4.0),
        outcome(
            ulid(4),
            "2026-11-02T18:00:00Z",
            "C",
            "b",
            "completed",
            2,
            human_minutes=120,
            type="feature",
        ),
        usage(ulid(5), "2026-11-02T09:00:00Z", "X", "b", "cheap", 10_000, 0, 0.1),
        outcome(ulid(6), "2026-11-02T18:00:00Z", "X", "b", "completed", 3, type="chore"),
    ]
    document = compare_models(ledger, Config())
    feature = next(c for c in document["choices"] if c["type"] == "feature")
    assert feature["cheapest_fully_loaded"] == "frontier"  # $62.50 per completion
    assert feature["cheapest_by_token_price"] == "cheap"  # $33.3/Mtok against $333.3/Mtok
    assert feature["differs"] is True
    loaded = {r["key"]: r["fully_loaded_cost_per_completion"] for r in feature["models"]}
    assert loaded == {"frontier": pytest.approx(62.5), "cheap": pytest.approx(184.0)}
    chore = next(c for c in document["choices"] if c["type"] == "chore")
    assert chore["cheapest_fully_loaded"] == chore["cheapest_by_token_price"] == "cheap"
    models = {r["key"]: r for r in document["models"]}
    assert models["cheap"]["human_minutes"] == 120 and models["cheap"]["beads_closed"] == 2


def test_model_efficiency_per_mtok_and_per_dollar() -> None:
    rows = groups(summarize(LEDGER, Config(), by="model"))
    # m1: a1's usage (A, B, D) and mayor's; m2: a2's usage (B, C, D)
    assert rows["m1"]["weighted_completions"] == pytest.approx(8 + 4 * 0.75)
    assert rows["m1"]["weighted_per_usd"] == pytest.approx(11 / 2.1)  # $1.00 + $0.60 + $0.50 + $0
    assert rows["m1"]["bc_mt"] == pytest.approx(11 / 0.38, abs=1e-5)
    assert rows["m2"]["weighted_per_usd"] is None  # m2's cost is unknown (C)
    assert rows["m2"]["priced_cost_usd"] == pytest.approx(0.40)


def test_a_bead_state_is_reused_only_for_the_same_records() -> None:
    import copy

    from bd_vpt.economics.timeline import fold, ordered, state_of

    done = outcome(ulid(1), "2026-11-02T10:00:00.000Z", "b", "a", "completed", 2)
    back = outcome(ulid(2), "2026-11-03T10:00:00.000Z", "b", "a", "reopened", 2)
    first = state_of("b", [done])
    assert state_of("b", [done]) is first  # the same record objects: folded once
    assert state_of("b", [copy.deepcopy(done)]) is not first  # equal, not the same: folded
    later = state_of("b", [done, back])
    assert later is not first and not later.closed and later.reopens
    assert later == fold("b", *ordered([done, back]))


@pytest.mark.parametrize("result", ["completed", "reopened", "rejected", "abandoned"])
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"human_minutes": 25, "value_usd": 120.5, "completion": 0.5},
        {"human_minutes": 0, "value_usd": None, "completion": None},
        {"excluded": "wisp", "human_minutes": 3},
        {"snapshot": None},
        {"snapshot": {}},
    ],
)
def test_a_bead_of_one_outcome_is_the_state_fold_makes(result: str, extra: Any) -> None:
    from bd_vpt.economics.timeline import fold, forget_states, ordered, state_of

    record = outcome(ulid(1), "2026-11-02T10:00:00.000Z", "b", "a", result, 1)
    record.update(extra)
    if record.get("completion") is None:
        record.pop("completion")
    forget_states()
    assert state_of("b", [record]) == fold("b", *ordered([record]))
    slow = outcome(ulid(1), "2026-11-02T11:00:00+01:00", "b", "a", result, 1)  # not Z: parsed
    slow.update({k: v for k, v in record.items() if k not in ("ts", "id")})
    assert state_of("b", [slow]) == fold("b", *ordered([slow]))
