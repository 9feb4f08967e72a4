"""The org rollup over real repositories (each read at its default branch, committed records
only) and the Parquet export read back by DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.generate import records as generated
from tests.helpers import SHARD_A, Repo, append, outcome, run_cli, ulid, usage

ADDITIVE = ("tokens", "usage_records", "outcome_records", "beads_closed", "unattributed_tokens")
SUMMED = ("cost_usd", "weighted_completions", "human_usd", "fully_loaded_cost_usd", "value_usd")


def make_repo(root: Path, monkeypatch: pytest.MonkeyPatch, records: list[dict[str, Any]]) -> Repo:
    root.mkdir(parents=True)
    repo = Repo(root)
    repo.git("init", "-q", "-b", "main")
    monkeypatch.chdir(root)
    assert run_cli("init").code == 0
    for record in records:
        append(repo, f".beads/vpt/ledger/{str(record['ts'])[:7]}/gen-{root.name}.jsonl", record)
    repo.commit_all("agent work")
    return repo


def summary(repo: Repo, monkeypatch: pytest.MonkeyPatch, rev: str) -> dict[str, Any]:
    monkeypatch.chdir(repo.root)
    result = run_cli("summary", "--rev", rev, "--format", "json")
    assert result.code == 0, result.err
    totals: dict[str, Any] = orjson.loads(result.out)["totals"]
    return totals


@pytest.fixture
def three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[Repo, str]]:
    """Three generated repos (their bead ids overlap: bench-0, bench-1, ...): `a` plain; `b`
    with records not yet committed; `c` on a branch ahead of its remote's default branch."""
    base = tmp_path / "org"
    a = make_repo(base / "a", monkeypatch, generated(400, seed=1, days=60))
    b = make_repo(base / "b", monkeypatch, generated(300, seed=2, days=60))
    more = generated(50, seed=9, days=60)
    for record in more:
        append(b, f".beads/vpt/ledger/{str(record['ts'])[:7]}/late.jsonl", record)
    c = make_repo(base / "c", monkeypatch, generated(200, seed=3, days=60))
    c.git("init", "-q", "--bare", "-b", "main", str(tmp_path / "c-origin.git"))
    c.git("remote", "add", "origin", str(tmp_path / "c-origin.git"))
    c.git("push", "-q", "origin", "main")
    c.git("remote", "set-head", "origin", "main")
    c.git("checkout", "-q", "-b", "wip")
    for record in generated(80, seed=4, days=60):
        append(c, f".beads/vpt/ledger/{str(record['ts'])[:7]}/wip.jsonl", record)
    c.commit_all("work in progress, not on the default branch yet")
    monkeypatch.chdir(tmp_path)
    return {"a": (a, "HEAD"), "b": (b, "HEAD"), "c": (c, "origin/main")}


