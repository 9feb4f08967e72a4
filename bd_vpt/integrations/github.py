"""One sticky comment on a pull request, through GitHub's REST API (stdlib HTTP only).

The comment is found again by a hidden marker in its body: updated when the body changed,
left alone when it did not, created when there is none. 5xx answers, rate limits and
dropped connections are retried with exponential backoff. The token is sent in a header
and never printed: every message is scrubbed of it.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bd_vpt import __version__
from bd_vpt.errors import EXIT_BAD, EXIT_FAILED, VptError

API_VERSION = "2022-11-28"
MAX_WAIT_SECONDS = 60.0  # longer rate-limit waits fail instead of holding the job


@dataclass
class Target:
    api: str  # https://api.github.com, or GHES's /api/v3
    repo: str  # owner/name
    pr: int


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Client:
    token: str
    api: str
    retries: int = 4
    backoff: float = 1.0
    log: list[str] = field(default_factory=list)

    def request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Answer:
        url = self.api.rstrip("/") + path
        data = json.dumps(payload).encode() if payload is not None else None
        for attempt in range(self.retries + 1):
            answer, wait = self._once(method, url, data)
            if wait is None:
                assert answer is not None
                return answer
            if attempt == self.retries:
                break
            if answer is None or not _is_rate_limit(answer):
                wait *= 2**attempt  # exponential backoff; a rate limit's wait is GitHub's own
            self.log.append(f"{method} {path}: retrying in {wait:.1f}s")
            time.sleep(wait)
        if answer is not None:
            raise _failure(method, path, answer, self.token)
        raise VptError(
            f"{method} {url}: no answer after {self.retries + 1} attempts",
            hint="is GITHUB_API_URL right and GitHub reachable from this runner?",
            exit_code=EXIT_FAILED,
        )

    def _once(
        self, method: str, url: str, data: bytes | None
    ) -> tuple[Answer | None, float | None]:
        """(answer, None) when done; (answer or None, seconds to wait) when worth retrying."""
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", API_VERSION)
        request.add_header("User-Agent", f"bd-vpt/{__version__}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Answer(response.status, _json(response.read()), dict(response.headers)), None
        except urllib.error.HTTPError as exc:
            answer = Answer(exc.code, _json(exc.read()), dict(exc.headers))
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            return None, self.backoff
        if answer.status >= 500:
            return answer, self.backoff
        if _is_rate_limit(answer):
            wait = _rate_limit_wait(answer)
            if wait <= MAX_WAIT_SECONDS:
                return answer, wait
        raise _failure(method, url, answer, self.token)


def _json(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def _header(answer: Answer, name: str) -> str | None:
    for key, value in answer.headers.items():
        if key.lower() == name:
            return value
    return None


def _is_rate_limit(answer: Answer) -> bool:
    if answer.status == 429:
        return True
    return answer.status == 403 and (
        _header(answer, "retry-after") is not None
        or _header(answer, "x-ratelimit-remaining") == "0"
    )


def _rate_limit_wait(answer: Answer) -> float:
    """Seconds GitHub asks us to wait: retry-after, else until x-ratelimit-reset, else 60."""
    after = _header(answer, "retry-after")
    if after is not None and after.isdigit():
        return float(after)
    reset = _header(answer, "x-ratelimit-reset")
    if reset is not None and reset.isdigit():
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


def _failure(method: str, where: str, answer: Answer, token: str) -> VptError:
    message = ""
    if isinstance(answer.body, dict) and isinstance(answer.body.get("message"), str):
        message = answer.body["message"]
    if _is_rate_limit(answer):
        reset = _header(answer, "x-ratelimit-reset") or "?"
        return VptError(
            f"GitHub rate limit on {method} {where} (resets at epoch {reset})",
            hint="run the job again later, or use a token with a larger quota",
            exit_code=EXIT_FAILED,
        )
    if answer.status in PERMISSION_HINTS:
        what, hint = PERMISSION_HINTS[answer.status]
        text = f"GitHub said {answer.status} to {method} {where}: {what}"
        if message:
            text += f" ({message})"
        return VptError(scrub(text, token), hint=hint, exit_code=EXIT_BAD)
    return VptError(
        scrub(f"GitHub said {answer.status} to {method} {where}: {message or 'no message'}", token),
        hint="GitHub may be having trouble; the job can be re-run",
        exit_code=EXIT_FAILED,
    )


def scrub(text: str, token: str) -> str:
    return text.replace(token, "***") if token else text


def target(repo: str | None, pr: int | None) -> Target:
    """--repo/--pr, else GITHUB_REPOSITORY and the pull request of GITHUB_EVENT_PATH."""
    api = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    repo = repo or os.environ.get("GITHUB_REPOSITORY")
    if not repo or repo.count("/") != 1 or not all(repo.split("/")):
        raise VptError(
            f"no repository: {repo!r}" if repo else "no repository given",
            hint="pass --repo OWNER/NAME or set GITHUB_REPOSITORY (Actions sets it)",
        )
    if pr is None:
        pr = _event_pr(os.environ.get("GITHUB_EVENT_PATH"))
    return Target(api, repo, pr)


def _event_pr(path: str | None) -> int:
    hint = "pass --pr N, or run on `pull_request` (GITHUB_EVENT_PATH names the event)"
    if not path:
        raise VptError("no pull request number given", hint=hint)
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise VptError(f"{path}: cannot read the event: {exc}", hint=hint) from None
    for holder in (event.get("pull_request"), event.get("issue"), event):
        if isinstance(holder, dict) and isinstance(holder.get("number"), int):
            return int(holder["number"])
    raise VptError(f"{path}: the event names no pull request", hint=hint)


def token_from_env() -> str:
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        raise VptError(
            "GITHUB_TOKEN is not set",
            hint="in a workflow: `env: {GITHUB_TOKEN: ${{ github.token }}}`",
        )
    return token


def upsert(client: Client, where: Target, body: str, marker: str) -> dict[str, Any]:
    """Create, update or leave the one comment carrying marker. The body must carry it."""
    if marker not in body:
        body = f"{marker}\n{body}"
    base = f"/repos/{where.repo}/issues"
    mine = None
    page = 1
    while mine is None:
        answer = client.request("GET", f"{base}/{where.pr}/comments?per_page=100&page={page}")
        comments = answer.body if isinstance(answer.body, list) else []
        mine = next(
            (c for c in comments if isinstance(c, dict) and marker in (c.get("body") or "")),
            None,
        )
        if len(comments) < 100:
            break
        page += 1
    if mine is None:
        created = client.request("POST", f"{base}/{where.pr}/comments", {"body": body}).body
        return {"action": "created", "id": created.get("id"), "url": created.get("html_url")}
    if mine.get("body") == body:
        return {"action": "unchanged", "id": mine.get("id"), "url": mine.get("html_url")}
    updated = client.request("PATCH", f"{base}/comments/{mine['id']}", {"body": body}).body
    return {"action": "updated", "id": updated.get("id"), "url": updated.get("html_url")}
