"""Unknown is not zero, and one model is one row.

The mixed ledger (weights P1 = 4, P2 = 2; tokens = input + output):
  A (P1): claude-sonnet-4-5-20250929, 100k tokens, $0.30; completed
  B (P2): mystery-9 (no known price), 50k tokens; completed
  (none): anthropic/claude-sonnet-4-5, 50k tokens, $0.15
By hand: tokens 200k; priced $0.45 over 150k tokens -> priced share 0.75; the cost is unknown
(null), and so are cost per completion, fully loaded cost and ROI; beads closed 2, weighted
4 + 2 = 6, BC/MT 6 / 0.2 = 30 (tokens are known even when their price is not).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bd_vpt.config import Config
from bd_vpt.economics.choice import compare_models
from bd_vpt.economics.metrics import summarize
from bd_vpt.economics.modelnames import canonical, parse
from bd_vpt.economics.pricing import price
from tests.helpers import outcome, ulid, usage

MIXED = [
    usage(
        ulid(1), "2026-11-02T09:00:00Z", "A", "a1", "claude-sonnet-4-5-20250929", 100_000, 0, 0.30
    ),
    outcome(ulid(2), "2026-11-02T18:00:00Z", "A", "a1", "completed", 1),
    usage(ulid(3), "2026-11-03T09:00:00Z", "B", "a2", "mystery-9", 40_000, 10_000, None),
    outcome(ulid(4), "2026-11-03T18:00:00Z", "B", "a2", "completed", 2),
    usage(
        ulid(5),
        "2026-11-03T10:00:00Z",
        None,
        "mayor",
        "anthropic/claude-sonnet-4-5",
        50_000,
        0,
        0.15,
    ),
]


def test_unknown_cost_is_null_with_its_priced_share() -> None:
    t = summarize(MIXED, Config())["totals"]
    assert t["tokens"] == 200_000 and t["unpriced_tokens"] == 50_000
    assert t["cost_usd"] is None
    assert t["priced_cost_usd"] == pytest.approx(0.45)
    assert t["priced_share"] == pytest.approx(0.75)
    assert t["cost_per_completion"] is None and t["fully_loaded_cost_usd"] is None
    assert t["roi"] is None and t["weighted_per_usd"] is None
    assert (t["beads_closed"], t["weighted_completions"]) == (2, 6.0)
    assert t["bc_mt"] == pytest.approx(30.0)


def test_a_group_that_is_all_priced_keeps_its_cost() -> None:
    rows = {g["key"]: g for g in summarize(MIXED, Config(), by="agent")["groups"]}
    assert rows["a1"]["cost_usd"] == pytest.approx(0.30) and rows["a1"]["priced_share"] == 1.0
    assert rows["a1"]["cost_per_completion"] == pytest.approx(0.30)
    assert rows["a2"]["cost_usd"] is None and rows["a2"]["priced_share"] == 0.0


def test_three_spellings_are_one_model() -> None:
    spellings = [
        "claude-sonnet-4-5-20250929",
        "anthropic/claude-sonnet-4-5",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]
    assert {canonical(s) for s in spellings} == {"claude-sonnet-4-5"}
    ledger = [
        usage(ulid(i + 1), "2026-11-02T09:00:00Z", "A", "a1", s, 10_000 * (i + 1), 0, 0.01)
        for i, s in enumerate(spellings)
    ]
    rows = summarize(ledger, Config(), by="model")["groups"]
    assert [(r["key"], r["tokens"]) for r in rows] == [("claude-sonnet-4-5", 60_000)]
    assert ledger[2]["model"] == spellings[2]  # the record keeps the id as reported


@pytest.mark.parametrize(
    ("raw", "name", "host"),
    [
        ("claude-sonnet-4-5-latest", "claude-sonnet-4-5", None),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5", "google"),
        ("claude-sonnet-4.5", "claude-sonnet-4-5", None),
        ("bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet", "aws"),
        ("gpt-4o-2024-08-06", "gpt-4o", None),
        ("openai/gpt-4o", "gpt-4o", None),
        ("gpt-5-codex", "gpt-5-codex", None),  # priced like gpt-5, but another model
        ("llama3:8b", "llama3:8b", None),
    ],
)
def test_canonical_names(raw: str, name: str, host: str | None) -> None:
    assert (parse(raw).canonical, parse(raw).host) == (name, host)


def test_every_spelling_of_a_priced_model_is_priced() -> None:
    """Claude Sonnet 4.5: $3 per million input tokens from Anthropic (and Vertex); Bedrock's
    regional endpoints charge 10% more ($3.30). 100k input tokens: $0.30, or $0.33."""
    moment = datetime(2026, 11, 2, tzinfo=UTC)
    tokens = {"input": 100_000, "output": 0}
    expected = {
        "claude-sonnet-4-5-20250929": 0.30,
        "anthropic/claude-sonnet-4-5": 0.30,
        "claude-sonnet-4-5@20250929": 0.30,
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0": 0.33,
    }
    for model, usd in expected.items():
        priced = price(model, tokens, moment, Config())
        assert priced.cost_usd == pytest.approx(usd), model
        assert priced.price_ref and priced.price_ref.startswith("genai-prices ")


def test_an_override_prices_every_spelling_and_zero_is_explicit() -> None:
    config = Config(prices={"llama3": {"input": 0.0, "output": 0.0}})
    moment = datetime(2026, 11, 2, tzinfo=UTC)
    assert price("llama3", {"input": 10}, moment, Config()).cost_usd is None  # not a default
    assert price("llama3", {"input": 10}, moment, config).cost_usd == 0.0
    assert price("ollama/llama3", {"input": 10}, moment, config).price_ref == "config:prices.llama3"


def test_models_ranks_only_priced_models() -> None:
    document = compare_models(MIXED, Config())
    assert [m["key"] for m in document["models"]] == ["claude-sonnet-4-5"]
    assert [m["key"] for m in document["unpriced_models"]] == ["mystery-9"]
    task = next(c for c in document["choices"] if c["type"] == "task")
    assert task["cheapest_by_token_price"] == "claude-sonnet-4-5"  # never the unpriced one
    assert [m["key"] for m in task["unpriced_models"]] == ["mystery-9"]
