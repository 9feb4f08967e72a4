"""The FOCUS 1.2 export, validated column by column, and the raw exports."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from bd_vpt.economics.focus import CUSTOM, MANDATORY
from tests.helpers import run_cli

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DECIMALS = {
    "BilledCost",
    "ContractedCost",
    "EffectiveCost",
    "ListCost",
    "PricingQuantity",
    "ConsumedQuantity",
}
DATETIMES = {"BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart"}
NULLABLE = {"ChargeClass", "ResourceId", "ResourceName"}


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "demo"
    assert run_cli("demo", str(root)).code == 0
    monkeypatch.chdir(root)
    return root


def test_focus_export_is_valid_and_adds_up(demo: Path) -> None:
    result = run_cli("export", "--format", "focus")
    assert result.code == 0, result.err
    reader = csv.DictReader(io.StringIO(result.out))
    rows = list(reader)
    header = reader.fieldnames or []
    assert set(MANDATORY) <= set(header)  # every FOCUS 1.2 Mandatory column
    standard = set(header) - set(CUSTOM)
    assert all(name.startswith("x_") for name in CUSTOM)
    assert all(not name.startswith("x_") for name in standard)
    for row in rows:
        for name in MANDATORY:
            if name not in NULLABLE:
                assert row[name] != "", (name, row)
        for name in DECIMALS:
            Decimal(row[name])  # a decimal number
        for name in DATETIMES:
            assert DATETIME.match(row[name]), (name, row[name])
        assert row["ChargePeriodStart"] < row["ChargePeriodEnd"]
        assert row["BillingPeriodStart"] <= row["ChargePeriodStart"] < row["BillingPeriodEnd"]
        assert row["ChargeCategory"] == "Usage" and row["ChargeClass"] == ""
        assert (
            row["ServiceCategory"] == "AI and Machine Learning" and row["BillingCurrency"] == "USD"
        )
        json.loads(row["Tags"])
    totals = run_cli("summary", "--format", "json").json()["totals"]
    assert len(rows) == totals["usage_records"]
    assert sum(Decimal(r["BilledCost"]) for r in rows) == pytest.approx(
        Decimal(str(totals["cost_usd"])), abs=Decimal("1e-6")
    )
    assert sum(int(r["ConsumedQuantity"]) for r in rows) == totals["tokens"]
    unattributed = sum(int(r["ConsumedQuantity"]) for r in rows if not r["ResourceId"])
    by_bead = run_cli("summary", "--by", "bead", "--format", "json").json()["groups"]
    assert unattributed == next(g["tokens"] for g in by_bead if g["key"] == "(none)")


def test_focus_window_and_unknown_prices(demo: Path) -> None:
    assert (
        run_cli(
            "record", "-", "--model", "mystery-9", "--input", "5", "--ts", "2026-11-20T10:00:00Z"
        ).code
        == 0
    )
    result = run_cli("export", "--since", "2026-11-20")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert len(rows) == 1 and rows[0]["x_CostKnown"] == "False" and rows[0]["BilledCost"] == "0.0"
    assert "no known price" in result.err


def test_raw_exports(demo: Path) -> None:
    lines = run_cli("export", "--format", "jsonl").out.splitlines()
    records = [orjson.loads(x) for x in lines]
    assert {r["kind"] for r in records} == {"usage", "outcome"}
    table = list(csv.DictReader(io.StringIO(run_cli("export", "--format", "csv").out)))
    assert len(table) == len(records)
    usage = next(row for row in table if row["kind"] == "usage")
    assert usage["tokens.input"] and usage["model"]  # columns of every kind of record
