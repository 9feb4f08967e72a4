"""`summary` in its plain forms, not asked before, is made without click (integrations/again.py
make): the same output, warnings, exit code and kept answer as the click command, errors
included."""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import Any

import pytest

from bd_vpt.ledger.cache import forget_folds
from tests.helpers import SHARD_A, Repo, run_cli, two_shards
from tests.test_again import FORMS, _launch, _no_click


def _click(*argv: str) -> tuple[int, str, str]:
    result = run_cli(*argv)
    return result.code, result.out, result.err


def _fresh(repo: Repo) -> None:
    """Nothing kept: the next report is made, not answered."""
    forget_folds()
    shutil.rmtree(repo.root / ".git" / "bd-vpt", ignore_errors=True)


@pytest.mark.parametrize("form", FORMS)
def test_a_plain_summary_without_click_is_the_command(
    repo: Repo, form: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    two_shards(repo)
    with (repo.root / SHARD_A).open("ab") as shard:
        shard.write(b"not json\n")  # a warning, and nothing kept
    _fresh(repo)
    by_click = _click("summary", *form)
    _fresh(repo)
    with monkeypatch.context() as patched:
        _no_click(patched)
        made = _launch("summary", *form)
    assert made == by_click and made[0] == 0 and "not json" not in made[1]
    assert ":" in made[2]  # the bad line's path:line warning


@pytest.mark.parametrize("form", FORMS)
def test_what_it_made_is_answered_again(
    repo: Repo, form: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text made without click is kept as the command keeps it: asked again, it is
    answered before any report is made, and it is the command's text."""
    two_shards(repo)
    _fresh(repo)
    expected = _click("summary", *form)
    _fresh(repo)
    with monkeypatch.context() as patched:
        _no_click(patched)
        made = _launch("summary", *form)
        monkeypatch.setattr("bd_vpt.reports.summary", None)  # (answered: no report is made)
        again = _launch("summary", *form)
    assert made == again == expected and made[0] == 0


def test_its_errors_are_the_command_s(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    two_shards(repo)
    (repo.root / ".beads" / "vpt" / "config.toml").write_text("[weights\n")  # not TOML
    with monkeypatch.context() as patched:
        _no_click(patched)
        bad_config = _launch("summary")
    assert bad_config == _click("summary") and bad_config[0] == 2
    shutil.rmtree(repo.root / ".git")
    with monkeypatch.context() as patched:
        _no_click(patched)
        no_repo = _launch("summary", "--format", "json")
    assert no_repo == _click("summary", "--format", "json") and no_repo[0] == 2
    assert "bd-vpt: error:" in no_repo[2]


def test_other_forms_go_to_click(repo: Repo) -> None:
    two_shards(repo)
    for form in (("--strict",), ("--since", "2026-01-01"), ("--by", "nothing"), ("--no-cache",)):
        assert _launch("summary", *form) == _click("summary", *form)


def _probe(repo: Repo, tmp_path: Any, code: str) -> subprocess.CompletedProcess[str]:
    """code run in a fresh Python in the repository (what sys.modules holds after a command)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo.root, env=env
    )


def test_made_without_importing_click(repo: Repo, tmp_path: Any) -> None:
    two_shards(repo)
    made = _probe(
        repo,
        tmp_path,
        "import sys; from bd_vpt import launch; code = launch.main(['summary', '--format', "
        "'json']); print(code, 'click' in sys.modules, file=sys.stderr)",
    )
    assert made.stderr.endswith("0 False\n"), made.stderr
    assert '"totals"' in made.stdout


def test_a_table_without_package_metadata(repo: Repo, tmp_path: Any) -> None:
    """tabulate is imported without importlib.metadata (render/output.tabulate_module): the
    table is the click command's, and importlib.metadata imported afterwards is the real one."""
    two_shards(repo)
    by_click = _click("summary")
    _fresh(repo)
    made = _probe(
        repo,
        tmp_path,
        "import sys; from bd_vpt import launch; code = launch.main(['summary']); "
        "had = 'importlib.metadata' in sys.modules; import importlib.metadata as m; "
        "print(code, had, m.version('click') != '', file=sys.stderr)",
    )
    assert made.stderr.endswith("0 False True\n"), made.stderr
    assert made.stdout == by_click[1]