def test_rollup_is_the_sum_of_the_summaries(
    three: dict[str, tuple[Repo, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    each = {name: summary(repo, monkeypatch, rev) for name, (repo, rev) in three.items()}
    monkeypatch.chdir(tmp_path)
    result = run_cli("rollup", str(tmp_path / "org" / "*"), "--format", "json")
    assert result.code == 0, result.err
    document = orjson.loads(result.out)
    assert [r["name"] for r in document["repos"]] == ["a", "b", "c"]
    assert document["repos"][2]["ref"] == "refs/remotes/origin/HEAD"
    totals = document["totals"]
    for key in ADDITIVE:
        assert totals[key] == sum(s[key] for s in each.values()), key
    for key in SUMMED:
        assert totals[key] == pytest.approx(sum(s[key] for s in each.values()), abs=1e-5), key
    weighted = sum(s["weighted_completions"] for s in each.values())
    tokens = sum(s["tokens"] for s in each.values())
    assert totals["bc_mt"] == pytest.approx(weighted / (tokens / 1e6), abs=1e-6)
    groups = {g["key"]: g for g in document["groups"]}
    for name, figures in each.items():  # by repo: each row is that repo's own summary
        assert {k: v for k, v in groups[name].items() if k != "key"} == figures
    by_agent = orjson.loads(
        run_cli("rollup", str(tmp_path / "org" / "*"), "--by", "agent", "--format", "json").out
    )
    assert sum(g["tokens"] for g in by_agent["groups"]) == tokens
    assert sum(g["weighted_completions"] for g in by_agent["groups"]) == pytest.approx(weighted)


def test_rollup_by_hand_teams_and_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two repos that both have a bead bx-1 (different beads); a team of one actor."""
    for name, actor in (("api", "alice"), ("web", "bob")):
        repo = make_repo(tmp_path / name, monkeypatch, [])
        append(
            repo,
            SHARD_A,
            usage(ulid(1), "2026-11-02T10:00:00Z", "bx-1", actor, "m", 250_000, 250_000, 1.5),
            outcome(ulid(2), "2026-11-03T10:00:00Z", "bx-1", actor, "completed", 1),
            usage(ulid(3), "2026-11-02T11:00:00Z", None, "mayor", "m", 500_000, 0, 0.5),
        )
        repo.commit_all("work")
    org = tmp_path / "org.toml"
    org.write_text('[teams.payments]\nactors = ["alice"]\n')
    monkeypatch.chdir(tmp_path)
    result = run_cli(
        "rollup",
        "api",
        str(tmp_path / "web"),
        "--by",
        "team",
        "--config",
        str(org),
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    document = orjson.loads(result.out)
    totals = document["totals"]
    assert totals["tokens"] == 2_000_000  # 2 x (500k on bx-1 + 500k coordination)
    assert totals["beads_closed"] == 2  # api:bx-1 and web:bx-1, not one bead
    assert totals["weighted_completions"] == 8.0  # 2 x P1 (weight 4)
    assert totals["bc_mt"] == 4.0
    assert totals["cost_usd"] == 4.0
    teams = {g["key"]: g for g in document["groups"]}
    assert (
        teams["payments"]["tokens"] == 500_000 and teams["payments"]["weighted_completions"] == 4.0
    )
    assert teams["(no team)"]["tokens"] == 1_500_000  # bob and both mayors
    for fmt in ("table", "csv", "markdown"):
        shown = run_cli(
            "rollup", "api", "web", "--by", "team", "--config", str(org), "--format", fmt
        )
        assert shown.code == 0 and "payments" in shown.out, (fmt, shown.err)


def test_rollup_bad_paths_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain").mkdir()
    missing = run_cli("rollup", str(tmp_path / "nowhere"))
    assert missing.code == 2 and "nowhere" in missing.err
    not_git = run_cli("rollup", str(tmp_path / "plain"))
    assert not_git.code == 2 and "not a git repository" in not_git.err
    nothing = run_cli("rollup", str(tmp_path / "none-*"))
    assert nothing.code == 2 and "matches no" in nothing.err


def test_parquet_export_in_duckdb_gives_the_rollup_totals(
    three: dict[str, tuple[Repo, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    db = duckdb.connect()

    def one(sql: str) -> tuple[Any, ...]:
        row = db.execute(sql).fetchone()
        assert row is not None
        return tuple(row)

    out = tmp_path / "exports"
    for repo, rev in three.values():
        monkeypatch.chdir(repo.root)
        result = run_cli("export", "--format", "parquet", "-o", str(out), "--rev", rev)
        assert result.code == 0, result.err
    monkeypatch.chdir(tmp_path)
    rolled = orjson.loads(run_cli("rollup", str(tmp_path / "org" / "*"), "--format", "json").out)
    totals = rolled["totals"]
    usage_glob = f"{out}/usage/*/*.parquet"
    outcome_glob = f"{out}/outcomes/*/*.parquet"
    tokens, cost, rows, repos = one(
        "SELECT sum(ConsumedQuantity), sum(BilledCost) FILTER (WHERE x_CostKnown), count(*), "
        f"count(DISTINCT x_repo) FROM read_parquet('{usage_glob}', hive_partitioning = true)"
    )
    (weighted,) = one(
        f"SELECT sum(x_WeightedCompletion) FROM read_parquet('{outcome_glob}', "
        "hive_partitioning = true)"
    )
    assert repos == 3
    assert tokens == totals["tokens"] and rows == totals["usage_records"]
    assert cost == pytest.approx(totals["cost_usd"], abs=1e-5)
    assert weighted == pytest.approx(totals["weighted_completions"], abs=1e-6)
    assert round(weighted / (tokens / 1e6), 6) == pytest.approx(totals["bc_mt"], abs=1e-6)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Org rollup and Parquet") :]
    query = section[
        section.index("```sql\n") + 7 : section.index("```", section.index("```sql") + 6)
    ]
    shown = db.execute(query.replace("'vpt-exports/", f"'{out}/")).fetchall()
    by_repo = {g["key"]: g for g in rolled["groups"]}
    assert [row[0] for row in shown] == ["a", "b", "c", "TOTAL"]
    for repo_name, tokens_, _cost, weighted_, bc_mt in shown:
        figures = totals if repo_name == "TOTAL" else by_repo[repo_name]
        assert tokens_ == figures["tokens"]
        assert weighted_ == pytest.approx(figures["weighted_completions"], abs=1e-6)
        assert bc_mt == pytest.approx(figures["bc_mt"], abs=1e-6)  # the README's query
    months = db.execute(
        f"SELECT DISTINCT month FROM read_parquet('{usage_glob}', hive_partitioning = true)"
    ).fetchall()
    assert sorted(m[0] for m in months) == ["2026-05", "2026-06"]  # 60 days from May 1st


def test_parquet_without_output_dir_is_exit_2(repo: Repo) -> None:
    result = repo.vpt("export", "--format", "parquet")
    assert result.code == 2 and "-o" in result.err
