"""Price token usage once, at capture; the record stores cost_usd and price_ref.

Order: a price in config.toml `[prices."<model>"]` (USD per million tokens; the id as
written, then its canonical name), then the genai-prices package (offline data bundled with
it, imported only when needed): the id as written with the cloud it names (a Bedrock id is
priced at AWS's rate), then its canonical name. A model neither knows gets cost_usd null and
a warning: never a silent $0. A local model at $0 is an explicit override
(`bd-vpt prices set llama3 --input 0 --output 0`), not a default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bd_vpt.config import Config
from bd_vpt.economics.modelnames import parse

KINDS = ("input", "output", "cache_read", "cache_write")
_MTOK = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")


@dataclass(frozen=True)
class Priced:
    cost_usd: float | None
    price_ref: str | None
    provider: str | None = None
    warning: str | None = None


def override(model: str, config: Config) -> tuple[str, dict[str, float]] | None:
    """(key, table) of the config price of a model: its id as written, else its canonical."""
    if model in config.prices:
        return model, config.prices[model]
    name = parse(model).canonical
    if name in config.prices:
        return name, config.prices[name]
    return None


def _table_rate(table: dict[str, float], kind: str) -> float:
    """A config price table's rate for a token kind (cache kinds default to input)."""
    if kind in table:
        return float(table[kind])
    return 0.0 if kind == "output" else float(table["input"])


def _attempts(model: str) -> Iterator[tuple[str, str | None]]:
    """(model_ref, provider_id) to ask genai-prices, most specific first."""
    name = parse(model)
    seen: set[tuple[str, str | None]] = set()
    for attempt in (
        (model, name.host),
        (model, None),
        (name.canonical, name.host),
        (name.canonical, None),
    ):
        if attempt not in seen:
            seen.add(attempt)
            yield attempt


def lookup(model: str, moment: datetime) -> Any | None:
    """genai-prices' calculation for one token of input and output (None: unknown model)."""
    from genai_prices import Usage, calc_price

    for ref, host in _attempts(model):
        try:
            return calc_price(
                Usage(input_tokens=1, output_tokens=1),
                ref,
                provider_id=host,
                genai_request_timestamp=moment,
            )
        except (LookupError, ValueError):
            continue
    return None


def price(
    model: str, tokens: dict[str, int], moment: datetime, config: Config, requests: int = 1
) -> Priced:
    """Price tokens as `requests` equal requests (tiered prices, such as a long-context
    rate above 200k input tokens, apply per request)."""
    split = any(k in tokens for k in KINDS)
    if not split:
        return Priced(
            None,
            None,
            warning=(
                f"a bare token total cannot be priced (model {model}): cost_usd left null; "
                "pass --cost-usd or the --input/--output split"
            ),
        )
    found = override(model, config)
    if found is not None:
        key, table = found
        cost = sum(tokens.get(kind, 0) * _table_rate(table, kind) for kind in KINDS) / 1e6
        return Priced(round(cost, 8), f"config:prices.{key}")
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
    problem = None
    for ref, host in _attempts(model):
        try:
            calc = calc_price(Usage(**share), ref, provider_id=host, genai_request_timestamp=moment)
        except LookupError:
            continue
        except ValueError as exc:
            problem = str(exc)
            continue
        where = f"{calc.provider.id}/{calc.model.id}"
        return Priced(
            round(float(calc.total_price) * requests, 8),
            f"genai-prices {__version__} {where} {moment:%Y-%m-%d}",
            provider=calc.provider.id,
        )
    if problem is not None:
        return Priced(None, None, warning=f"cannot price {model!r}: {problem}")
    name = parse(model).canonical
    return Priced(
        None,
        None,
        warning=(
            f"no known price for model {model!r}: cost_usd left null; "
            f"`bd-vpt prices set {name} --input USD --output USD` (per million tokens) "
            "or pass --cost-usd"
        ),
    )


