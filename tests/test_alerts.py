"""Each red flag fires on a history that has its pattern and stays silent on one that does
not; budgets at the boundary; `check` exit codes on a real repo."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bd_vpt.config import Config
from bd_vpt.economics.alerts import budget_status, check
from tests.helpers import Repo, outcome, run_cli, ulid, usage

NOW = datetime(2026, 12, 20, tzinfo=UTC)
_n = [0]


def rid() -> str:
    _n[0] += 1
    return ulid(_n[0])


def day(d: date, hour: int = 9) -> str:
    return f"{d.isoformat()}T{hour:02d}:00:00Z"


def config(**thresholds: Any) -> Config:
    return Config(raw={"thresholds": thresholds})


def names(records: list[dict[str, Any]], cfg: Config) -> set[str]:
    return {a.name for a in check(records, cfg, NOW)}


def daily(tokens: list[int], start: date = date(2026, 11, 2)) -> list[dict[str, Any]]:
    return [
        usage(rid(), day(start + timedelta(days=i)), "B1", "a", "m", t, 0, 0.0, session=f"s{i}")
        for i, t in enumerate(tokens)
    ]


def test_spike_fires_at_ten_times_the_trailing_median() -> None:
    assert "spike" in names(daily([1000] * 10 + [10_000]), config())
    assert "spike" not in names(daily([1000] * 10 + [5_000]), config())
    alert = next(a for a in check(daily([1000] * 5 + [20_000]), config(), NOW) if a.name == "spike")
    assert alert.action == "kill and investigate" and alert.evidence["trailing_median"] == 1000


def weeks(
    tokens_per_closed_bead: list[int],
    cost: list[float] | None = None,
    closed: list[int] | None = None,
) -> list[dict[str, Any]]:
    records = []
    for w, tokens in enumerate(tokens_per_closed_bead):
        monday = date(2026, 11, 2) + timedelta(weeks=w)
        for c in range((closed or [1] * len(tokens_per_closed_bead))[w]):
            bead = f"W{w}-{c}"
            records.append(
                usage(rid(), day(monday), bead, "a", "m", tokens, 0, (cost or [1.0] * 9)[w])
            )
            records.append(outcome(rid(), day(monday, 17), bead, "a", "completed", 2))
    return records


def test_drift_fires_on_rising_tokens_per_completed_bead() -> None:
    assert "drift" in names(weeks([1000, 2000, 3000, 4000]), config())
    assert "drift" not in names(weeks([1000, 1000, 1000, 1000]), config())
    assert "drift" not in names(weeks([1000, 3000, 2000, 4000]), config())


def test_cost_up_outcomes_flat() -> None:
    assert "cost_up_outcomes_flat" in names(weeks([1000, 1000], cost=[10.0, 20.0]), config())
    # cost doubled but twice the beads were closed: not flat
    assert "cost_up_outcomes_flat" not in names(
        weeks([1000, 1000], cost=[10.0, 20.0], closed=[1, 2]), config()
    )


def test_variation_per_bead_type() -> None:
    def beads(tokens: list[int]) -> list[dict[str, Any]]:
        out = []
        for i, t in enumerate(tokens):
            out.append(usage(rid(), day(date(2026, 11, 2)), f"V{i}", "a", "m", t, 0, 0.0))
            out.append(
                outcome(rid(), day(date(2026, 11, 2), 17), f"V{i}", "a", "completed", 2, type="bug")
            )
        return out

    alert = [
        a
        for a in check(beads([100, 100, 100, 100, 100, 10_000]), config(), NOW)
        if a.name == "variation"
    ]
    assert alert and alert[0].subject == "bug" and alert[0].evidence["cv"] > 1
    assert "variation" not in names(beads([100, 110, 90, 105, 95, 100]), config())
    assert "variation" not in names(beads([100, 10_000]), config())  # too few beads to judge


def test_vpt_floor_reopen_escalation_coverage() -> None:
    idle = [usage(rid(), day(date(2026, 11, 2)), "I1", "idle", "m", 1_000_000, 0, 0.0)]
    assert "vpt_floor" in names(idle, config(bc_mt_floor=1.0))
    done = [*idle, outcome(rid(), day(date(2026, 11, 2), 17), "I1", "idle", "completed", 0)]
    assert "vpt_floor" not in names(done, config(bc_mt_floor=1.0))
    reopened = [*done, outcome(rid(), day(date(2026, 11, 3)), "I1", "lead", "reopened", 0)]
    assert "reopen_rate" in names(reopened, config())
    assert "reopen_rate" not in names(done, config())
    slow = [
        *idle,
        outcome(rid(), day(date(2026, 11, 2), 17), "I1", "idle", "completed", 0, human_minutes=90),
    ]
    assert "escalation_rate" in names(slow, config())
    assert "escalation_rate" not in names(done, config())
    loose = [*done, usage(rid(), day(date(2026, 11, 2)), None, "x", "m", 1_000_000, 0, 0.0)]
    assert "coverage" in names(loose, config(coverage_floor=0.8))
    assert "coverage" not in names(done, config(coverage_floor=0.8))


def test_hard_alerts_are_configured() -> None:
    idle = [usage(rid(), day(date(2026, 11, 2)), "I1", "idle", "m", 1_000_000, 0, 0.0)]
    (alert,) = check(idle, config(bc_mt_floor=1.0, hard=["vpt_floor"]), NOW)
    assert alert.hard and alert.subject == "idle"


def spend(tokens: int) -> list[dict[str, Any]]:
    return [usage(rid(), "2026-12-10T09:00:00Z", "B", "a", "m", tokens, 0, tokens / 1e6)]


@pytest.mark.parametrize(("tokens", "status"), [(1000, "ok"), (1001, "over")])
def test_budget_boundary(tokens: int, status: str) -> None:
    cfg = Config(
        raw={"budgets": [{"name": "cap", "period": "month", "limit_tokens": 1000, "kind": "hard"}]}
    )
    (row,) = budget_status(spend(tokens), cfg, NOW)
    assert (row["status"] == "over") == (status == "over")  # at the cap: not over (maybe projected)
    assert row["spent"] == tokens and row["period"] == "2026-12"
    fired = [a for a in check(spend(tokens), cfg, NOW) if a.name == "budget"]
    assert bool(fired) == (status == "over") and all(a.hard for a in fired)


def test_budget_projection_and_scopes() -> None:
    early = datetime(2026, 12, 10, 12, tzinfo=UTC)  # a third of the month gone
    cfg = Config(
        raw={
            "teams": {"pay": {"actors": ["b"], "labels": ["payments"]}},
            "budgets": [
                {
                    "name": "team",
                    "scope": "team",
                    "match": "pay",
                    "period": "month",
                    "limit_usd": 1.0,
                },
                {
                    "name": "a-only",
                    "scope": "actor",
                    "match": "a",
                    "period": "month",
                    "limit_tokens": 10**9,
                },
            ],
        }
    )
    records = [
        usage(rid(), "2026-12-10T09:00:00Z", "P1", "a", "m", 1, 0, 0.5),  # team by label
        outcome(rid(), "2026-12-10T10:00:00Z", "P1", "a", "completed", 1, labels=["payments"]),
        usage(rid(), "2026-12-10T09:30:00Z", "X1", "b", "m", 1, 0, 0.25),  # team by actor
        usage(rid(), "2026-12-10T09:40:00Z", "X2", "c", "m", 1, 0, 9.0),  # not the team
    ]
    rows = {r["name"]: r for r in budget_status(records, cfg, early)}
    assert rows["team"]["spent"] == pytest.approx(0.75)
    assert rows["team"]["status"] == "projected over"  # 0.75 in a third of the month
    assert rows["a-only"]["spent"] == 1 and rows["a-only"]["status"] == "ok"


def test_check_exit_codes_end_to_end(repo: Repo) -> None:
    path = repo.root / ".beads/vpt/config.toml"
    assert (
        run_cli(
            "record",
            "B",
            "--model",
            "m",
            "--input",
            "1001",
            "--cost-usd",
            "0",
            "--ts",
            "2026-12-10T09:00:00Z",
        ).code
        == 0
    )
    assert run_cli("check", "--at", "2026-12-20").code == 0  # nothing configured
    path.write_text(
        path.read_text()
        + '\n[[budgets]]\nname = "cap"\nperiod = "month"\nlimit_tokens = 1001\nkind = "hard"\n'
    )
    assert run_cli("check", "--at", "2026-12-20").code == 0  # exactly at the cap
    path.write_text(path.read_text().replace("limit_tokens = 1001", "limit_tokens = 1000"))
    result = run_cli("check", "--at", "2026-12-20", "--format", "json")
    assert result.code == 1 and result.json()["ok"] is False
    assert [a["name"] for a in result.json()["alerts"]] == ["budget"]
    path.write_text(path.read_text().replace('kind = "hard"', 'kind = "soft"'))
    assert run_cli("check", "--at", "2026-12-20").code == 0  # soft: warns, passes
    table = run_cli("budget", "--at", "2026-12-20", "--format", "json").json()["budgets"]
    assert table[0]["status"] == "over" and table[0]["kind"] == "soft"
