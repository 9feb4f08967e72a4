"""`bd-vpt pr`: the pull request comment, from real branches and merges."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from bd_vpt.render.markdown import MARKER, text
from tests.helpers import SHARD_A, Repo, append, golden, outcome, run_cli, ulid, usage


def placeholders(repo: Repo, body: str, **revs: str) -> str:
    """Commit ids (full and short) replaced by <name>: the golden files do not depend on
    the ids, which change with the date `bd-vpt init` writes into config.toml."""
    for name, rev in revs.items():
        sha = repo.git("rev-parse", rev).strip()
        body = body.replace(sha, f"<{name}>").replace(sha[:12], f"<{name}>")
        body = body.replace(sha[:10], f"<{name}>")
    return body


def pr(*argv: str) -> Any:
    result = run_cli("pr", *argv)
    assert result.code == 0, result.err
    return result


def test_two_beads_one_reopened_golden(branched: Repo) -> None:
    body = pr("--base", "main", "--head", "feature").out
    named = placeholders(branched, body, base="main", head="feature", fork="main~1")
    assert named == golden("pr_two_beads.md", named)
    assert body.startswith(MARKER)
    document = pr("--base", "main", "--head", "feature", "--format", "json").json()
    totals = document["totals"]
    # only the feature's records: D (on main after the fork) is not the PR's
    assert totals["tokens"] == 250_000
    assert totals["beads_closed"] == 1  # C; A was reopened
    assert totals["weighted_completions"] == 2.0
    assert totals["bc_mt"] == 8.0
    assert [(b["bead"], b["result"], b["reopened"]) for b in document["beads"]] == [
        ("C", "completed", False),
        ("A", "reopened", True),
    ]
    assert document["beads"][1]["title"] == "Fix login redirect"
    # baseline: the ledger at main, 30 days before its commit: A, B and D
    baseline = document["baseline"]["totals"]
    assert baseline["tokens"] == 420_000
    assert baseline["bc_mt"] == round(12 / 0.42, 6)
    bc_mt = document["comparison"][0]
    assert bc_mt["figure"] == "bc_mt" and bc_mt["better"] is False
    assert bc_mt["change"] == round((8.0 - 12 / 0.42) / (12 / 0.42), 6)


def test_a_pr_adding_no_records_gets_one_line(branched: Repo) -> None:
    branched.git("checkout", "-q", "-b", "docs", "main")
    (branched.root / "README.md").write_text("docs only\n")
    branched.commit_all("docs")
    body = pr("--base", "main", "--head", "docs").out
    named = placeholders(branched, body, head="docs", fork="main")
    assert named == golden("pr_none.md", named)
    assert body.count("\n") == 1 and body.startswith(MARKER)


def test_the_base_branch_config_judges_the_pr(branched: Repo) -> None:
    """A PR that re-weights its own beads or silences alerts changes nothing."""
    before = pr("--base", "main", "--head", "feature", "--format", "json").json()
    config = branched.root / ".beads/vpt/config.toml"
    config.write_text(config.read_text().replace("P2 = 2.0", "P2 = 1000.0"))
    branched.commit_all("make my beads count more")
    after = pr("--base", "main", "--head", "feature", "--format", "json").json()
    assert after["totals"]["weighted_completions"] == before["totals"]["weighted_completions"]


def test_fail_on_alert_exits_1_after_printing(branched: Repo) -> None:
    branched.git("checkout", "-q", "main")
    config = branched.root / ".beads/vpt/config.toml"
    text = config.read_text()
    assert "[thresholds]\n" in text
    config.write_text(text.replace("[thresholds]\n", '[thresholds]\nhard = ["reopen_rate"]\n'))
    branched.commit_all("reopens are a hard line")
    branched.git("checkout", "-q", "feature")
    plain = run_cli("pr", "--base", "main", "--head", "feature")
    assert plain.code == 0
    gated = run_cli("pr", "--base", "main", "--head", "feature", "--fail-on-alert")
    assert gated.code == 1
    assert "**hard** · reopen_rate" in gated.out and "[!CAUTION]" in gated.out
    assert "1 hard alert(s)" in gated.err


def test_unknown_revision_is_a_clear_error(branched: Repo) -> None:
    result = run_cli("pr", "--base", "no-such-branch")
    assert result.code == 2
    assert "unknown revision 'no-such-branch'" in result.err and "Traceback" not in result.err


EVIL = [
    "<img src=x onerror=alert(1)>",
    "[link](http://evil.example/steal)",
    "@everyone please look",
    "use `rm -rf /` here ```code```",
    "a | b || c | d",
    "![image](https://evil.example/x.png) <script>alert(2)</script>",
    "see #1 and www.evil.example and mail a@b.example",
    "*bold* _it_ ~~gone~~ $x^2$ \\ back\nslash\rnew",
    "<!-- bd-vpt:pr-comment --> fake marker",
]


@pytest.fixture
def hostile(repo: Repo) -> Repo:
    """A PR whose bead titles attack the comment, and 10,000 beads."""
    repo.commit_all("bd-vpt init")
    repo.git("checkout", "-q", "-b", "hostile")
    records = []
    n = 0
    for i, title in enumerate(EVIL):
        bead = f"evil-{i}"
        n += 1
        records.append(
            usage(ulid(n), "2026-11-10T09:00:00Z", bead, "@everyone", title, 900_000 - i, 0, 1.0)
        )
        n += 1
        closing = outcome(ulid(n), "2026-11-10T10:00:00Z", bead, "agent", "completed", 1)
        closing["snapshot"]["title"] = title
        records.append(closing)
    for i in range(10_000):
        n += 1
        records.append(
            usage(ulid(n), "2026-11-11T09:00:00Z", f"bulk-{i:05d}", "agent", "m", 1000 + i, 0, 0.01)
        )
    append(repo, SHARD_A, *records)
    repo.commit_all("hostile work")
    return repo


def test_hostile_titles_and_10000_beads_golden(hostile: Repo) -> None:
    body = pr("--base", "main", "--head", "hostile").out
    assert len(body) < 65_536 and len(body.encode()) < 65_536
    named = placeholders(hostile, body, base="main", head="hostile")
    assert named == golden("pr_hostile.md", named)
    # nothing from the repo opens HTML, a link, an image, code or a mention
    assert "<img" not in body and "<script" not in body
    assert not re.search(r"(?<!\\)\]\(", body) and "![" not in body  # no link, no image
    assert "@everyone" not in body and "@&#8203;everyone" in body
    assert "http://" not in body and "https://" not in body and "www.evil" not in body
    assert "#1 " not in body
    assert body.count(MARKER) == 1
    # every bead row has exactly its 8 cell borders: no pipe from a title splits a cell
    rows = [line for line in body.splitlines() if line.startswith("| ") and "P1" in line]
    assert len(rows) == len(EVIL)
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 8, row
        assert not re.search(r"(?<!\\)[`<>\[\]]", row), row  # no code, tag or link opens
    # the table is cut with a note, the biggest beads first
    shown = sum(1 for line in body.splitlines() if line.startswith("| bulk-"))
    assert 100 < shown < 10_000
    assert f"Showing the {shown + len(EVIL):,} beads with the most tokens of 10,009" in body
    assert body.index("evil-0") < body.index("bulk-09999")
    document = pr("--base", "main", "--head", "hostile", "--format", "json").json()
    assert len(document["beads"]) == 10_009  # json lists them all
    assert document["beads"][0]["title"] == EVIL[0]  # data is kept, only rendering escapes
    # models and actors are repository strings too: the details name them escaped
    lines = {line.split(":")[0]: line for line in body.splitlines() if line.startswith("- By ")}
    assert "&lt;img src=x" in lines["- By model"] and "and 2 more" in lines["- By model"]
    assert "@&#8203;everyone 8,099,964" in lines["- By agent"]


@pytest.mark.parametrize(
    ("raw", "inert"),
    [
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        ("a|b", "a\\|b"),
        ("`x`", "\\`x\\`"),
        ("@team", "@&#8203;team"),
        ("[a](b)", "\\[a\\](b)"),
        ("http://x", "http:&#8203;//x"),
        # only what would change rendering: dashes, dots, intraword underscores stay
        ("gpt-4o", "gpt-4o"),
        ("bx-2.x", "bx-2.x"),
        ("reopen_rate", "reopen_rate"),
        ("_it_ *b* ~s~ $m$", "\\_it\\_ \\*b\\* \\~s\\~ \\$m\\$"),
        ("fix: a :tada: b", "fix: a \\:tada: b"),
        ("AT&T &amp;", "AT&T &amp;amp;"),
        ("line\nbreak", "line break"),
        ("\u202eevil", "evil"),
    ],
)
def test_text_escapes_each_kind(raw: str, inert: str) -> None:
    assert text(raw) == inert


def test_titles_are_cut_before_escaping() -> None:
    assert text("x" * 200, 80) == "x" * 79 + "…"


def test_json_is_the_same_document(branched: Repo) -> None:
    document = orjson.loads(pr("--base", "main", "--head", "feature", "--format", "json").out)
    assert set(document) >= {"totals", "baseline", "comparison", "beads", "alerts", "weekly"}
    assert [w["period"] for w in document["weekly"]] == ["2026-W45", "2026-W46", "2026-W47"]


def test_the_baseline_over_other_days_is_the_summary_of_that_window(branched: Repo) -> None:
    """--baseline-days 11 from main's commit (2026-11-20 12:00) starts at 2026-11-09 12:00,
    inside a day with usage before it (B's) and an outcome after it: the base ledger is
    folded for that window (it was folded for 30 days, and the report failed)."""
    document = pr(
        "--base", "main", "--head", "feature", "--baseline-days", "11", "--format", "json"
    )
    baseline = document.json()["baseline"]
    assert (baseline["days"], baseline["since"]) == (11, "2026-11-09T12:00:00+00:00")
    window = ("--since", baseline["since"], "--until", "2026-11-20T12:00:01+00:00")
    summary = run_cli("summary", "--rev", "main", *window, "--format", "json")
    assert summary.code == 0, summary.err
    assert baseline["totals"] == summary.json()["totals"]
    assert baseline["totals"]["tokens"] == 20_000  # D's; B's usage is before the window
    assert baseline["totals"]["beads_closed"] == 1  # B, closed after it began


def test_a_shallow_clone_is_told_to_fetch_the_history(
    branched: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shallow = tmp_path / "shallow"
    branched.git(
        "clone", "-q", "--depth", "1", "--branch", "feature", branched.root.as_uri(), str(shallow)
    )
    monkeypatch.chdir(shallow)
    result = run_cli("pr", "--base", "main~1", "--head", "HEAD")
    assert result.code == 2
    assert "fetch-depth: 0" in result.err and "Traceback" not in result.err


def test_a_pr_that_only_removes_a_record_says_so_in_its_one_line(branched: Repo) -> None:
    branched.git("checkout", "-q", "-b", "cleanup", "main")
    path = branched.root / SHARD_A
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-1]))
    branched.commit_all("drop a line")
    result = run_cli("pr", "--base", "main", "--head", "cleanup")
    assert result.code == 0
    assert result.out.count("\n") == 1
    assert "1 ledger line(s) could not be read or were removed" in result.out
    assert f"record {ulid(5)} was removed" in result.err
    assert run_cli("pr", "--base", "main", "--head", "cleanup", "--strict").code == 2


def test_the_last_outcome_is_found_in_time_not_in_text_order() -> None:
    from bd_vpt.integrations.pr import bead_rows

    reopened = outcome(ulid(2), "2026-11-17T06:00:00Z", "A", "r", "reopened", 1)
    completed = outcome(ulid(1), "2026-11-17T10:00:00+05:00", "A", "a", "completed", 1)  # 05:00Z
    rows = bead_rows([reopened, completed], [reopened, completed], {}, [])
    assert (rows[0]["result"], rows[0]["status"]) == ("reopened", "open")


def test_base_reads_a_grown_file_s_older_blob_from_its_first_bytes(repo: Repo) -> None:
    """pr's child folds base's blob of a file the pull request appended to: History.may_begin
    names the file, and the blob is read from its first bytes, git not asked for it (no
    GitPython, no git process in the child); a blob the file does not begin with is read
    from git as before."""
    from bd_vpt.ledger import history as module
    from bd_vpt.ledger.history import History
    from bd_vpt.repo import blob_id, discover

    append(repo, SHARD_A, usage(ulid(1), "2026-11-02T09:00:00Z", "A", "a", "m", 6, 4, 1.0))
    repo.commit_all("base")
    older = repo.git("rev-parse", f"HEAD:{SHARD_A}").strip()
    append(repo, SHARD_A, usage(ulid(2), "2026-11-03T09:00:00Z", "A", "a", "m", 7, 3, 0.5))
    repo.commit_all("head")
    history = History.open(discover(repo.root), use_cache=False)
    history.may_begin(older, SHARD_A)
    data = history.read(older)
    assert blob_id(data, len(older)) == older and history._reader is None
    (repo.root / SHARD_A).write_bytes(b"{}\n")  # it no longer begins with the blob
    elsewhere = History.open(discover(repo.root), use_cache=False)
    elsewhere.may_begin(older, SHARD_A)
    module._FROM_GIT.clear()  # (read from git)
    assert elsewhere.read(older) == data and elsewhere._reader is not None
    elsewhere.close()