def rates(model: str, moment: datetime, config: Config) -> dict[str, Any]:
    """Where a model's price comes from at `moment`, and its USD per million tokens:
    {"source": "config" | "genai-prices" | None, "ref": ..., "input": ..., "output": ...}."""
    found = override(model, config)
    if found is not None:
        key, table = found
        return {
            "source": "config",
            "ref": f"config:prices.{key}",
            **{kind: _table_rate(table, kind) for kind in KINDS},
        }
    calc = lookup(model, moment)
    if calc is None:
        return {"source": None, "ref": None, **dict.fromkeys(KINDS)}
    from genai_prices import __version__

    out: dict[str, Any] = {
        "source": "genai-prices",
        "ref": f"genai-prices {__version__} {calc.provider.id}/{calc.model.id} {moment:%Y-%m-%d}",
    }
    for kind, attr in zip(KINDS, _MTOK, strict=True):
        value = getattr(calc.model_price, attr, None)
        if value is not None and hasattr(value, "base"):
            value = value.base
        out[kind] = float(value) if value is not None else None
    return out


Card = tuple[dict[str, float | None], float, str, str]  # rates, tier start, price_ref, provider


class RateCards:
    """Per-message prices for imports (hundreds of thousands of calls): one genai-prices
    lookup per (model, day) yields the base USD-per-Mtok rates; a message whose input is
    below every tier's start is priced from them, any other through genai-prices itself.

    kept: cards an earlier import looked up ("model\nday" -> card_entry(); the caller keeps
    them for the genai-prices it has), used instead of importing genai-prices (a tenth of a
    second) when the card cannot depend on the moment within the day; `made` holds the cards
    looked up now that may be kept so."""

    KINDS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")

    def __init__(self, config: Config, kept: dict[str, Any] | None = None) -> None:
        self.config = config
        self._cards: dict[tuple[str, str], Card | None] = {}
        self.unknown: set[str] = set()
        self.kept = kept if kept is not None else {}
        self.made: dict[str, Any] = {}
        self.moment_bound = False  # a card was looked up that holds for its moment only
        # the compiled sum of a card's messages (capture/lane/price.c), given by the importer
        # where it is built: total()'s own loop, run in C, with the same floats
        self.summed: Callable[..., tuple[float | None, int]] | None = None

    def _card(self, model: str, moment: datetime, day: str | None = None) -> Card | None:
        key = (model, day or moment.date().isoformat())
        if key in self._cards:
            return self._cards[key]
        card = None
        found = override(model, self.config)
        if found is not None:
            name, table = found
            rates: dict[str, float | None] = {
                k: _table_rate(table, k) for k in ("input", "output", "cache_read", "cache_write")
            }
            rates["cache_write_1h"] = rates["cache_write"]
            card = (rates, float("inf"), f"config:prices.{name}", "")
        else:
            # a card kept for a day holds for every moment of it (see _daylong)
            whole_day = key[1] == moment.date().isoformat()
            named = f"{model}\n{key[1]}"
            held, card = _from_entry(self.kept[named]) if named in self.kept else (False, None)
            if not (whole_day and held):
                calc = lookup(model, moment)
                card = None if calc is None else _made(calc, key[1])
                if whole_day and (calc is None or _daylong(calc)):
                    self.made[named] = card_entry(card)
                else:  # another moment of the day could have given another card
                    self.moment_bound = True
            if card is None:
                self.unknown.add(model)
        self._cards[key] = card
        return card

    def price(
        self, model: str, moment: datetime, tokens: dict[str, int], day: str | None = None
    ) -> tuple[float | None, str | None, str | None]:
        """(cost_usd, price_ref, provider) of one message; cost None for an unknown model."""
        return self.total(model, [moment], [tokens], day)

    def total(
        self,
        model: str,
        moments: Sequence[datetime],
        tokens: Sequence[dict[str, int]],
        day: str | None = None,
    ) -> tuple[float | None, str | None, str | None]:
        """The messages of one model on one day (moments[i] used tokens[i]), priced one by
        one and summed in order: (cost_usd, price_ref and provider of the last message);
        cost None when one has no price. The card is looked up once, not per message."""
        card = self._card(model, moments[0], day) if moments else None
        if card is None:
            return None, None, None
        rates, start, card_ref, card_provider = card
        r_in, r_out, r_read = rates["input"], rates["output"], rates["cache_read"]
        r_write, r_hour = rates["cache_write"], rates["cache_write_1h"]
        base = r_in is not None and r_out is not None
        read_rate, write_rate, hour_rate = r_read or 0.0, r_write or 0.0, r_hour or 0.0
        cost: float | None = 0.0
        ref: str | None = card_ref
        provider: str | None = card_provider or None
        rated = (r_in, r_out, read_rate, write_rate, hour_rate)
        plain = base and type(tokens) is list and all(type(r) is float for r in rated)
        summed = self.summed if plain else None
        done = 0  # the messages before it are priced (by summed)
        for i, (moment, used) in enumerate(zip(moments, tokens, strict=True)):
            if i < done:
                continue
            if summed is not None:  # the messages this card prices alone, in C, from i on
                cost, done = summed(
                    tokens,
                    i,
                    r_in,
                    r_out,
                    read_rate,
                    write_rate,
                    hour_rate,
                    start,
                    r_read is not None,
                    r_write is not None,
                    r_hour is not None,
                    cost,
                )
                if done > i:
                    ref, provider = card_ref, card_provider or None
                    continue
            get = used.get
            inp, out, read = get("input", 0), get("output", 0), get("cache_read", 0)
            write, hour = get("cache_write", 0), get("cache_write_1h", 0)
            priced: float | None
            if (
                base
                and inp + read + write < start
                and (r_read is not None or not read)
                and (r_write is not None or write == hour)
                and (r_hour is not None or not hour)
            ):
                one = inp * r_in + out * r_out + read * read_rate  # type: ignore[operator]
                one += (write - hour) * write_rate + hour * hour_rate
                priced, ref, provider = round(one / 1e6, 10), card_ref, card_provider or None
            else:
                exact = price(model, used, moment, self.config)
                priced, ref, provider = exact.cost_usd, exact.price_ref, exact.provider
            if cost is not None:
                cost = None if priced is None else cost + priced
        return cost, ref, provider


