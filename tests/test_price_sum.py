"""The compiled sum of a rate card's messages (capture/lane/price.c, RateCards.summed) gives
what RateCards.total() gives in Python, to the bit: random cards (rates of every size, kinds
with no rate, tiers starting below some inputs) and random messages (counts of every size,
negative, past 2^53, bools, floats, kinds the card does not know, exact halfway cases of the
rounding to 10 decimals)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bd_vpt.capture import compiled
from bd_vpt.config import Config
from bd_vpt.economics.pricing import RateCards

needs_lane = pytest.mark.skipif(compiled.LANE is None, reason="the compiled part is not built")
MOMENT = datetime(2026, 11, 12, 9, tzinfo=UTC)
COUNT = st.one_of(
    st.integers(0, 200_000),
    st.integers(-(2**60), 2**60),
    st.sampled_from([0, 2**53 - 1, 2**53, -(2**53), 2**63, 2**70, True, False, 1.5, 488]),
)
RATE = st.one_of(
    st.sampled_from([3.0, 15.0, 0.3, 3.75, 0.0, -0.0, 1e-9, 1e300, 0.1 + 0.2]),
    st.floats(0, 100, allow_nan=False),
    st.floats(1e12, 1e15),  # (prices past 10 decimals' reach: every last bit shows)
    st.none(),
)


@st.composite
def used(draw: st.DrawFn) -> dict[str, Any]:
    kinds = draw(
        st.lists(
            st.sampled_from(
                ["input", "output", "cache_read", "cache_write", "cache_write_1h", "x"]
            ),
            unique=True,
        )
    )
    return {kind: draw(COUNT) for kind in kinds}


@needs_lane
@settings(max_examples=500, deadline=None)
@given(
    rates=st.fixed_dictionaries(
        {
            "input": st.one_of(RATE, st.just(1.0)),
            "output": RATE,
            "cache_read": RATE,
            "cache_write": RATE,
            "cache_write_1h": RATE,
        }
    ),
    start=st.sampled_from([float("inf"), 200_000.0, 0.0, 1e20, float("nan")]),
    tokens=st.lists(used(), max_size=12),
)
def test_the_compiled_sum_is_totals_own(
    rates: dict[str, float | None], start: float, tokens: list[dict[str, Any]]
) -> None:
    def total(summed: bool) -> Any:
        cards = RateCards(Config())
        cards._cards[("nobody-prices-this", "2026-11-12")] = (rates, start, "ref", "p")
        if summed:
            compiled.priced(cards)
        moments = [MOMENT] * len(tokens)
        return cards.total("nobody-prices-this", moments, [dict(t) for t in tokens], "2026-11-12")

    cost, ref, provider = total(True)
    want = total(False)
    assert (repr(cost), ref, provider) == (repr(want[0]), want[1], want[2])


@needs_lane
def test_a_halfway_price_rounds_as_python_rounds() -> None:
    """One token at 488.28125 dollars a million: 0.00048828125 (1/2048), halfway at 10
    decimals (round() takes the even neighbour)."""
    cards = compiled.priced(RateCards(Config()))
    plain = RateCards(Config())
    card = (
        {
            "input": 1.0,
            "output": 0.0,
            "cache_read": None,
            "cache_write": None,
            "cache_write_1h": None,
        },
        float("inf"),
        "ref",
        "p",
    )
    for each in (cards, plain):
        each._cards[("m", "2026-11-12")] = card
    tokens = [{"input": 1, "output": 0}, {"input": 3, "output": 0}]
    a = cards.total("m", [MOMENT, MOMENT], [dict(t) for t in tokens], "2026-11-12")
    b = plain.total("m", [MOMENT, MOMENT], [dict(t) for t in tokens], "2026-11-12")
    assert repr(a) == repr(b)
    assert round(1 / 2048, 10) == 0.0004882812  # (the halfway case is one)
