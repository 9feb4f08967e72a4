"""The compiled part of the importers (lane/*.c, the module bd_vpt.capture._claude), where it
was built at install (a C compiler was found) and BD_VPT_LANE is not `python`: the reader of
Claude Code transcript lines (claude_code.py) and the sum of a rate card's messages
(economics/pricing.py RateCards.summed). Without it everything is done in Python, with the same
results (tests/test_claude_reader.py holds the two together)."""

from __future__ import annotations

from bd_vpt import compiled
from bd_vpt.economics.pricing import RateCards

# (tests set it, or claude_code.READER, to None for the Python way)
LANE = compiled("bd_vpt.capture._claude")


def priced(cards: RateCards) -> RateCards:
    """cards, summing a card's messages in C where the compiled part is built."""
    cards.summed = LANE.price if LANE is not None else None
    return cards
