"""One sticky comment on a pull request, through GitHub's REST API (stdlib HTTP only).

The comment is found again by a hidden marker in its body: updated when the body changed,
left alone when it did not, created when there is none.

The client trusts nothing it is given or answered: GITHUB_API_URL must be an http(s) URL with no
credentials in it (plain http only to this machine); the token goes only to that origin (a
redirect elsewhere is followed without it); every request has a deadline (a server that drips
its answer cannot hold the job); answers must be JSON of the expected shape; pagination stops at
a cap; 5xx answers, dropped connections and rate limits are retried with backoff; and every
message is scrubbed of the token (in any case, and of credentials inside URLs).
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bd_vpt import __version__
from bd_vpt.errors import EXIT_BAD, EXIT_FAILED, VptError, redact
from bd_vpt.integrations import transport
from bd_vpt.integrations.transport import MAX_BODY_BYTES, MAX_REDIRECTS, Answer, header

API_VERSION = "2022-11-28"
DEFAULT_API = "https://api.github.com"
MAX_WAIT_SECONDS = 60.0  # longer rate-limit waits fail instead of holding the job
DEFAULT_TIMEOUT = 30.0  # seconds for one request: connect, send, headers and body
PER_PAGE = 100
MAX_PAGES = 50  # 5,000 comments: past that a pull request is not one bd-vpt can help
API_HINT = (
    "GITHUB_API_URL must name GitHub's REST API: https://api.github.com, or "
    "https://HOST/api/v3 on GitHub Enterprise Server"
)

_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_TOKEN_TEXT = re.compile(r"[\x21-\x7e]+")


def scrub(text: str, *secrets: str) -> str:
    """text without the token (GITHUB_TOKEN, GH_TOKEN and secrets), in any case, nor any
    credentials in URLs."""
    return redact(text, *secrets)


@dataclass
class Target:
    api: str  # https://api.github.com, or GHES's /api/v3
    repo: str  # owner/name
    pr: int


def api_url(raw: str | None) -> str:
    """GITHUB_API_URL checked: an http(s) URL with a host, no credentials, no query; plain
    http only to this machine (the token would travel in clear)."""
    url = (raw or DEFAULT_API).strip()
    shown = scrub(url)
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise VptError(f"GITHUB_API_URL {shown!r} is not a URL", hint=API_HINT) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise VptError(f"GITHUB_API_URL {shown!r} is not an http(s) URL", hint=API_HINT)
    if "@" in parts.netloc:
        raise VptError(
            f"GITHUB_API_URL {shown!r} holds credentials",
            hint="give the token in GITHUB_TOKEN; the URL is printed in logs",
        )
    if parts.query or parts.fragment:
        raise VptError(f"GITHUB_API_URL {shown!r} has a query or fragment", hint=API_HINT)
    if parts.scheme.lower() == "http" and not transport.is_loopback(parts.hostname):
        raise VptError(
            f"GITHUB_API_URL {shown!r} is plain http: the token would travel in clear",
            hint="use https",
        )
    return url.rstrip("/")


@dataclass
class Client:
    token: str
    api: str
    retries: int = 4
    backoff: float = 1.0
    timeout: float = DEFAULT_TIMEOUT
    log: list[str] = field(default_factory=list)

    def scrub(self, text: str) -> str:
        return scrub(text, self.token)

    def request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Answer:
        url = self.api.rstrip("/") + path
        data = json.dumps(payload).encode() if payload is not None else None
        answer: Answer | None = None
        why = ""
        for attempt in range(self.retries + 1):
            answer, wait, why = self._once(method, url, data)
            if wait is None:
                assert answer is not None
                return answer
            if attempt == self.retries:
                break
            if answer is None or not _is_rate_limit(answer):
                wait *= 2**attempt  # exponential backoff; a rate limit's wait is GitHub's own
            self.log.append(self.scrub(f"{method} {path}: {why}; retrying in {wait:.1f}s"))
            time.sleep(wait)
        if answer is not None:
            raise _failure(method, path, answer, self)
        raise VptError(
            self.scrub(f"{method} {url}: no answer after {self.retries + 1} attempts ({why})"),
            hint="is GITHUB_API_URL right and GitHub reachable from this runner?",
            exit_code=EXIT_FAILED,
        )

    def _once(
        self, method: str, url: str, data: bytes | None
    ) -> tuple[Answer | None, float | None, str]:
        """(answer, None, _) when done; (answer or None, seconds to wait, why) when worth
        retrying."""
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", API_VERSION)
        request.add_header("User-Agent", f"bd-vpt/{__version__}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            answer, dropped = transport.exchange(request, f"Bearer {self.token}", self.timeout)
        except transport.Dropped as exc:
            return None, self.backoff, self.scrub(exc.reason)
        except transport.TooBig:
            raise VptError(
                self.scrub(f"{method} {url}: the answer is larger than {MAX_BODY_BYTES:,} bytes"),
                hint=API_HINT,
            ) from None
        for where in dropped:
            self.log.append(self.scrub(f"redirected to {where}: followed without the token"))
        if answer.status >= 500:
            return answer, self.backoff, f"GitHub said {answer.status}"
        if _is_rate_limit(answer):
            wait = _rate_limit_wait(answer)
            if wait <= MAX_WAIT_SECONDS:
                return answer, wait, f"rate limited ({answer.status})"
        if answer.status >= 300:
            raise _failure(method, url, answer, self)
        return answer, None, ""


def _message(answer: Answer) -> str:
    body = answer.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])[:300]
    return ""


def _is_rate_limit(answer: Answer) -> bool:
    if answer.status == 429:
        return True
    return answer.status == 403 and (
        header(answer, "retry-after") is not None
        or header(answer, "x-ratelimit-remaining") == "0"
        or "secondary rate limit" in _message(answer).lower()
    )


def _rate_limit_wait(answer: Answer) -> float:
    """Seconds GitHub asks us to wait: retry-after, else until x-ratelimit-reset, else 60."""
    after = (header(answer, "retry-after") or "").strip()
    if after.isdigit():
        return float(after)
    reset = (header(answer, "x-ratelimit-reset") or "").strip()
    if reset.isdigit():
        return max(0.0, float(reset) - time.time()) + 1.0
    return MAX_WAIT_SECONDS


PERMISSION_HINTS = {
    401: (
        "the token was refused: GITHUB_TOKEN is missing, expired or not a token",
        "pass `github-token: ${{ github.token }}` (the default) or a valid token in GITHUB_TOKEN",
    ),
    403: (
        "the token may not write pull request comments",
        "give the workflow `permissions: {contents: read, pull-requests: write}`; pull requests "
        "from forks get a read-only token under `on: pull_request` (see docs/github-action.md)",
    ),
    404: (
        "repository or pull request not found, or the token cannot see it",
        "check --repo/--pr (or GITHUB_REPOSITORY and the event); a private repository also "
        "needs `contents: read`",
    ),
}


def _failure(method: str, where: str, answer: Answer, client: Client) -> VptError:
    message = _message(answer)
    if not message and answer.data:
        message = f"a {answer.content_type} answer, not GitHub's JSON"
    if _is_rate_limit(answer):
        reset = header(answer, "x-ratelimit-reset") or "?"
        return VptError(
            client.scrub(f"GitHub rate limit on {method} {where} (resets at epoch {reset})"),
            hint="run the job again later, or use a token with a larger quota",
            exit_code=EXIT_FAILED,
        )
    if answer.status in PERMISSION_HINTS:
        what, hint = PERMISSION_HINTS[answer.status]
        text = f"GitHub said {answer.status} to {method} {where}: {what}"
        if message:
            text += f" ({message})"
        if answer.data and answer.body is None:  # not GitHub's JSON: not GitHub's API?
            hint = API_HINT
        return VptError(client.scrub(text), hint=hint, exit_code=EXIT_BAD)
    if 300 <= answer.status < 400:
        return VptError(
            client.scrub(
                f"GitHub said {answer.status} to {method} {where}: a redirect that was not "
                f"followed (more than {MAX_REDIRECTS} hops, or a {method} redirected)"
            ),
            hint=API_HINT,
            exit_code=EXIT_BAD,
        )
    if answer.status >= 500:
        return VptError(
            client.scrub(
                f"GitHub said {answer.status} to {method} {where}: {message or 'no message'}"
            ),
            hint="GitHub may be having trouble; the job can be re-run",
            exit_code=EXIT_FAILED,
        )
    return VptError(
        client.scrub(f"GitHub said {answer.status} to {method} {where}: {message or 'no message'}"),
        hint=API_HINT,
        exit_code=EXIT_BAD,
    )


def _json_of(answer: Answer, method: str, path: str, client: Client) -> Any:
    try:
        return json.loads(answer.data)
    except (ValueError, UnicodeDecodeError):
        raise VptError(
            client.scrub(
                f"{method} {path}: GitHub's answer ({answer.status}, {answer.content_type}) "
                "is not JSON"
            ),
            hint=API_HINT,
        ) from None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number" if isinstance(value, int | float) else type(value).__name__


def _comment(answer: Answer, method: str, path: str, client: Client) -> dict[str, Any]:
    """A comment object as GitHub gives it: an object with an integer id."""
    body = _json_of(answer, method, path, client)
    if not isinstance(body, dict) or type(body.get("id")) is not int:
        shape = "an object without an id" if isinstance(body, dict) else _kind(body)
        raise VptError(
            client.scrub(f"{method} {path}: expected a comment object, GitHub answered {shape}"),
            hint=API_HINT,
        )
    return body


def _comments(answer: Answer, method: str, path: str, client: Client) -> list[dict[str, Any]]:
    body = _json_of(answer, method, path, client)
    if not isinstance(body, list):
        raise VptError(
            client.scrub(
                f"{method} {path}: expected a list of comments, GitHub answered {_kind(body)}"
            ),
            hint=API_HINT,
        )
    return [c for c in body if isinstance(c, dict) and type(c.get("id")) is int]


def _result(action: str, comment: dict[str, Any]) -> dict[str, Any]:
    url = comment.get("html_url")
    return {"action": action, "id": comment["id"], "url": url if isinstance(url, str) else None}


def target(repo: str | None, pr: int | None) -> Target:
    """--repo/--pr, else GITHUB_REPOSITORY and the pull request of GITHUB_EVENT_PATH."""
    api = api_url(os.environ.get("GITHUB_API_URL"))
    repo = repo or os.environ.get("GITHUB_REPOSITORY")
    if not repo or not _REPO.fullmatch(repo) or any(p in (".", "..") for p in repo.split("/")):
        raise VptError(
            f"no repository: {repo!r} is not OWNER/NAME" if repo else "no repository given",
            hint="pass --repo OWNER/NAME or set GITHUB_REPOSITORY (Actions sets it)",
        )
    if pr is None:
        pr = _event_pr(os.environ.get("GITHUB_EVENT_PATH"))
    return Target(api, repo, pr)


def _event_pr(path: str | None) -> int:
    from bd_vpt.files import read_regular

    hint = "pass --pr N, or run on `pull_request` (GITHUB_EVENT_PATH names the event)"
    if not path:
        raise VptError("no pull request number given", hint=hint)
    try:
        event = json.loads(read_regular(Path(path), what="GITHUB_EVENT_PATH"))
    except ValueError as exc:
        raise VptError(f"{path}: cannot read the event: {exc}", hint=hint) from None
    holders = (
        (event.get("pull_request"), event.get("issue"), event) if isinstance(event, dict) else ()
    )
    for holder in holders:
        if isinstance(holder, dict):
            number = holder.get("number")
            if type(number) is int and number > 0:
                return number
    raise VptError(f"{path}: the event names no pull request", hint=hint)


def token_from_env() -> str:
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        raise VptError(
            "GITHUB_TOKEN is not set",
            hint="in a workflow: `env: {GITHUB_TOKEN: ${{ github.token }}}`",
        )
    if not _TOKEN_TEXT.fullmatch(token):
        raise VptError(
            "GITHUB_TOKEN holds spaces, line breaks or other characters no token has",
            hint="set it to the token alone, e.g. `env: {GITHUB_TOKEN: ${{ github.token }}}`",
        )
    return token


def upsert(client: Client, where: Target, body: str, marker: str) -> dict[str, Any]:
    """Create, update or leave the one comment carrying marker. The body must carry it."""
    if marker not in body:
        body = f"{marker}\n{body}"
    base = f"/repos/{where.repo}/issues"
    mine = None
    for page in range(1, MAX_PAGES + 1):
        path = f"{base}/{where.pr}/comments?per_page={PER_PAGE}&page={page}"
        comments = _comments(client.request("GET", path), "GET", path, client)
        mine = next((c for c in comments if marker in str(c.get("body") or "")), None)
        if mine is not None or len(comments) < PER_PAGE:
            break
    else:
        raise VptError(
            f"{where.repo}#{where.pr} has more than {MAX_PAGES * PER_PAGE:,} comments: "
            "stopped looking for bd-vpt's",
            hint="nothing was written; pass --marker to start a new comment thread elsewhere",
            exit_code=EXIT_FAILED,
        )
    if mine is None:
        path = f"{base}/{where.pr}/comments"
        created = client.request("POST", path, {"body": body})
        return _result("created", _comment(created, "POST", path, client))
    if mine.get("body") == body:
        return _result("unchanged", mine)
    path = f"{base}/comments/{mine['id']}"
    updated = client.request("PATCH", path, {"body": body})
    return _result("updated", _comment(updated, "PATCH", path, client))
