"""`bd-vpt github comment` against a hostile GitHub stand-in on 127.0.0.1: redirects to other
hosts, dripping and silent servers, endless pages, HTML pages, wrong shapes, a token echoed
back. Each case: the documented exit code, a message naming the problem, no traceback, no
token printed, and a bounded number of requests in a bounded time."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.github_standin import Drip, Failure, Raw, Redirect, Silent, StandIn
from tests.helpers import subprocess_cli

TOKEN = "ghs_s3cretT0kenThatMustNeverBePrinted"
LISTING = ("GET", "/repos/acme/app/issues/7/comments")


@pytest.fixture
def github() -> Iterator[StandIn]:
    standin = StandIn(token=TOKEN).start()
    yield standin
    standin.stop()


@pytest.fixture
def elsewhere() -> Iterator[StandIn]:
    """Another server (another origin: its own port) that must never see the token."""
    standin = StandIn(token=TOKEN).start()
    yield standin
    standin.stop()


@pytest.fixture
def env(github: StandIn, tmp_path: Path) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": 7}}))
    return {
        **os.environ,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": "acme/app",
        "GITHUB_EVENT_PATH": str(event),
    }


def comment(tmp_path: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "body.md"
    path.write_text("the body")
    return subprocess_cli(
        "github", "comment", "--file", str(path), "--backoff", "0.01", *extra, cwd=tmp_path, env=env
    )


def clean(result: subprocess.CompletedProcess[str]) -> str:
    """stderr, once it is known to hold no traceback and no secret."""
    text = result.stdout + result.stderr
    assert "Traceback" not in text
    assert TOKEN.lower() not in text.lower()
    return result.stderr


def test_a_redirect_to_another_host_never_carries_the_token(
    github: StandIn, elsewhere: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    github.failures = [Redirect(f"{elsewhere.url}/repos/acme/app/issues/7/comments")]
    result = comment(tmp_path, env, "--retries", "0")
    err = clean(result)
    assert elsewhere.requests == [LISTING]  # followed...
    assert elsewhere.authorizations == [""]  # ...without the token
    assert result.returncode == 2 and "401" in err
    assert "without the token" in err
    assert github.writes() == [] and elsewhere.writes() == []


def test_a_redirect_to_another_host_name_drops_the_token(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    # same server, same port, another name: another origin as far as a browser would say
    github.failures = [Redirect(f"http://localhost:{github.port}/repos/acme/app/issues/7/comments")]
    result = comment(tmp_path, env, "--retries", "0")
    clean(result)
    assert github.authorizations == [f"Bearer {TOKEN}", ""]
    assert result.returncode == 2 and github.writes() == []


def test_a_redirect_within_the_api_keeps_the_token(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    github.failures = [Redirect(f"{github.url}/repos/acme/app/issues/7/comments", status=301)]
    result = comment(tmp_path, env)
    clean(result)
    assert result.returncode == 0, result.stderr
    assert github.authorizations[:2] == [f"Bearer {TOKEN}"] * 2
    assert len(github.comments[7]) == 1


def test_a_redirect_loop_stops(github: StandIn, env: dict[str, str], tmp_path: Path) -> None:
    here = f"{github.url}/repos/acme/app/issues/7/comments"
    github.failures = [Redirect(f"{here}?hop={i}") for i in range(40)]
    result = comment(tmp_path, env, "--retries", "0")
    err = clean(result)
    assert result.returncode == 2 and "redirect" in err
    assert len(github.requests) <= 7  # the first request and at most 5 hops (+1 loop check)


@pytest.mark.parametrize(
    "act",
    [Drip(0.1, 300), Drip(0.1, 300, headers=True), Silent(8.0)],
    ids=["body", "headers", "silent"],
)
def test_a_dripping_or_silent_server_times_out(
    github: StandIn, env: dict[str, str], tmp_path: Path, act: object
) -> None:
    github.failures = [act, act]  # type: ignore[list-item]
    started = time.monotonic()
    result = comment(tmp_path, env, "--timeout", "1", "--retries", "1")
    elapsed = time.monotonic() - started
    err = clean(result)
    assert result.returncode == 1
    assert "no complete answer within 1s" in err and "retrying" in err
    assert elapsed < 6  # two attempts of a second each, not 30 s of drip
    assert github.writes() == []


def test_endless_full_pages_stop_at_the_cap(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    github.endless = True
    result = comment(tmp_path, env)
    err = clean(result)
    assert result.returncode == 1 and "more than 5,000 comments" in err
    assert len(github.requests) == 50 and github.writes() == []


@pytest.mark.parametrize(
    ("act", "code", "words"),
    [
        (
            Raw(200, b"<html><body>Sign in to GitHub</body></html>"),
            2,
            "(200, text/html) is not JSON",
        ),
        (
            Raw(200, b"{}", "application/json"),
            2,
            "expected a list of comments, GitHub answered an object",
        ),
        (Raw(200, b"null", "application/json"), 2, "GitHub answered null"),
        (Raw(404, b"<html>Not Found</html>"), 2, "a text/html answer, not GitHub's JSON"),
    ],
    ids=["html-page", "object-for-list", "null", "html-404"],
)
def test_answers_of_the_wrong_kind_are_clear_errors(
    github: StandIn, env: dict[str, str], tmp_path: Path, act: Raw, code: int, words: str
) -> None:
    github.failures = [act]
    result = comment(tmp_path, env)
    err = clean(result)
    assert result.returncode == code and words in err
    assert "GITHUB_API_URL" in err  # the hint says where to look
    assert github.writes() == []


def test_a_list_where_the_created_comment_belongs(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    github.failures = [Raw(200, b"[]", "application/json"), Raw(201, b"[1, 2]", "application/json")]
    result = comment(tmp_path, env)
    err = clean(result)
    assert result.returncode == 2
    assert "POST /repos/acme/app/issues/7/comments: expected a comment object" in err
    assert "a list" in err


def test_an_html_5xx_is_retried_then_named_not_dumped(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    page = b"<html><body>" + b"Unicorn! " * 500 + b"</body></html>"
    github.failures = [Raw(502, page), Raw(503, page)]
    result = comment(tmp_path, env, "--retries", "1")
    err = clean(result)
    assert result.returncode == 1 and "503" in err and "text/html" in err
    assert "Unicorn" not in err
    assert github.requests == [LISTING, LISTING]


def test_a_body_shorter_than_its_length_is_a_dropped_answer(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    github.failures = [Raw(200, b"[", "application/json", length=5000)]
    result = comment(tmp_path, env)
    clean(result)
    assert result.returncode == 0, result.stderr  # retried, then the real answer
    assert "retrying" in result.stderr
    assert len(github.comments[7]) == 1


def test_an_answer_too_large_is_refused(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    github.failures = [Raw(200, b"[" + b" " * (11 * 1024 * 1024) + b"]", "application/json")]
    result = comment(tmp_path, env)
    err = clean(result)
    assert result.returncode == 2 and "larger than 10,485,760 bytes" in err


def test_the_token_echoed_in_any_case_is_scrubbed(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    github.failures = [
        Failure(
            403, f"token {TOKEN.upper()} may not; see {github.url.replace('//', f'//x:{TOKEN}@')}"
        )
    ]
    result = comment(tmp_path, env)
    err = clean(result)
    assert result.returncode == 2 and "***" in err


def test_a_secondary_rate_limit_waits_and_retries(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    reset = {"x-ratelimit-reset": str(int(time.time()) - 5)}
    github.failures = [Failure(403, "You have exceeded a secondary rate limit.", reset)]
    result = comment(tmp_path, env)
    clean(result)
    assert result.returncode == 0, result.stderr
    assert github.requests.count(LISTING) == 2


def test_lasting_5xx_fails_after_the_retries_with_backoff(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    github.failures = [Failure(500)] * 4
    started = time.monotonic()
    result = comment(tmp_path, env, "--retries", "3")
    err = clean(result)
    assert result.returncode == 1 and "500" in err and "re-run" in err
    assert err.count("retrying") == 3
    assert ("0.0s" in err) and time.monotonic() - started < 10
    assert github.requests == [LISTING] * 4


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("not a url", "is not an http(s) URL"),
        ("ftp://127.0.0.1/", "is not an http(s) URL"),
        ("http://example.com", "plain http"),
        ("https://api.github.com/?x=1", "query"),
        ("https://127.0.0.1:port/", "is not a URL"),
    ],
)
def test_a_bad_api_url_is_refused_before_any_request(
    github: StandIn, env: dict[str, str], tmp_path: Path, url: str, words: str
) -> None:
    result = comment(tmp_path, {**env, "GITHUB_API_URL": url})
    err = clean(result)
    assert result.returncode == 2 and words in err and "GITHUB_API_URL" in err
    assert github.requests == []


def test_a_token_inside_the_api_url_is_never_printed(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    secret = "ghp_AnotherSecretHeldInTheUrl0123456789"
    url = github.url.replace("//", f"//x-access-token:{secret}@")
    result = comment(tmp_path, {**env, "GITHUB_API_URL": url})
    err = clean(result)
    assert secret not in result.stdout + err
    assert result.returncode == 2 and "holds credentials" in err
    assert github.requests == []


def test_a_closed_port_gives_up_quickly_without_a_secret(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = comment(tmp_path, {**env, "GITHUB_API_URL": "http://127.0.0.1:9"}, "--retries", "1")
    err = clean(result)
    assert result.returncode == 1 and "no answer after 2 attempts" in err


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("GITHUB_TOKEN", "abc\ndef", "line breaks"),
        ("GITHUB_REPOSITORY", "a/b/c", "is not OWNER/NAME"),
        ("GITHUB_REPOSITORY", "acme/../x", "is not OWNER/NAME"),
        ("GITHUB_REPOSITORY", "acme/app?x=1", "is not OWNER/NAME"),
    ],
)
def test_bad_environment_is_refused_before_any_request(
    github: StandIn, env: dict[str, str], tmp_path: Path, name: str, value: str, words: str
) -> None:
    result = comment(tmp_path, {**env, name: value})
    err = clean(result)
    assert result.returncode == 2 and words in err
    assert github.requests == []


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ([], "names no pull request"),
        ({"pull_request": {"number": True}}, "names no pull request"),
        ({"pull_request": {"number": 0}}, "names no pull request"),
        ({"number": "7"}, "names no pull request"),
    ],
)
def test_an_event_without_a_real_number(
    github: StandIn, env: dict[str, str], tmp_path: Path, event: object, words: str
) -> None:
    path = tmp_path / "odd-event.json"
    path.write_text(json.dumps(event))
    result = comment(tmp_path, {**env, "GITHUB_EVENT_PATH": str(path)})
    err = clean(result)
    assert result.returncode == 2 and words in err
    assert github.requests == []


def test_an_event_path_that_is_a_fifo_does_not_hang(
    github: StandIn, env: dict[str, str], tmp_path: Path
) -> None:
    fifo = tmp_path / "event.fifo"
    os.mkfifo(fifo)
    result = comment(tmp_path, {**env, "GITHUB_EVENT_PATH": str(fifo)})
    err = clean(result)
    assert result.returncode == 2 and "FIFO" in err and str(fifo) in err
