"""Rate cards kept between imports ($GIT_COMMON_DIR/bd-vpt/cache/rate-cards-v1.json), so an
import of models and days priced before does not import genai-prices (a tenth of a second,
most of a small import). The file holds the cards of one installed genai-prices (its
folder and its files' sizes and times) and one bd-vpt version; a file of another, or one
that is not a good file, is ignored and written again. Which cards may be kept at all is
RateCards' rule (economics/pricing.py): those that hold for every moment of their day.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import orjson

from bd_vpt.repo import RepoInfo

NAME = "rate-cards-v1.json"


def _installed() -> list[Any] | None:
    """What names the installed genai-prices (None: not found)."""
    import importlib.util

    from bd_vpt import __version__

    try:
        spec = importlib.util.find_spec("genai_prices")
    except (ImportError, ValueError):
        return None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if len(folders) != 1:
        return None
    try:
        found = sorted(
            (entry.name, entry.stat().st_size, entry.stat().st_mtime_ns)
            for entry in os.scandir(folders[0])
            if entry.name.endswith(".py")
        )
    except OSError:
        return None
    return [__version__, folders[0], [list(item) for item in found]]


@dataclass
class Kept:
    info: RepoInfo
    tag: list[Any] | None
    cards: dict[str, Any] = field(default_factory=dict)

    def save(self, made: dict[str, Any]) -> None:
        """Keep the cards made by this import too (an import that made none writes nothing)."""
        if self.tag is None or all(self.cards.get(k, False) == v for k, v in made.items()):
            return
        from bd_vpt.state import atomic_write

        cards = {**self.cards, **made}
        try:
            atomic_write(self.path(self.info), orjson.dumps({"tag": self.tag, "cards": cards}))
        except OSError:
            return  # (a cache: the next import looks the prices up again)
        self.cards = cards

    @staticmethod
    def path(info: RepoInfo) -> Any:
        return info.state_dir / "cache" / NAME


def kept(info: RepoInfo) -> Kept:
    """The cards kept for the installed genai-prices (none when the file is of another)."""
    tag = _installed()
    found = Kept(info, tag)
    if tag is None:
        return found
    try:
        data = orjson.loads(Kept.path(info).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return found
    if isinstance(data, dict) and data.get("tag") == tag and isinstance(data.get("cards"), dict):
        found.cards = data["cards"]
    return found