def _made(calc: Any, day: str) -> Card:
    """The rate card of a genai-prices calculation (for one token of each kind)."""
    from genai_prices import __version__

    price = calc.model_price
    rates: dict[str, float | None] = {}
    start = float("inf")
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
    ref = f"genai-prices {__version__} {calc.provider.id}/{calc.model.id} {day}"
    return rates, start, ref, calc.provider.id


def _daylong(calc: Any) -> bool:
    """Are the model's prices the same at every moment of a day (no price by time of day)?
    A start date is a whole day: the day's card holds all day."""
    from genai_prices.types import StartDateConstraint

    prices = calc.model.prices
    return not isinstance(prices, list) or all(
        c.constraint is None or isinstance(c.constraint, StartDateConstraint) for c in prices
    )


def card_entry(card: Card | None) -> Any:
    """A card as JSON values (None: a model genai-prices does not know)."""
    if card is None:
        return None
    rates, start, ref, provider = card
    return [rates, None if start == float("inf") else start, ref, provider]


def _from_entry(entry: Any) -> tuple[bool, Card | None]:
    """(True, the card) of a kept entry; (False, None) when it is not a good entry."""
    if entry is None:
        return True, None
    try:
        rates, start, ref, provider = entry
        if (
            not isinstance(rates, dict)
            or sorted(rates) != sorted(RateCards.KINDS)
            or not all(v is None or type(v) is float for v in rates.values())
            or not (start is None or type(start) is float)
            or type(ref) is not str
            or type(provider) is not str
        ):
            return False, None
    except (TypeError, ValueError):
        return False, None
    return True, (dict(rates), float("inf") if start is None else start, ref, provider)
