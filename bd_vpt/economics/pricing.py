"""Price token usage once, at capture; the record stores cost_usd and price_ref.

Order: a price in config.toml `[prices.<model>]` (USD per million tokens), then the
genai-prices package (offline data bundled with it, imported only when needed). A model
neither knows gets cost_usd null and a warning: never a silent $0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bd_vpt.config import Config


@dataclass(frozen=True)
class Priced:
    cost_usd: float | None
    price_ref: str | None
    provider: str | None = None
    warning: str | None = None


def price(
    model: str, tokens: dict[str, int], moment: datetime, config: Config, requests: int = 1
) -> Priced:
    """Price tokens as `requests` equal requests (tiered prices, such as a long-context
    rate above 200k input tokens, apply per request)."""
    split = any(k in tokens for k in ("input", "output", "cache_read", "cache_write"))
    if not split:
        return Priced(
            None,
            None,
            warning=(
                f"a bare token total cannot be priced (model {model}): cost_usd left null; "
                "pass --cost-usd or the --input/--output split"
            ),
        )
    table = config.prices.get(model)
    if table is not None:
        cost = (
            sum(
                tokens.get(kind, 0) * table.get(kind, table["input"] if kind != "output" else 0.0)
                for kind in ("input", "output", "cache_read", "cache_write")
            )
            / 1e6
        )
        return Priced(round(cost, 8), f"config:prices.{model}")
    return _genai_price(model, tokens, moment, max(1, requests))


def _genai_price(model: str, tokens: dict[str, int], moment: datetime, requests: int) -> Priced:
    from genai_prices import Usage, __version__, calc_price

    cache_read = tokens.get("cache_read", 0)
    cache_write = tokens.get("cache_write", 0)
    usage: dict[str, float] = {
        # genai-prices counts cache reads and writes inside input_tokens
        "input_tokens": tokens.get("input", 0) + cache_read + cache_write,
        "output_tokens": tokens.get("output", 0),
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
    }
    for ttl in ("5m", "1h"):
        if f"cache_write_{ttl}" in tokens:
            usage[f"cache_write_{ttl}_tokens"] = tokens[f"cache_write_{ttl}"]
    share = {k: v / requests for k, v in usage.items()} if requests > 1 else usage
    try:
        calc = calc_price(Usage(**share), model, genai_request_timestamp=moment)
    except LookupError:
        return Priced(
            None,
            None,
            warning=(
                f"no known price for model {model!r}: cost_usd left null; "
                f'add [prices."{model}"] to .beads/vpt/config.toml or pass --cost-usd'
            ),
        )
    except ValueError as exc:
        return Priced(None, None, warning=f"cannot price {model!r}: {exc}")
    ref = f"genai-prices {__version__} {calc.provider.id}/{calc.model.id} {moment:%Y-%m-%d}"
    return Priced(round(float(calc.total_price) * requests, 8), ref, provider=calc.provider.id)


class RateCards:
    """Per-message prices for imports (hundreds of thousands of calls): one genai-prices
    lookup per (model, day) yields the base USD-per-Mtok rates; a message whose input is
    below every tier's start is priced from them, any other through genai-prices itself."""

    KINDS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")

    def __init__(self, config: Config) -> None:
        self.config = config
        self._cards: dict[
            tuple[str, str], tuple[dict[str, float | None], float, str, str] | None
        ] = {}
        self.unknown: set[str] = set()

    def _card(
        self, model: str, moment: datetime, day: str | None = None
    ) -> tuple[dict[str, float | None], float, str, str] | None:
        key = (model, day or moment.date().isoformat())
        if key in self._cards:
            return self._cards[key]
        card = None
        if model in self.config.prices:
            table = self.config.prices[model]
            rates: dict[str, float | None] = {
                k: table.get(k, table["input"]) for k in ("input", "cache_read", "cache_write")
            }
            rates["output"] = table["output"]
            rates["cache_write_1h"] = rates["cache_write"]
            card = (rates, float("inf"), f"config:prices.{model}", "")
        else:
            from genai_prices import Usage, __version__, calc_price

            try:
                calc = calc_price(
                    Usage(input_tokens=1, output_tokens=1), model, genai_request_timestamp=moment
                )
            except (LookupError, ValueError):
                self.unknown.add(model)
            else:
                price = calc.model_price
                rates, start = {}, float("inf")
                for kind, attr in (
                    ("input", "input_mtok"),
                    ("output", "output_mtok"),
                    ("cache_read", "cache_read_mtok"),
                    ("cache_write", "cache_write_mtok"),
                    ("cache_write_1h", "cache_write_1h_mtok"),
                ):
                    value = getattr(price, attr, None)
                    if value is not None and hasattr(value, "base"):
                        start = min([start, *(float(t.start) for t in value.tiers)])
                        value = value.base
                    rates[kind] = float(value) if value is not None else None
                if rates["cache_write_1h"] is None:
                    rates["cache_write_1h"] = rates["cache_write"]
                ref = f"genai-prices {__version__} {calc.provider.id}/{calc.model.id} {key[1]}"
                card = (rates, start, ref, calc.provider.id)
        self._cards[key] = card
        return card

    def price(
        self, model: str, moment: datetime, tokens: dict[str, int], day: str | None = None
    ) -> tuple[float | None, str | None, str | None]:
        """(cost_usd, price_ref, provider) of one message; cost None for an unknown model."""
        card = self._card(model, moment, day)
        if card is None:
            return None, None, None
        rates, start, ref, provider = card
        get = tokens.get
        inp, out, read = get("input", 0), get("output", 0), get("cache_read", 0)
        write, hour = get("cache_write", 0), get("cache_write_1h", 0)
        r_in, r_out, r_read = rates["input"], rates["output"], rates["cache_read"]
        r_write, r_hour = rates["cache_write"], rates["cache_write_1h"]
        if (
            inp + read + write < start
            and r_in is not None
            and r_out is not None
            and (r_read is not None or not read)
            and (r_write is not None or write == hour)
            and (r_hour is not None or not hour)
        ):
            cost = inp * r_in + out * r_out + read * (r_read or 0.0)
            cost += (write - hour) * (r_write or 0.0) + hour * (r_hour or 0.0)
            return round(cost / 1e6, 10), ref, provider or None
        exact = price(model, tokens, moment, self.config)
        return exact.cost_usd, exact.price_ref, exact.provider
