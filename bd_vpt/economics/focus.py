"""FinOps FOCUS 1.2 rows from usage records: what a FinOps tool ingests beside cloud bills.

One row per usage record: ChargeCategory Usage, ServiceCategory "AI and Machine Learning",
the provider as ProviderName/PublisherName/InvoiceIssuerName, the model as SkuId, tokens as
ConsumedQuantity/PricingQuantity, the bead as ResourceId, actor and labels in Tags, and
bd-vpt's own fields in x_ columns (FOCUS's rule for custom columns). A record with no known
price carries cost 0 (FOCUS costs cannot be null) and x_CostKnown false.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

import orjson

from bd_vpt.config import Config
from bd_vpt.ledger.records import Record, format_ts, parse_ts, token_total

MANDATORY = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
)
CONDITIONAL = (
    "ConsumedQuantity",
    "ConsumedUnit",
    "ResourceId",
    "ResourceName",
    "SkuId",
    "Tags",
    "ChargeFrequency",
)
CUSTOM = (
    "x_RecordId",
    "x_Actor",
    "x_Model",
    "x_Session",
    "x_Source",
    "x_InputTokens",
    "x_OutputTokens",
    "x_CacheReadTokens",
    "x_CacheWriteTokens",
    "x_ReasoningTokens",
    "x_CostKnown",
    "x_PriceRef",
    "x_BeadPriority",
    "x_BeadType",
    "x_BeadOutcome",
    "x_BeadClosed",
    "x_PriorityWeight",
)
COLUMNS = MANDATORY + CONDITIONAL + CUSTOM
_NAMES = {"anthropic": "Anthropic", "openai": "OpenAI", "google": "Google", "mistral": "Mistral"}


def _month(ts: str) -> tuple[str, str]:
    moment = parse_ts(ts)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return _focus_time(format_ts(start)), _focus_time(format_ts(end))


def _focus_time(ts: str) -> str:
    """FOCUS date-times: ISO 8601 in UTC, to the second, with Z."""
    return format_ts(parse_ts(ts))[:19] + "Z"


def rows(records: Iterable[Record], config: Config, account: str) -> Iterator[dict[str, Any]]:
    """FOCUS rows for the usage records; outcomes give each row its bead's facts."""
    usage: list[Record] = []
    latest: dict[str, Record] = {}
    for record in records:
        if record["kind"] == "usage":
            usage.append(record)
        else:
            held = latest.get(record["bead"])
            if held is None or (record["ts"], record["id"]) > (held["ts"], held["id"]):
                latest[record["bead"]] = record
    for record in usage:
        tokens = record["tokens"]
        bead = record["bead"]
        outcome = latest.get(bead) if bead else None
        snapshot = (outcome or {}).get("snapshot") or {}
        provider = record.get("provider") or "unknown"
        name = _NAMES.get(provider, provider.title())
        start = _focus_time(record.get("first_ts") or record["ts"])
        end = _focus_time(record.get("last_ts") or record["ts"])
        if end <= start:
            end = _focus_time(format_ts(parse_ts(start) + timedelta(seconds=1)))
        period_start, period_end = _month(start)
        cost = record.get("cost_usd")
        count = token_total(tokens, config.token_basis)
        tags = {"actor": record["actor"], "model": record["model"]}
        if snapshot.get("labels"):
            tags["labels"] = ",".join(snapshot["labels"])
        priority = snapshot.get("priority")
        closed = bool(outcome and outcome["result"] == "completed")
        yield {
            "BilledCost": cost or 0.0,
            "BillingAccountId": account,
            "BillingAccountName": account,
            "BillingCurrency": "USD",
            "BillingPeriodEnd": period_end,
            "BillingPeriodStart": period_start,
            "ChargeCategory": "Usage",
            "ChargeClass": None,
            "ChargeDescription": f"{count:,} {record['model']} tokens"
            + (f" on bead {bead}" if bead else " with no bead")
            + f" by {record['actor']}",
            "ChargePeriodEnd": end,
            "ChargePeriodStart": start,
            "ContractedCost": cost or 0.0,
            "EffectiveCost": cost or 0.0,
            "InvoiceIssuerName": name,
            "ListCost": cost or 0.0,
            "PricingQuantity": count,
            "PricingUnit": "Tokens",
            "ProviderName": name,
            "PublisherName": name,
            "ServiceCategory": "AI and Machine Learning",
            "ServiceName": f"{name} API",
            "ConsumedQuantity": count,
            "ConsumedUnit": "Tokens",
            "ResourceId": bead,
            "ResourceName": snapshot.get("title") if bead else None,
            "SkuId": record["model"],
            "Tags": orjson.dumps(tags).decode(),
            "ChargeFrequency": "Usage-Based",
            "x_RecordId": record["id"],
            "x_Actor": record["actor"],
            "x_Model": record["model"],
            "x_Session": record.get("session"),
            "x_Source": record.get("source"),
            "x_InputTokens": tokens.get("input", 0),
            "x_OutputTokens": tokens.get("output", 0),
            "x_CacheReadTokens": tokens.get("cache_read", 0),
            "x_CacheWriteTokens": tokens.get("cache_write", 0),
            "x_ReasoningTokens": tokens.get("reasoning", 0),
            "x_CostKnown": cost is not None,
            "x_PriceRef": record.get("price_ref"),
            "x_BeadPriority": priority,
            "x_BeadType": snapshot.get("type"),
            "x_BeadOutcome": outcome["result"] if outcome else None,
            "x_BeadClosed": closed,
            "x_PriorityWeight": config.weight(priority) if closed else 0.0,
        }
