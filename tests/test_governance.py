"""Baselines, comparisons and marginal VPT, by hand on the ledger of test_metrics."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bd_vpt.config import Config
from bd_vpt.economics.governance import compare, figures, marginal, period_bounds
from bd_vpt.errors import VptError
from tests.helpers import Repo, run_cli
from tests.test_metrics import LEDGER


def test_marginal_by_hand() -> None:
    # fleet: W 12.5 over 0.84 Mtok = 14.880952; a1: W 11 over 0.28 Mtok
    document = marginal(LEDGER, Config(), by="agent", orchestrators=["mayor"])
    rows = {r["key"]: r for r in document["groups"]}
    assert document["fleet_bc_mt"] == pytest.approx(12.5 / 0.84, abs=1e-6)
    assert rows["a1"]["fleet_bc_mt_without"] == pytest.approx(1.5 / 0.56, abs=1e-6)
    assert rows["a1"]["marginal_bc_mt"] == pytest.approx(12.5 / 0.84 - 1.5 / 0.56, abs=1e-5)
    assert (
        rows["mayor"]["role"] == "orchestrator" and rows["mayor"]["coordination_tokens"] == 100_000
    )
    assert rows["mayor"]["marginal_bc_mt"] == pytest.approx(12.5 / 0.84 - 12.5 / 0.74, abs=1e-5)
    assert rows["mayor"]["marginal_bc_mt"] < 0  # coordination costs VPT: shown, not hidden
    assert document["coordination_tokens"] == 100_000


def test_periods_and_compare() -> None:
    # [start, end): the end is the first moment after the period
    assert period_bounds("2026-11") == ("2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z")
    assert period_bounds("2026-W45")[0] == "2026-11-02T00:00:00.000Z"
    assert period_bounds("2026-11-02..2026-11-03") == (
        "2026-11-02T00:00:00.000Z",
        "2026-11-04T00:00:00.000Z",
    )
    with pytest.raises(VptError):
        period_bounds("last quarter")
    before = figures(LEDGER, Config(), "2026-11-02..2026-11-03")
    after = figures(LEDGER, Config(), "2026-11-04..2026-11-05")
    assert (before["tokens"], after["tokens"]) == (550_000, 290_000)
    rows = {r["figure"]: r for r in compare(before, after)}
    assert rows["tokens"]["change"] == -260_000
    assert rows["tokens"]["change_pct"] == pytest.approx(-47.27, abs=0.01)


def test_baseline_set_compare_marginal_commands(repo: Repo, tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    import os

    os.chdir(demo)
    assert (
        run_cli("baseline", "set", "--period", "2026-11-03..2026-11-05", "--name", "week1").code
        == 0
    )
    stored = tomllib.loads((demo / ".beads/vpt/config.toml").read_text())["baselines"]["week1"]
    assert stored["period"] == "2026-11-03..2026-11-05"
    # closes of demo-1, demo-7, demo-2 and demo-3 fall in the period, but demo-3 was reopened
    # on 11-09 and closed again then: its final completion (the credit) is on 11-09
    assert (stored["completions"], stored["beads_closed"]) == (4, 3)
    assert stored["priced_share"] == 1.0
    result = run_cli(
        "compare", "--before", "week1", "--after", "2026-11-06..2026-11-10", "--format", "json"
    )
    rows = {r["figure"]: r for r in result.json()["figures"]}
    assert rows["beads_closed"]["before"] == 3 and rows["tokens"]["after"] > 0
    shown = run_cli("baseline", "show", "--format", "json").json()
    assert set(shown) == {"week1"}
    marginal_doc = run_cli("marginal", "--format", "json").json()
    roles = {r["key"]: r["role"] for r in marginal_doc["groups"]}
    assert roles["mayor"] == "orchestrator" and roles["claude/worker-1"] == "worker"
    assert run_cli("summary").code == 0  # the config with a baseline still validates
