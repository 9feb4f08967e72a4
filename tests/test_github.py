"""`bd-vpt github comment` end to end: a real bd-vpt process against a local stand-in of
GitHub's REST API on 127.0.0.1, started and stopped by each test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bd_vpt.render.markdown import MARKER
from tests.github_standin import Failure, StandIn
from tests.helpers import subprocess_cli

TOKEN = "ghs_s3cretT0kenThatMustNeverBePrinted"


@pytest.fixture
def github(tmp_path: Path) -> Iterator[StandIn]:
    standin = StandIn(token=TOKEN).start()
    yield standin
    standin.stop()


@pytest.fixture
def env(github: StandIn, tmp_path: Path) -> dict[str, str]:
    """What GitHub Actions sets for a `pull_request` job."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": 7}}))
    return {
        **os.environ,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": "acme/app",
        "GITHUB_EVENT_PATH": str(event),
    }


def comment(
    tmp_path: Path, env: dict[str, str], body: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "body.md"
    path.write_text(body)
    return subprocess_cli(
        "github", "comment", "--file", str(path), "--backoff", "0.01", *extra, cwd=tmp_path, env=env
    )


def test_create_then_update_then_leave_alone(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    github.add(7, "LGTM", user="reviewer")  # other people's comments are left alone
    first = comment(tmp_path, env, f"{MARKER}\nfirst body", "--format", "json")
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)
    assert created["action"] == "created" and created["pr"] == 7
    assert github.writes() == [("POST", "/repos/acme/app/issues/7/comments")]
    assert github.comments[7][1]["body"] == f"{MARKER}\nfirst body"

    second = comment(tmp_path, env, f"{MARKER}\nsecond body", "--format", "json")
    assert second.returncode == 0, second.stderr
    updated = json.loads(second.stdout)
    assert updated == {**created, "action": "updated"}  # the same comment id
    assert github.writes()[-1] == ("PATCH", f"/repos/acme/app/issues/comments/{created['id']}")
    assert [c["body"] for c in github.comments[7]] == ["LGTM", f"{MARKER}\nsecond body"]

    writes = len(github.writes())
    third = comment(tmp_path, env, f"{MARKER}\nsecond body")
    assert third.returncode == 0, third.stderr
    assert third.stdout.strip() == f"unchanged comment {created['id']} on acme/app#7"
    assert len(github.writes()) == writes  # no write when nothing changed
    assert set(github.authorizations) == {f"Bearer {TOKEN}"}


def test_a_502_is_retried(github: StandIn, env: dict[str, str], tmp_path: Path) -> None:
    github.failures = [Failure(502, "Bad Gateway")]
    result = comment(tmp_path, env, f"{MARKER}\nbody")
    assert result.returncode == 0, result.stderr
    assert "retrying" in result.stderr
    assert github.requests[:2] == [("GET", "/repos/acme/app/issues/7/comments")] * 2
    assert len(github.comments[7]) == 1


def test_a_rate_limit_waits_and_retries(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    limit = {"x-ratelimit-remaining": "0", "retry-after": "0"}
    github.failures = [
        Failure(403, "API rate limit exceeded", limit),
        Failure(429, "slow down", {"retry-after": "0"}),
    ]
    result = comment(tmp_path, env, f"{MARKER}\nbody")
    assert result.returncode == 0, result.stderr
    assert github.requests.count(("GET", "/repos/acme/app/issues/7/comments")) == 3
    assert len(github.comments[7]) == 1


def test_403_names_the_missing_permission(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    github.failures = [Failure(403, f"Resource not accessible by integration {TOKEN}")]
    result = comment(tmp_path, env, f"{MARKER}\nbody")
    assert result.returncode == 2
    assert "403" in result.stderr and "pull-requests: write" in result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr + result.stdout  # scrubbed even when echoed back
    assert github.writes() == []


def test_401_and_404_are_clear(github: StandIn, env: dict[str, str], tmp_path: Path) -> None:
    bad = comment(tmp_path, {**env, "GITHUB_TOKEN": "wrong"}, "body")
    assert bad.returncode == 2 and "401" in bad.stderr and "GITHUB_TOKEN" in bad.stderr
    missing = comment(tmp_path, {**env, "GITHUB_REPOSITORY": "acme/gone"}, "body")
    assert (
        missing.returncode == 2 and "404" in missing.stderr and "contents: read" in missing.stderr
    )


def test_own_comment_found_past_the_first_page(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    for i in range(150):
        github.add(7, f"chatter {i}")
    mine = github.add(7, f"{MARKER}\nold", user="bot")
    result = comment(tmp_path, env, "new body without the marker")
    assert result.returncode == 0, result.stderr
    assert f"updated comment {mine['id']}" in result.stdout
    assert mine["body"] == f"{MARKER}\nnew body without the marker"  # marker added


def test_flags_override_the_environment(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    bare = {k: v for k, v in env.items() if k not in ("GITHUB_REPOSITORY", "GITHUB_EVENT_PATH")}
    result = comment(tmp_path, bare, "body", "--repo", "acme/app", "--pr", "9")
    assert result.returncode == 0, result.stderr
    assert 9 in github.comments


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("GITHUB_TOKEN", "GITHUB_TOKEN is not set"),
        ("GITHUB_REPOSITORY", "no repository given"),
        ("GITHUB_EVENT_PATH", "no pull request number given"),
    ],
)
def test_missing_context_is_a_clear_error(
    github: StandIn, env: dict[str, str], tmp_path: Path, drop: str, message: str
) -> None:
    result = comment(tmp_path, {k: v for k, v in env.items() if k != drop}, "body")
    assert result.returncode == 2
    assert message in result.stderr and "hint:" in result.stderr
    assert github.requests == []


def test_the_body_can_come_from_standard_input(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bd_vpt", "github", "comment", "--file", "-"],
        input="piped body\n",
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert github.comments[7][0]["body"] == f"{MARKER}\npiped body\n"


def test_a_long_rate_limit_or_lasting_5xx_fails_with_exit_1(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    github.failures = [Failure(429, "slow down", {"retry-after": "3600"})]
    limited = comment(tmp_path, env, "body")
    assert limited.returncode == 1 and "rate limit" in limited.stderr
    assert len(github.requests) == 1  # did not sit out the hour
    github.failures = [Failure(502), Failure(503)]
    down = comment(tmp_path, env, "body", "--retries", "1")
    assert down.returncode == 1 and "503" in down.stderr and "re-run" in down.stderr
    assert github.writes() == []
