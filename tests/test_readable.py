"""Readable by default, honest about unknowns: tables fit 100 columns, `?` for unknown money
with the priced share, `check` one line per finding, `prices` and `prices set`.

The ledger of the unpriced tests: bead A, 1,000 tokens of claude-sonnet-4-5-20250929 at $0.003
(a given cost), and 4,000 tokens of mystery-9 (no known price) on no bead. By hand: priced
share 1,000 / 5,000 = 20.0%; cost unknown, $0.0030 priced.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.helpers import Repo, run_cli


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "demo"
    assert run_cli("demo", str(root)).code == 0
    monkeypatch.chdir(root)
    return root


def _mixed(repo: Repo) -> None:
    for argv in (
        (
            "record",
            "A",
            "--model",
            "claude-sonnet-4-5-20250929",
            "--input",
            "1000",
            "--cost-usd",
            "0.003",
            "--ts",
            "2026-11-02T09:00:00Z",
        ),
        (
            "record",
            "-",
            "--model",
            "mystery-9",
            "--input",
            "3000",
            "--output",
            "1000",
            "--ts",
            "2026-11-02T10:00:00Z",
        ),
    ):
        assert run_cli(*argv).code == 0


@pytest.mark.parametrize(
    "argv",
    [
        ("summary",),
        ("summary", "--by", "agent"),
        ("summary", "--by", "model"),
        ("summary", "--by", "week"),
        ("summary", "--by", "bead"),
        ("models",),
        ("marginal",),
        ("bead", "demo-3"),
        ("trend",),
        ("prices",),
        ("prices", "--aliases"),
    ],
)
def test_tables_fit_100_columns(demo: Path, argv: tuple[str, ...]) -> None:
    result = run_cli(*argv)
    assert result.code == 0, result.err
    widest = max(len(line) for line in result.out.splitlines())
    assert widest <= 100, (argv, widest)


def test_wide_shows_every_figure(demo: Path) -> None:
    out = run_cli("summary", "--wide").out
    assert "priced" in out and "completions" in out and "escalation" in out


def test_unknown_money_is_a_question_mark_with_its_priced_share(repo: Repo) -> None:
    _mixed(repo)
    out = run_cli("summary", "--by", "model").out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1].isalpha()}
    assert rows["mystery-9"][2] == "?"  # its cost column
    assert rows["claude-sonnet-4-5"][2] == "0.0030"  # one model, whatever the spelling
    assert rows["TOTAL"][2] == "?"
    assert "model cost ?: $0.0030 priced, 20.0% of tokens" in out
    assert "1 usage record(s), 4,000 tokens, on models with no known price" in out
    totals = run_cli("summary", "--format", "json").json()["totals"]
    assert totals["cost_usd"] is None and totals["priced_share"] == 0.2


def test_check_fails_on_a_priced_share_below_the_floor(repo: Repo) -> None:
    _mixed(repo)
    path = repo.root / ".beads/vpt/config.toml"
    path.write_text(
        path.read_text().replace(
            "[thresholds]\n", '[thresholds]\npriced_share_floor = 0.9\nhard = ["priced_share"]\n'
        )
    )
    result = run_cli("check")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith("HARD priced_share (fleet): priced share 20.0% < floor 90.0%")
    assert lines[0].endswith("-> add the price (bd-vpt prices set MODEL --input USD --output USD)")
    assert "(4,000 tokens unpriced)" in lines[0]
    assert lines[-1] == "1 alert(s), 1 hard"


def test_check_one_line_per_finding_with_figure_and_threshold(demo: Path) -> None:
    result = run_cli("check")
    lines = result.out.splitlines()
    # the demo: demo-3 reopened once in 8 completions (12.5% > 10%); one completion took
    # more than 30 human minutes (12.5% > 5%)
    assert lines == [
        "soft reopen_rate (fleet): 12.5% > 10.0% (1 of 8 completions) -> find why work comes "
        "back; tighten acceptance",
        "soft escalation_rate (fleet): 12.5% > 5.0% (1 of 8 completions) -> give agents the "
        "context they lacked",
        "2 alert(s), 0 hard",
    ]
    assert "evidence" not in result.out and "{" not in result.out


def test_check_without_config_says_which_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "bare"
    root.mkdir()
    Repo(root).git("init", "-q")
    monkeypatch.chdir(root)
    result = run_cli("check")
    assert result.code == 0 and result.out.strip() == "no alerts"
    assert "no .beads/vpt/config.toml: judged with the defaults (reopen rate > 10%" in result.err


def test_prices_shows_the_table_and_day_and_set_writes_an_override(repo: Repo) -> None:
    assert (
        run_cli(
            "record",
            "A",
            "--model",
            "claude-sonnet-4-5-20250929",
            "--input",
            "1000",
            "--ts",
            "2026-11-02T09:00:00Z",
        ).code
        == 0
    )
    _mixed(repo)
    document = run_cli("prices", "--format", "json").json()
    models = {m["model"]: m for m in document["models"]}
    sonnet = models["claude-sonnet-4-5"]
    assert sonnet["spellings"] == {"claude-sonnet-4-5-20250929": 2}
    [table] = [t for t in sonnet["priced_by"] if t["table"].startswith("genai-prices ")]
    assert table["first_day"] == table["last_day"] == "2026-11-02"
    assert table["table"].endswith("anthropic/claude-sonnet-4-5")
    assert models["mystery-9"]["unpriced_records"] == 1
    assert models["mystery-9"]["today"]["source"] is None
    result = run_cli("prices", "set", "ollama/Mystery-9", "--input", "0", "--output", "0")
    assert result.code == 0, result.err
    assert "written as its canonical name mystery-9" in result.out
    stored = tomllib.loads((repo.root / ".beads/vpt/config.toml").read_text())["prices"]
    assert stored["mystery-9"] == {"input": 0.0, "output": 0.0}
    after = {m["model"]: m for m in run_cli("prices", "--format", "json").json()["models"]}
    assert after["mystery-9"]["today"]["ref"] == "config:prices.mystery-9"
    assert after["mystery-9"]["unpriced_records"] == 1  # history is not repriced
    assert run_cli("record", "-", "--model", "mystery-9", "--input", "5").code == 0
    totals = run_cli("summary", "--format", "json").json()["totals"]
    assert totals["unpriced_records"] == 1  # the new record is priced, at $0 on purpose


def test_prices_aliases(repo: Repo) -> None:
    for model in (
        "claude-sonnet-4-5-20250929",
        "anthropic/claude-sonnet-4-5",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ):
        assert (
            run_cli(
                "record", "A", "--model", model, "--input", "10", "--ts", "2026-11-02T09:00:00Z"
            ).code
            == 0
        )
    rows = {
        r["id"]: r for r in run_cli("prices", "--aliases", "--format", "json").json()["aliases"]
    }
    assert {r["canonical"] for r in rows.values()} == {"claude-sonnet-4-5"}
    assert rows["us.anthropic.claude-sonnet-4-5-20250929-v1:0"]["host"] == "aws"
    assert rows["claude-sonnet-4-5-20250929"]["price_entry"] == "anthropic/claude-sonnet-4-5"
    assert rows["us.anthropic.claude-sonnet-4-5-20250929-v1:0"]["price_entry"].startswith("aws/")
    by_model = run_cli("summary", "--by", "model", "--format", "json").json()["groups"]
    assert [(g["key"], g["tokens"]) for g in by_model] == [("claude-sonnet-4-5", 30)]


def test_baseline_set_says_when_it_replaces(demo: Path) -> None:
    first = run_cli("baseline", "set", "--period", "2026-W45", "--name", "b")
    assert first.code == 0 and "replac" not in first.out + first.err
    again = run_cli("baseline", "set", "--period", "2026-W46", "--name", "b")
    assert again.code == 0
    assert "replaces the stored baseline b (2026-W45" in again.out + again.err


def test_trend_lists_a_quiet_week_as_zero(repo: Repo) -> None:
    for ts in ("2026-11-02T09:00:00Z", "2026-11-17T09:00:00Z"):
        assert (
            run_cli(
                "record", "A", "--model", "m", "--input", "10", "--cost-usd", "0.01", "--ts", ts
            ).code
            == 0
        )
    rows = run_cli("trend", "--every", "week", "--format", "json").json()
    assert [(r["period"], r["tokens"]) for r in rows] == [
        ("2026-W45", 10),
        ("2026-W46", 0),
        ("2026-W47", 10),
    ]


def test_pr_comment_says_unknown_and_the_priced_share(repo: Repo) -> None:
    repo.commit_all("bd-vpt init")
    repo.git("checkout", "-q", "-b", "feature")
    _mixed(repo)
    assert run_cli("close", "A", "--no-bd", "--ts", "2026-11-02T12:00:00Z").code == 0
    repo.commit_all("work")
    body = run_cli("pr", "--base", "main", "--head", "feature").out
    assert "**?** model cost ($0.0030 priced, 20.0% of tokens; the rest has no known price)" in body
    row = next(line for line in body.splitlines() if line.startswith("| model cost per"))
    assert row.split("|")[2].strip() == "?"  # never a priced cost over unknown completions
    assert "- By model: mystery-9 4,000 (?), claude-sonnet-4-5 1,000 ($0.0030)" in body


def test_a_baseline_stores_the_figures_of_its_period_row(demo: Path) -> None:
    """baseline set --period 2026-W45 == summary --by week's W45 row == --since/--until."""
    from bd_vpt.economics.governance import BASELINE_FIGURES

    assert run_cli("baseline", "set", "--period", "2026-W45", "--name", "w45").code == 0
    stored = tomllib.loads((demo / ".beads/vpt/config.toml").read_text())["baselines"]["w45"]
    rows = run_cli("summary", "--by", "week", "--format", "json").json()["groups"]
    row = next(r for r in rows if r["key"] == "2026-W45")
    alone = run_cli(
        "summary", "--since", "2026-W45", "--until", "2026-W45", "--format", "json"
    ).json()["totals"]
    for name in BASELINE_FIGURES:
        assert stored.get(name) == row[name] == alone[name], name


def test_models_lists_unpriced_models_apart(repo: Repo) -> None:
    _mixed(repo)
    out = run_cli("models").out
    ranked = [line.split()[0] for line in out.splitlines()[2:] if line and line[0].isalpha()]
    assert ranked[0] == "claude-sonnet-4-5" and "mystery-9" not in ranked[:1]
    assert "not ranked, no known price (cost unknown, not $0): mystery-9 (4,000 tokens)" in out
    assert "model cost ?: $0.0030 priced, 20.0% of tokens" in out
    document = run_cli("models", "--format", "json").json()
    assert [m["key"] for m in document["models"]] == ["claude-sonnet-4-5"]
    assert [m["key"] for m in document["unpriced_models"]] == ["mystery-9"]


def test_a_priced_share_never_rounds_up_to_all() -> None:
    from bd_vpt.render.output import cost_line

    figures = {
        "tokens": 100_015,
        "unpriced_records": 1,
        "unpriced_tokens": 15,
        "priced_share": 100_000 / 100_015,
        "priced_cost_usd": 0.33,
        "cost_usd": None,
    }
    assert "$0.3300 priced, >99.9% of tokens" in cost_line(figures)
