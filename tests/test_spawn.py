"""bd_vpt.spawn runs a program as subprocess.run(capture_output=True) does, without importing
subprocess: outputs of any size on both pipes at once, input fed while it writes, exit codes
and deaths by signal; and the git calls a command starts early (integrations/early.py) are
the ones it asks, taken only where their answers are the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bd_vpt import repo as git
from bd_vpt import spawn
from bd_vpt.integrations import early
from tests.helpers import Repo, two_shards

PROGRAMS = [
    "print('x' * 3_000_000); print('e' * 300_000, file=sys.stderr)",  # both pipes over full
    "import sys; data = sys.stdin.buffer.read(); sys.stdout.buffer.write(data[::-1])",
    "import sys; sys.stderr.write('no'); sys.exit(3)",
    "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
    "pass",  # fed, it leaves without reading its input
]


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("fed", [None, b"", b"abc\n" * 500_000])
def test_a_run_is_subprocess_run(program: str, fed: bytes | None) -> None:
    argv = [sys.executable, "-c", f"import sys\n{program}"]
    ran = spawn.run(argv, None, fed)
    done = subprocess.run(argv, input=fed, capture_output=True, check=False)
    assert (ran.returncode, ran.stdout, ran.stderr) == (done.returncode, done.stdout, done.stderr)


def test_a_program_not_found_is_an_os_error() -> None:
    with pytest.raises(FileNotFoundError):
        spawn.run(["no-such-program-here"])


def test_an_environment_given_is_the_program_s() -> None:
    argv = [sys.executable, "-c", "import os; print(os.environ.get('SPAWN_TEST'))"]
    ran = spawn.run(argv, {**os.environ, "SPAWN_TEST": "given"})
    assert ran.stdout == b"given\n"


def test_an_import_and_a_summary_take_every_answer_asked_early(repo: Repo, tmp_path: Path) -> None:
    """Fresh processes: each question started early is taken (none is left, none asked
    twice); the reports are the click routes' (test_import_launch.py and
    test_summary_launch.py compare them whole)."""
    from bench.agents import write_sessions

    two_shards(repo)
    write_sessions(tmp_path / "claude", 2, 30, str(repo.root))
    probe = (
        "import sys; from bd_vpt import launch, spawn; code = launch.main(sys.argv[1:]); "
        "print(code, len(spawn._EARLY), file=sys.stderr)"
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
    }
    outputs = []
    for argv in (["summary"], ["import", "claude-code"], ["summary"]):
        made = subprocess.run(
            [sys.executable, "-c", probe, *argv],
            capture_output=True,
            text=True,
            cwd=repo.root,
            env=env,
        )
        assert made.stderr.endswith("0 0\n"), made.stderr
        outputs.append(made.stdout)
    assert "wrote 2 usage record(s)" in outputs[1] and outputs[0] != outputs[2]


def test_an_answer_is_taken_only_where_it_is_the_same(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked from a subfolder, the early answers serve it and the work tree's top; asked
    with another environment, or of another repository, git is asked again."""
    two_shards(repo)
    expected = git.index_blobs(repo.root)
    assert len(expected) == 2
    started: list[list[str]] = []
    start = spawn.start

    def counted(argv: list[str], *args: object) -> spawn.Running:
        started.append(argv)
        return start(argv, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(spawn, "start", counted)
    monkeypatch.chdir(repo.root / ".beads")
    early.summary()
    asked = len(started)
    assert git.discover().root == repo.root
    assert git.index_blobs(repo.root) == expected
    assert len(started) == asked == 2 and not spawn._EARLY  # (both taken, none asked again)
    early.summary()
    git.discover()
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "other-index"))
    assert git.index_blobs(repo.root) == {}  # another index: asked again
    assert len(started) == 5
    monkeypatch.delenv("GIT_INDEX_FILE")
    early.summary()
    git.discover()
    other = tmp_path / "elsewhere"
    other.mkdir()
    Repo(other).git("init", "-q")
    assert git.index_blobs(other) == {}  # another repository: asked again
    assert len(started) == 8 and not spawn._EARLY


def test_with_a_standard_descriptor_closed(repo: Repo) -> None:
    """A command started with its stdin closed (a pipe could take descriptor 0) asks git
    through subprocess, early questions or not."""
    two_shards(repo)
    for argv in (["summary", "--format", "json"], ["summary", "--by", "agent"], ["validate"]):
        shut = subprocess.run(
            [sys.executable, "-m", "bd_vpt", *argv],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            cwd=repo.root,
            close_fds=True,
            pass_fds=(),
            preexec_fn=lambda: os.close(0),
        )
        kept = subprocess.run(
            [sys.executable, "-m", "bd_vpt", *argv], capture_output=True, cwd=repo.root
        )
        assert (shut.returncode, shut.stdout, shut.stderr) == (
            kept.returncode,
            kept.stdout,
            kept.stderr,
        )
        assert shut.returncode == 0
