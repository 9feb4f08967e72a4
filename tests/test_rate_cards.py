"""An import prices the messages of one record (one model, one day) from one rate card:
RateCards.total() is, to the bit, the sum in order of each message priced alone, with the
price_ref and provider of the last; and each message's price is genai-prices' own."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from bd_vpt.config import Config
from bd_vpt.economics.pricing import RateCards, price

MODELS = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "gpt-5", "in-house-7b"]


def tokens(rnd: random.Random) -> dict[str, int]:
    used = {
        "input": rnd.choice((0, 3, 40, 150_000)),
        "output": rnd.randint(0, 2_000),
        "cache_read": rnd.choice((0, rnd.randint(1, 120_000))),
        "cache_write": rnd.choice((0, rnd.randint(1, 90_000))),
    }
    if used["cache_write"] and rnd.random() < 0.3:
        used["cache_write_1h"] = rnd.randint(0, used["cache_write"])
    return used


@pytest.mark.parametrize("seed", range(6))
def test_total_is_the_sum_of_each_message_priced_alone(seed: int) -> None:
    rnd = random.Random(seed)
    config = Config(prices={"in-house-7b": {"input": 0.5, "output": 1.5}})
    for model in [*MODELS, "mystery-model-9"]:
        start = datetime(2026, 11, 3, tzinfo=UTC)
        moments = [start + timedelta(minutes=rnd.randint(0, 600)) for _ in range(40)]
        used = [tokens(rnd) for _ in moments]
        cost: float | None = 0.0
        ref = provider = None
        alone = RateCards(config)
        for moment, counts in zip(moments, used, strict=True):
            one, ref, provider = alone.price(model, moment, counts, "2026-11-03")
            cost = None if cost is None or one is None else cost + one
            exact = price(model, counts, moment, config)
            assert (one is None) == (exact.cost_usd is None)
            if one is not None and exact.cost_usd is not None:
                assert one == pytest.approx(
                    exact.cost_usd, rel=1e-9, abs=6e-9
                )  # (price() rounds to 8 places)
        got = RateCards(config).total(model, moments, used, "2026-11-03")
        assert got == (cost, ref, provider)
        assert (cost is None) == (model == "mystery-model-9")


@pytest.mark.parametrize("seed", range(4))
def test_cards_kept_from_an_earlier_import_price_the_same(seed: int) -> None:
    """Cards kept between imports (made by other messages, other moments of the day) give
    the prices a fresh lookup gives; a model priced by the time of day is never kept."""
    rnd = random.Random(seed)
    config = Config(prices={"in-house-7b": {"input": 0.5, "output": 1.5}})
    models = [*MODELS, "deepseek-chat", "claude-opus-4-6", "mystery-model-9"]

    def messages() -> list[tuple[str, datetime, dict[str, int]]]:
        start = datetime(2026, 11, 3, tzinfo=UTC)
        return [
            (rnd.choice(models), start + timedelta(minutes=rnd.randint(0, 4 * 1440)), tokens(rnd))
            for _ in range(300)
        ]

    earlier = RateCards(config)
    for model, moment, used in messages():
        earlier.price(model, moment, used, f"{moment:%Y-%m-%d}")
    kept = orjson.loads(orjson.dumps(earlier.made))  # (as the file keeps them)
    assert not any(key.startswith("deepseek-chat\n") for key in kept)
    assert any(key.startswith("claude-sonnet-4-5\n") for key in kept)
    assert any(key.startswith("mystery-model-9\n") for key in kept)
    again, fresh = RateCards(config, kept), RateCards(config)
    for model, moment, used in messages():
        day = f"{moment:%Y-%m-%d}"
        assert again.price(model, moment, used, day) == fresh.price(model, moment, used, day)
    assert again.unknown == fresh.unknown == {"mystery-model-9"}
    assert not set(again.made) & set(kept)  # (the kept cards were used, not looked up)
