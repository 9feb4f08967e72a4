"""The dashboard: the document's figures by hand, the page's escaping, and the page itself in
a real headless Chromium (Debian's package; `make chromium` installs it): no console error, no
request beyond the file, every chart's points equal to the JSON report, screenshots in build/."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from bd_vpt.render.dashboard import html
from tests.browser import Chromium, find_chromium
from tests.helpers import SHARD_A, Repo, append, outcome, run_cli, ulid, usage

CHECKOUT = Path(__file__).resolve().parents[1]
BUILD = CHECKOUT / "build"

# chart -> (the document's list, the field naming each point, the series drawn)
CHARTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "periodic-bc_mt": ("periods", "period", ("bc_mt",)),
    "periodic-cost_per_completion": ("periods", "period", ("cost_per_completion",)),
    "periodic-coverage": ("periods", "period", ("coverage",)),
    "agents": ("agents", "key", ("cost_usd", "weighted_completions")),
    "models": ("models", "key", ("cost_usd", "weighted_completions")),
    "cost_breakdown": ("cost_breakdown", "part", ("usd",)),
    "top_beads": ("top_beads", "bead", ("cost_usd",)),
}
POINTS_JS = """JSON.stringify([...document.querySelectorAll('figure[data-chart]')].map(f => ({
  chart: f.dataset.chart,
  title: (f.querySelector('svg > title') || {}).textContent || '',
  desc: (f.querySelector('svg > desc') || {}).textContent || '',
  labelled: (f.querySelector('svg') || {getAttribute: () => ''}).getAttribute('aria-labelledby'),
  rows: f.querySelectorAll('table tbody tr').length,
  points: [...f.querySelectorAll('[data-value]')].map(e =>
    [e.dataset.key, e.dataset.series, parseFloat(e.dataset.value)]),
})))"""


def expected_points(document: dict[str, Any], chart: str) -> list[list[Any]]:
    name, key, series = CHARTS[chart]
    return sorted(
        [row[key], figure, row[figure]]
        for row in document[name]
        for figure in series
        if row[figure] is not None
    )


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: `make chromium` installs Debian's package")
        pytest.skip("no Chromium: `make chromium` installs Debian's package")
    return found


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "demo"
    assert run_cli("demo", str(root)).code == 0
    monkeypatch.chdir(root)
    return root


def test_demo_dashboard_in_chromium(demo: Path, chromium: str) -> None:
    page = demo.parent / "dashboard.html"
    written = run_cli("dashboard", "-o", str(page))
    assert written.code == 0, written.err
    document = orjson.loads(run_cli("dashboard", "--format", "json").out)
    assert document["every"] == "day"  # two weeks of demo: drawn by day
    with Chromium(chromium) as browser:
        load = browser.load(page.as_uri())
        assert load.errors == []
        assert load.requests == [page.as_uri()]  # the file itself, nothing else
        assert (
            browser.evaluate("document.querySelectorAll('script, img, link, iframe').length") == 0
        )
        figures = orjson.loads(browser.evaluate(POINTS_JS))
        assert sorted(f["chart"] for f in figures) == sorted(CHARTS)
        for figure in figures:
            chart = figure["chart"]
            assert sorted(figure["points"]) == expected_points(document, chart), chart
            assert figure["points"], chart  # the demo has a figure for every chart
            assert figure["title"] and figure["desc"] and figure["labelled"], chart
            assert figure["rows"] >= 1, chart  # the table fallback
        shot = browser.screenshot(BUILD / "dashboard.png")
        browser.emulate_dark(True)
        dark = browser.screenshot(BUILD / "dashboard-dark.png")
        background = browser.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 18, 22)"  # the dark palette applied
        table = "document.querySelector('figure details table').checkVisibility()"
        assert browser.evaluate(table) is False  # on screen, folded under "Data table"
        browser.call("Emulation.setEmulatedMedia", {"media": "print"})
        assert browser.evaluate(table) is True  # printed, the data tables are open
        printed = browser.pdf(BUILD / "dashboard.pdf")
    for image in (shot, dark):
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 20_000
    assert printed.read_bytes()[:5] == b"%PDF-"


def test_demo_writes_a_dashboard(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    result = run_cli("demo", str(root))
    assert result.code == 0, result.err
    page = root / "vpt-dashboard.html"
    assert page.exists() and str(page) in result.out
    assert "<svg" in page.read_text()


def small_ledger(repo: Repo) -> None:
    """Hand-sized: a P1 bead closed (weight 4), a P3 bead closed then reopened, and
    coordination usage on no bead."""
    append(
        repo,
        SHARD_A,
        usage(ulid(1), "2026-11-02T10:00:00Z", "bx-1", "alice", "m-a", 300_000, 100_000, 2.0),
        usage(ulid(2), "2026-11-03T10:00:00Z", "bx-2", "bob", "m-b", 400_000, 0, 1.0),
        usage(ulid(3), "2026-11-03T11:00:00Z", None, "mayor", "m-a", 200_000, 0, None),
        outcome(ulid(4), "2026-11-03T12:00:00Z", "bx-1", "alice", "completed", 1),
        outcome(ulid(5), "2026-11-04T12:00:00Z", "bx-2", "bob", "completed", 3),
        outcome(ulid(6), "2026-11-05T12:00:00Z", "bx-2", "bob", "reopened", 3),
    )


def test_dashboard_document_by_hand(repo: Repo) -> None:
    small_ledger(repo)
    document = orjson.loads(repo.ok("dashboard", "--format", "json").out)
    t = document["totals"]
    assert t["tokens"] == 1_000_000
    assert t["beads_closed"] == 1 and t["weighted_completions"] == 4.0
    assert t["bc_mt"] == 4.0  # 4 weighted / 1 Mtok
    assert t["coverage"] == 0.8  # 800k of 1M tokens on a bead
    assert document["coverage"] == {
        "coverage": 0.8,
        "attributed_tokens": 800_000,
        "unattributed_tokens": 200_000,
    }
    beads = {b["bead"]: b for b in document["top_beads"]}
    assert [b["bead"] for b in document["top_beads"]] == ["bx-1", "bx-2"]  # by cost, $2 then $1
    assert beads["bx-1"]["result"] == "completed" and beads["bx-2"]["result"] == "reopened"
    agents = {a["key"]: a for a in document["agents"]}
    assert agents["alice"]["weighted_completions"] == 4.0 and agents["bob"]["cost_usd"] == 1.0
    assert document["every"] == "day"
    assert [p["period"] for p in document["periods"]] == [
        "2026-11-02",
        "2026-11-03",
        "2026-11-04",
        "2026-11-05",
    ]
    # 1 of the 2 completed beads came back: 50% > the 10% line
    assert "reopen_rate" in [a["name"] for a in document["alerts"]]


def test_unknown_is_not_zero_and_strings_are_inert(repo: Repo) -> None:
    hostile = '"><script>alert(1)</script><img src=https://example.com/x>'
    append(
        repo,
        SHARD_A,
        usage(ulid(1), "2026-11-02T10:00:00Z", "bx-1", hostile, "m-a", 10, 10, None),
        outcome(ulid(2), "2026-11-03T12:00:00Z", "bx-1", hostile, "completed", 2),
    )
    page = html(orjson.loads(repo.ok("dashboard", "--format", "json").out))
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page
    assert "1 usage record(s) unpriced" in page  # said, not shown as a plain $0


def test_dashboard_writes_where_told_and_bad_window_is_exit_2(repo: Repo) -> None:
    small_ledger(repo)
    assert repo.vpt("dashboard", "--since", "not-a-date").code == 2
    out = repo.root / "site" / "vpt.html"
    result = repo.ok("dashboard", "-o", str(out), "--since", "2026-11-03")
    assert out.exists() and str(out) in result.out
    document = orjson.loads(repo.ok("dashboard", "--since", "2026-11-03", "--format", "json").out)
    assert document["totals"]["tokens"] == 600_000  # bob's 400k and mayor's 200k


def test_a_null_cost_shows_as_unknown_with_its_priced_part(repo: Repo) -> None:
    small_ledger(repo)
    document = orjson.loads(repo.ok("dashboard", "--format", "json").out)
    # the figures a ledger with unpriced usage reports: cost null, the priced part beside it
    document["totals"].update(cost_usd=None, priced_cost_usd=3.0, priced_share=0.8)
    document["agents"][0]["cost_usd"] = None
    document["cost_breakdown"][0]["usd"] = None
    page = html(document)
    assert "1 usage record(s) unpriced ($3.00 for the 80.0% priced)" in page
    assert "? (spend $ unknown)" in page
    assert "model tokens: ?" in page
    assert "<span>Model spend</span><b>?</b>" in page


def test_an_empty_ledger_makes_a_page_that_says_so(repo: Repo) -> None:
    document = orjson.loads(repo.ok("dashboard", "--format", "json").out)
    assert document["as_of"] is None and document["periods"] == []
    page = html(document)
    assert page.count("no figures in this window") == len(CHARTS)
    # no completion: a cost per completion is no figure (an en dash), not an unknown one (?)
    assert "<span>Cost per completion</span><b>\u2013</b>" in page
    assert page.count("data-value=") == 4  # only the cost parts, each a known $0
