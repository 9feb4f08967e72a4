"""FinOps FOCUS rows from usage records: what a FinOps tool ingests beside cloud bills.

One row per usage record: ChargeCategory Usage, ServiceCategory "AI and Machine Learning",
the model (canonical name) as SkuId, tokens as ConsumedQuantity/PricingQuantity in Tokens, the
bead as ResourceId, actor and labels in Tags, and bd-vpt's own fields in x_ columns (FOCUS's
rule for custom columns).

Who is who (FOCUS 1.3 "participating entities"): the service provider sells the model's
use (the model's maker for a direct API call; AWS for a Bedrock id, Google for a Vertex
id); the host provider runs it (the same, unless the id names a cloud); the publisher made
the model; the invoice issuer bills it (the service provider). 1.3 deprecates ProviderName
and PublisherName but still requires them (not null): they are kept. 1.2 has no
ServiceProviderName or HostProviderName.

FOCUS costs cannot be null: a record with no known price carries cost 0 and
x_CostKnown false (and the export warns).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

import orjson

from bd_vpt.config import Config
from bd_vpt.economics.modelnames import display, parse
from bd_vpt.economics.timeline import BeadState, fold, ordered
from bd_vpt.ledger.records import Record, format_ts, parse_ts, token_total

VERSIONS = ("1.2", "1.3")
DEFAULT_VERSION = "1.3"

MANDATORY_12 = (
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
NEW_IN_13 = ("ServiceProviderName", "HostProviderName")
DEPRECATED_IN_13 = ("ProviderName", "PublisherName")  # still Mandatory and not null in 1.3
MANDATORY_13 = tuple(sorted(MANDATORY_12 + NEW_IN_13))
CONDITIONAL = (
    "ConsumedQuantity",
    "ConsumedUnit",
    "ResourceId",
    "ResourceName",
    "SkuId",
    "Tags",
    "ChargeFrequency",
)
# columns that may be empty: ChargeClass (not a correction), ResourceId/ResourceName (usage
# no bead claimed); every other column above is never null on a Usage row
NULLABLE = ("ChargeClass", "ResourceId", "ResourceName")
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
    "x_Bead",
    "x_BeadPriority",
    "x_BeadType",
    "x_BeadOutcome",
    "x_BeadClosed",
    "x_PriorityWeight",
    "x_WeightedCompletion",
)
MANDATORY = MANDATORY_12  # FOCUS 1.2's, kept for callers that name the older set
SERVICES = {"aws": "Amazon Bedrock", "google": "Vertex AI", "azure": "Azure AI Foundry"}


def columns(version: str = DEFAULT_VERSION) -> tuple[str, ...]:
    """The header of an export in a FOCUS version."""
    if version not in VERSIONS:
        raise ValueError(f"unknown FOCUS version {version!r}")
    mandatory = MANDATORY_13 if version == "1.3" else MANDATORY_12
    return mandatory + CONDITIONAL + CUSTOM


COLUMNS = columns()


def _month(ts: str) -> tuple[str, str]:
    moment = parse_ts(ts)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return _focus_time(format_ts(start)), _focus_time(format_ts(end))


def _focus_time(ts: str) -> str:
    """FOCUS date-times: ISO 8601 in UTC, to the second, with Z."""
    return format_ts(parse_ts(ts))[:19] + "Z"


def entities(record: Record) -> dict[str, str]:
    """Service provider, host provider, publisher and invoice issuer of a usage record."""
    name = parse(record["model"])
    maker = name.maker or record.get("provider")
    service = display(name.host or maker)
    return {
        "ServiceProviderName": service,
        "HostProviderName": display(name.host) if name.host else service,
        "PublisherName": display(maker) if maker else service,
        "InvoiceIssuerName": service,
        "ProviderName": service,
    }


def rows(
    records: Iterable[Record],
    config: Config,
    account: str,
    version: str = DEFAULT_VERSION,
) -> Iterator[dict[str, Any]]:
    """FOCUS rows for the usage records; outcomes give each row its bead's final state."""
    if version not in VERSIONS:
        raise ValueError(f"unknown FOCUS version {version!r}")
    usage: list[Record] = []
    outcomes: dict[str, list[Record]] = defaultdict(list)
    spent: dict[str, int] = defaultdict(int)
    for record in records:
        if record["kind"] == "usage":
            usage.append(record)
            if record["bead"] is not None:
                spent[record["bead"]] += token_total(record["tokens"], config.token_basis)
        else:
            outcomes[record["bead"]].append(record)
    states: dict[str, BeadState] = {b: fold(b, *ordered(o)) for b, o in outcomes.items() if o}
    for record in usage:
        yield _row(record, config, account, version, states, spent)


def _row(
    record: Record,
    config: Config,
    account: str,
    version: str,
    states: dict[str, BeadState],
    spent: dict[str, int],
) -> dict[str, Any]:
    tokens = record["tokens"]
    bead = record["bead"]
    state = states.get(bead) if bead else None
    snapshot = state.snapshot if state else {}
    who = entities(record)
    start = _focus_time(record.get("first_ts") or record["ts"])
    end = _focus_time(record.get("last_ts") or record["ts"])
    if end <= start:
        end = _focus_time(format_ts(parse_ts(start) + timedelta(seconds=1)))
    period_start, period_end = _month(start)
    cost = record.get("cost_usd")
    count = token_total(tokens, config.token_basis)
    model = parse(record["model"]).canonical
    tags = {"actor": record["actor"], "model": model}
    if snapshot.get("labels"):
        tags["labels"] = ",".join(snapshot["labels"])
    priority = snapshot.get("priority")
    closed = bool(state and state.closed)
    weight = config.weight(priority) * state.completion if state and closed else 0.0
    share = count / spent[bead] if bead and spent.get(bead) else 0.0
    row: dict[str, Any] = {
        "BilledCost": cost or 0.0,
        "BillingAccountId": account,
        "BillingAccountName": account,
        "BillingCurrency": "USD",
        "BillingPeriodEnd": period_end,
        "BillingPeriodStart": period_start,
        "ChargeCategory": "Usage",
        "ChargeClass": None,
        "ChargeDescription": f"{count:,} {model} tokens"
        + (f" on bead {bead}" if bead else " with no bead")
        + f" by {record['actor']}",
        "ChargePeriodEnd": end,
        "ChargePeriodStart": start,
        "ContractedCost": cost or 0.0,
        "EffectiveCost": cost or 0.0,
        "ListCost": cost or 0.0,
        "PricingQuantity": count,
        "PricingUnit": "Tokens",
        "ServiceCategory": "AI and Machine Learning",
        "ServiceName": SERVICES.get(parse(record["model"]).host or "", "")
        or f"{who['ServiceProviderName']} API",
        **who,
        "ConsumedQuantity": count,
        "ConsumedUnit": "Tokens",
        "ResourceId": bead,
        "ResourceName": snapshot.get("title") if bead else None,
        "SkuId": model,
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
        "x_Bead": bead,
        "x_BeadPriority": priority,
        "x_BeadType": snapshot.get("type"),
        "x_BeadOutcome": state.last_result if state else None,
        "x_BeadClosed": closed,
        "x_PriorityWeight": config.weight(priority) if closed else 0.0,
        # the bead's weighted completion by this row's share of its tokens: the column sums
        # to the weighted completions of the closed beads the export holds usage for
        "x_WeightedCompletion": round(weight * share, 9),
    }
    if version == "1.2":
        for name in NEW_IN_13:
            row.pop(name)
    return row
