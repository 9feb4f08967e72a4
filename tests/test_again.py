"""`summary` asked again is answered before click (integrations/again.py) with exactly the
text the command printed, and only for the same ledger, config and way of printing it."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from typing import Any

import pytest

from bd_vpt import cli, launch
from bd_vpt.integrations.again import summary_args
from bd_vpt.ledger import tree
from tests.helpers import SHARD_A, SHARD_B, Repo, append, run_cli, two_shards, ulid, usage

FORMS = [
    (),
    ("--format", "json"),
    ("--by", "agent"),
    ("--wide", "--format", "markdown"),
    ("--format=csv",),
    ("--by=model", "--wide"),
    ("--format", "csv", "--by", "week"),
]


def _launch(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = launch.main(list(argv))
    assert not tree._HANDED  # what the early answer made went to the report, or is forgotten
    return code, out.getvalue(), err.getvalue()


def _no_click(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(argv: Any = None) -> int:
        raise AssertionError("asked bd_vpt.cli")

    monkeypatch.setattr(cli, "main", refuse)


@pytest.fixture
def ledger(repo: Repo) -> Repo:
    two_shards(repo)
    return repo


@pytest.mark.parametrize("form", FORMS)
def test_summary_asked_again_prints_what_it_printed(
    ledger: Repo, form: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_cli("summary", *form)  # the command: answers, and keeps the text
    assert first.code == 0 and first.out, first.err
    with monkeypatch.context() as patched:
        _no_click(patched)
        assert _launch("summary", *form) == (0, first.out, "")


def test_answered_without_importing_click(ledger: Repo) -> None:
    expected = run_cli("summary", "--format", "json").out
    probe = (
        "import sys; from bd_vpt import launch; launch.main(['summary', '--format', 'json']);"
        " print('click' in sys.modules, 'bd_vpt.economics.metrics' in sys.modules)"
    )
    hit = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert hit.stdout == expected + "False False\n"


def test_a_changed_ledger_or_config_is_not_answered_from_the_old_text(
    ledger: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = run_cli("summary", "--format", "json").out
    append(ledger, SHARD_B, usage(ulid(4), "2026-11-04T09:00:00Z", "B", "b", "m", 5, 0, 0.1))
    changed = _launch("summary", "--format", "json")  # changed since `git add`
    fresh = run_cli("summary", "--format", "json", "--no-cache").out
    assert changed == (0, fresh, "") and fresh != before
    ledger.commit_all("one more")
    assert _launch("summary", "--format", "json")[1] == fresh
    config = ledger.root / ".beads/vpt/config.toml"
    text = config.read_text()
    assert 'token_basis = "total"' in text
    config.write_text(text.replace('token_basis = "total"', 'token_basis = "output"'))
    code, output_only, _ = _launch("summary", "--format", "json")
    assert code == 0
    assert output_only == run_cli("summary", "--format", "json", "--no-cache").out
    assert output_only != fresh
    with monkeypatch.context() as patched:  # and that is kept in turn
        _no_click(patched)
        assert _launch("summary", "--format", "json")[1] == output_only


def test_a_summary_with_problems_warns_every_time(ledger: Repo) -> None:
    with (ledger.root / SHARD_A).open("ab") as out:
        out.write(b'{"v":1,"kind":"usage","id":"nope"}\n')
    first = _launch("summary")
    again = _launch("summary")
    assert first == again and "agent-a-000001.jsonl:3" in again[2]


def test_only_the_plain_forms_are_answered_early() -> None:
    assert summary_args(["summary"]) == (None, "table", False)
    assert summary_args(["summary", "--by", "bead", "--format=json", "--wide"]) == (
        "bead",
        "json",
        True,
    )
    for argv in (
        ["summary", "--by"],
        ["summary", "--by", "nope"],
        ["summary", "--by=", "--wide"],
        ["summary", "--wide", "--wide"],
        ["summary", "--by", "agent", "--by", "model"],
        ["summary", "--format", "jsonl"],
        ["summary", "--since", "2026-11-01"],
        ["summary", "--strict"],
        ["summary", "--help"],
        ["--debug", "summary"],
        ["trend"],
    ):
        assert summary_args(argv) is None, argv


def test_a_form_not_answered_early_still_answers(ledger: Repo) -> None:
    assert _launch("summary", "--by", "nope")[0] == 2  # click's error
    assert (
        _launch("summary", "--since", "2026-11-01", "--format", "json")[1]
        == run_cli("summary", "--since", "2026-11-01", "--format", "json").out
    )
    run_cli("summary")  # kept
    config = ledger.root / ".beads/vpt/config.toml"
    config.write_text(config.read_text() + "\n[metrics]\n")  # declared twice: not TOML
    code, out, err = _launch("summary")
    assert (code, out) == (2, "") and "config.toml" in err
