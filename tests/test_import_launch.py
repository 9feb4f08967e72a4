"""`bd-vpt import claude-code` and `... --hook` (Claude Code's hook, after every reply) run
without click (integrations/importing.py): the same output, warnings, ledger and exit code as
the click command, errors included."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from bd_vpt import cli, launch
from tests.helpers import Repo, run_cli
from tests.test_import_golden import priced_lines
from tests.test_import_reading import ledger, start_over, write_corpus


def _launch(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        pytest.MonkeyPatch.context() as patched,
    ):
        patched.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = launch.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _click(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        result = run_cli(*argv)
    return result.code, result.out, result.err


def _no_click(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(argv: Any = None) -> int:
        raise AssertionError("asked bd_vpt.cli")

    monkeypatch.setattr(cli, "main", refuse)


@pytest.mark.parametrize("hook", [False, True])
def test_import_without_click_is_the_command(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: bool
) -> None:
    home = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    paths = write_corpus(home, str(repo.root), seed=3, writable=True)
    (home / "projects" / "-repo" / "priced.jsonl").write_bytes(
        b"\n".join(priced_lines(str(repo.root)))  # (an unknown model: a warning)
    )
    argv = ["import", "claude-code", *(["--hook"] if hook else [])]
    event = orjson.dumps({"session_id": "x", "transcript_path": str(paths[0])}) if hook else b""
    runs = []
    for route in (_click, _launch):
        start_over(repo)
        with monkeypatch.context() as patched:
            if route is _launch:
                _no_click(patched)
            found = route(*argv, stdin=event)
            again = route(*argv, stdin=event)  # (nothing new)
        runs.append((found, again, ledger(repo)))
    assert runs[0] == runs[1]
    (code, out, err), _again, records = runs[0]
    assert code == 0 and "wrote" in out and records
    assert ("no known price" in err) == (not hook)


def test_its_errors_are_the_command_s(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    (repo.root / ".beads" / "vpt" / "config.toml").write_text("[weights\n")  # not TOML
    with monkeypatch.context() as patched:
        _no_click(patched)
        bad_config = _launch("import", "claude-code")
    assert bad_config == _click("import", "claude-code") and bad_config[0] == 2
    shutil.rmtree(repo.root / ".git")
    with monkeypatch.context() as patched:
        _no_click(patched)
        no_repo = _launch("import", "claude-code")
    assert no_repo == _click("import", "claude-code") and no_repo[0] == 2
    assert "bd-vpt: error:" in no_repo[2]


def test_started_without_importing_click(repo: Repo, tmp_path: Path) -> None:
    probe = (
        "import sys; from bd_vpt import launch; code = launch.main(['import', 'claude-code']);"
        " print(code, 'click' in sys.modules)"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CLAUDE_CONFIG_DIR": str(tmp_path)}
    hit = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=repo.root, env=env
    )
    assert hit.stdout.endswith("0 False\n"), hit.stderr
