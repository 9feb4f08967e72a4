"""The FOCUS 1.3 export, checked against the column rules of the spec (1.2 on request).

Rules checked (FOCUS 1.3; the 1.2 column files plus 1.3's participating-entity columns):
- ServiceProviderName, HostProviderName: new in 1.3, present; ServiceProviderName not null;
  HostProviderName not null on a usage row (it may be null only for purchases, taxes...);
- ProviderName, PublisherName: deprecated in 1.3 yet still Mandatory and not null;
- InvoiceIssuerName, ChargeCategory (one of the allowed values) not null;
- ChargeClass null unless the row corrects an earlier billing period;
- PricingUnit null exactly when PricingQuantity is; ConsumedUnit exactly when ConsumedQuantity
  is; both quantities not null on a Usage row;
- SkuId not null on a Usage row; custom columns start with x_.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from bd_vpt.economics.focus import (
    CUSTOM,
    DEPRECATED_IN_13,
    MANDATORY_12,
    MANDATORY_13,
    NEW_IN_13,
    NULLABLE,
    entities,
)
from tests.helpers import run_cli, ulid, usage

ALLOWED_CATEGORIES = {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "demo"
    assert run_cli("demo", str(root)).code == 0
    monkeypatch.chdir(root)
    return root


def _rows(*args: str) -> tuple[list[str], list[dict[str, str]]]:
    result = run_cli("export", "--format", "focus", *args)
    assert result.code == 0, result.err
    reader = csv.DictReader(io.StringIO(result.out))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def test_focus_13_column_rules(demo: Path) -> None:
    assert (
        run_cli(
            "record", "-", "--model", "mystery-9", "--input", "5", "--ts", "2026-11-20T10:00:00Z"
        ).code
        == 0
    )
    header, rows = _rows()
    assert set(MANDATORY_13) <= set(header) and set(NEW_IN_13) <= set(header)
    assert set(DEPRECATED_IN_13) <= set(header)  # deprecated, still required in 1.3
    assert all(c.startswith("x_") for c in header if c not in MANDATORY_13 and c[0].islower())
    assert set(CUSTOM) <= set(header)
    for row in rows:
        for name in MANDATORY_13:
            if name not in NULLABLE:
                assert row[name] != "", (name, row)
        assert row["ChargeCategory"] in ALLOWED_CATEGORIES and row["ChargeClass"] == ""
        assert (row["PricingUnit"] == "") == (row["PricingQuantity"] == "")
        assert (row["ConsumedUnit"] == "") == (row["ConsumedQuantity"] == "")
        assert row["ConsumedQuantity"] != "" and row["SkuId"] != ""
        assert row["ProviderName"] == row["ServiceProviderName"]
        Decimal(row["BilledCost"])
    unknown = [r for r in rows if r["x_Model"] == "mystery-9"]
    assert len(unknown) == 1 and unknown[0]["x_CostKnown"] == "False"
    assert unknown[0]["BilledCost"] == "0.0"  # FOCUS costs cannot be null


def test_focus_12_on_request(demo: Path) -> None:
    header, rows = _rows("--focus-version", "1.2")
    assert set(MANDATORY_12) <= set(header)
    assert not set(NEW_IN_13) & set(header)
    assert rows and all(r["ProviderName"] for r in rows)


def test_weighted_completion_column_sums_to_the_fleet(demo: Path) -> None:
    """x_WeightedCompletion spreads each closed bead's weighted completion over its rows by
    token share: the column sums to the weighted completions of closed beads with usage."""
    _, rows = _rows()
    by_bead = run_cli("summary", "--by", "bead", "--format", "json").json()["groups"]
    with_usage = sum(g["weighted_completions"] for g in by_bead if g["tokens"])
    assert sum(float(r["x_WeightedCompletion"]) for r in rows) == pytest.approx(with_usage)


@pytest.mark.parametrize(
    ("model", "service", "host", "publisher"),
    [
        ("claude-sonnet-4-5-20250929", "Anthropic", "Anthropic", "Anthropic"),
        (
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "Amazon Web Services",
            "Amazon Web Services",
            "Anthropic",
        ),
        ("claude-sonnet-4-5@20250929", "Google", "Google", "Anthropic"),
        ("gpt-4o", "OpenAI", "OpenAI", "OpenAI"),
    ],
)
def test_participating_entities(model: str, service: str, host: str, publisher: str) -> None:
    who = entities(usage(ulid(1), "2026-11-02T09:00:00Z", "A", "a", model, 1, 1))
    assert (who["ServiceProviderName"], who["HostProviderName"], who["PublisherName"]) == (
        service,
        host,
        publisher,
    )
    assert who["InvoiceIssuerName"] == service
