"""The GitHub Action: actionlint on the workflows (which checks action.yml through
`uses: ./`), shellcheck on the action's own shell steps, no expression inside a script,
and the steps' scripts run for real against a repo and the local GitHub stand-in."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bd_vpt.render.markdown import MARKER
from tests.github_standin import StandIn
from tests.helpers import Repo

CHECKOUT = Path(__file__).resolve().parents[1]
ACTION = CHECKOUT / "action.yml"
WORKFLOWS = [
    *sorted((CHECKOUT / ".github/workflows").glob("*.yml")),
    *sorted((CHECKOUT / "docs/examples").glob("*.yml")),
]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def tool(name: str) -> str:
    """A linter from the dev extras: beside this Python (the venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


def steps() -> list[dict[str, Any]]:
    document: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    found: list[dict[str, Any]] = document["runs"]["steps"]
    return found


def test_workflows_and_action_pass_actionlint() -> None:
    assert any("uses: ./\n" in w.read_text() for w in WORKFLOWS)  # lints action.yml too
    result = subprocess.run(
        [tool("actionlint"), f"-shellcheck={tool('shellcheck')}", *map(str, WORKFLOWS)],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("step", [s for s in steps() if "run" in s], ids=lambda s: s["name"])
def test_action_shell_steps_pass_shellcheck(step: dict[str, Any], tmp_path: Path) -> None:
    script = tmp_path / "step.sh"
    script.write_text("#!/usr/bin/env bash\n" + step["run"])
    # every optional check on (quoting, braces, [[ ]]), except SC2154: the runner and the
    # step's env: block set the variables the script reads
    result = subprocess.run(
        [tool("shellcheck"), "--enable=all", "--exclude=SC2154", "--shell=bash", str(script)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
    assert step["shell"] == "bash"


def test_untrusted_values_reach_scripts_only_through_env() -> None:
    for step in steps():
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            for value in (step.get("env") or {}).values():
                assert EXPRESSION.fullmatch(str(value)), value  # a whole expression, nothing else


class Runner:
    """Runs the action's steps as the runner would: each `run` in bash with the step's env
    (expressions resolved from inputs and earlier steps' outputs), skipping `if: false`.
    setup-python and the install step are not run: bd-vpt is already installed here."""

    def __init__(self, repo: Repo, inputs: dict[str, str], env: dict[str, str]) -> None:
        defaults = yaml.safe_load(ACTION.read_text())["inputs"]
        self.inputs = {k: str(v.get("default", "")) for k, v in defaults.items()}
        self.inputs.update(inputs)
        self.repo = repo
        self.temp = repo.root.parent / "runner-temp"
        self.temp.mkdir(exist_ok=True)
        self.summary = self.temp / "step-summary.md"
        self.outputs: dict[str, dict[str, str]] = {}
        self.env = {
            **env,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_STEP_SUMMARY": str(self.summary),
        }

    def value(self, expression: str) -> str:
        match = EXPRESSION.fullmatch(expression)
        if not match:
            return expression
        name = match.group(1)
        if name.startswith("inputs."):
            return self.inputs[name.removeprefix("inputs.")]
        if name.startswith("steps."):
            _, step, _, key = name.split(".")
            return self.outputs.get(step, {}).get(key, "")
        if name == "github.action_path":
            return str(CHECKOUT)
        raise AssertionError(f"the stand-in runner does not know {name}")

    def condition(self, text: str) -> bool:
        """The action's `if:`s: comparisons of inputs and outputs joined by &&."""
        for part in text.split("&&"):
            left, op, right = re.fullmatch(r"\s*(\S+)\s*(==|!=)\s*'([^']*)'\s*", part).groups()  # type: ignore[union-attr]
            if (self.value("${{ " + left + " }}") == right) != (op == "=="):
                return False
        return True

    def run(self) -> Iterator[tuple[str, subprocess.CompletedProcess[str]]]:
        for step in steps():
            if "run" not in step or step["name"].startswith("Install"):
                continue
            if "if" in step and not self.condition(step["if"]):
                continue
            output = self.temp / f"output-{step.get('id', 'step')}"
            output.write_text("")
            env = {k: self.value(str(v)) for k, v in (step.get("env") or {}).items()}
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=self.repo.root,
                env={**self.env, **env, "GITHUB_OUTPUT": str(output)},
                capture_output=True,
                text=True,
            )
            if "id" in step:
                pairs = (line.split("=", 1) for line in output.read_text().splitlines())
                self.outputs[step["id"]] = dict(pairs)
            yield step["name"], proc
            if proc.returncode != 0:
                return


@pytest.fixture
def github() -> Iterator[StandIn]:
    standin = StandIn(token="ghs_action_token").start()
    yield standin
    standin.stop()


def runner_env(github: StandIn, tmp_path: Path) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text('{"pull_request": {"number": 12}}')
    return {
        **os.environ,
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": "acme/app",
        "GITHUB_EVENT_PATH": str(event),
    }


def test_the_action_comments_summarises_and_fails_on_hard_alerts(
    branched: Repo, github: StandIn, tmp_path: Path
) -> None:
    branched.git("checkout", "-q", "main")
    config = branched.root / ".beads/vpt/config.toml"
    config.write_text(
        config.read_text().replace("[thresholds]\n", '[thresholds]\nhard = ["reopen_rate"]\n')
    )
    branched.commit_all("reopens are a hard line")
    branched.git("checkout", "-q", "feature")
    inputs = {
        "github-token": "ghs_action_token",
        "base": branched.git("rev-parse", "main").strip(),
        "head": branched.git("rev-parse", "feature").strip(),
        "fail-on-alert": "true",
    }
    runner = Runner(branched, inputs, runner_env(github, tmp_path))
    ran = dict(runner.run())
    assert list(ran) == [
        "Render the pull request's VPT",
        "Add it to the job summary",
        "Post or update the sticky comment",
        "Fail on hard alerts",
    ]
    for name in list(ran)[:3]:
        assert ran[name].returncode == 0, (name, ran[name].stderr)
    assert runner.outputs["render"]["hard-alerts"] == "true"
    body = Path(runner.outputs["render"]["body-file"]).read_text()
    assert body.startswith(MARKER) and "reopen_rate" in body
    assert runner.summary.read_text() == body
    assert [c["body"] for c in github.comments[12]] == [body]
    failed = ran["Fail on hard alerts"]
    assert failed.returncode == 1 and "::error title=bd-vpt::" in failed.stdout


def test_the_action_without_a_pull_request_says_so(
    branched: Repo, github: StandIn, tmp_path: Path
) -> None:
    runner = Runner(branched, {"base": "", "head": ""}, runner_env(github, tmp_path))
    ran = dict(runner.run())
    render = ran["Render the pull request's VPT"]
    assert render.returncode == 2
    assert "::error title=bd-vpt::no base or head revision" in render.stdout
    assert github.requests == []


def test_comment_false_renders_without_posting(
    branched: Repo, github: StandIn, tmp_path: Path
) -> None:
    inputs = {"base": "main", "head": "feature", "comment": "false"}
    ran = dict(Runner(branched, inputs, runner_env(github, tmp_path)).run())
    assert "Post or update the sticky comment" not in ran
    assert "Fail on hard alerts" not in ran
    assert all(proc.returncode == 0 for proc in ran.values())
    assert github.requests == []


def test_the_dashboard_input_renders_the_page_to_attach(
    branched: Repo, github: StandIn, tmp_path: Path
) -> None:
    inputs = {"base": "main", "head": "feature", "comment": "false", "dashboard": "true"}
    runner = Runner(branched, inputs, runner_env(github, tmp_path))
    ran = dict(runner.run())
    assert ran["Render the dashboard"].returncode == 0, ran["Render the dashboard"].stderr
    page = Path(runner.outputs["dashboard"]["file"])
    assert page.parent == Path(runner.outputs["dashboard"]["folder"])
    assert page.read_text().startswith("<!DOCTYPE html>")
    attach = next(s for s in steps() if s["name"] == "Attach the dashboard")
    assert attach["uses"].startswith("actions/upload-artifact@")
    assert attach["with"]["path"] == "${{ steps.dashboard.outputs.folder }}"
    assert "Render the dashboard" not in dict(
        Runner(
            branched,
            {"base": "main", "head": "feature", "comment": "false"},
            runner_env(github, tmp_path),
        ).run()
    )
