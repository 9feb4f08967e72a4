"""Pull request commands: `pr` (the VPT of a pull request) and `github comment` (one
sticky comment)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bd_vpt.cli.options import Finite, cli, format_option, show, strict_option, warn_all
from bd_vpt.errors import EXIT_FAILED, VptError


@cli.command()
@click.option("--base", required=True, help="The target branch's revision, e.g. origin/main.")
@click.option("--head", default="HEAD", show_default=True, help="The pull request's revision.")
@click.option(
    "--baseline-days",
    type=click.IntRange(1, 3650),
    default=30,
    show_default=True,
    help="Trailing days of the base branch's ledger to compare with.",
)
@click.option(
    "--fail-on-alert", is_flag=True, help="Exit 1 (after printing) when a hard alert fires."
)
@click.option("--no-cache", is_flag=True, help="Parse every blob again (ignore the local cache).")
@strict_option
@format_option("markdown", "json")
def pr(
    base: str,
    head: str,
    baseline_days: int,
    fail_on_alert: bool,
    no_cache: bool,
    strict: bool,
    fmt: str,
) -> None:
    """Value Per Token of a pull request: what base...head added, next to the base branch.

    The records the PR adds (as `--range base...head`), the beads it touched (title,
    priority, status, tokens, cost, result), its BC/MT and cost per completion against the
    base branch's trailing baseline (▲/▼), alerts from `check` on the ledger at head, and a
    weekly BC/MT chart. Weights, rates and thresholds come from the base branch's config:
    a pull request cannot change how it is judged. Markdown is what the GitHub Action posts.

    \b
    Examples:
      bd-vpt pr --base origin/main --head HEAD > comment.md
      bd-vpt pr --base main --format json | jq .comparison
      bd-vpt pr --base "$BASE_SHA" --head "$HEAD_SHA" --fail-on-alert
    """
    from bd_vpt.integrations.pr_plain import run

    document = run(base, head, baseline_days, no_cache, strict, fmt)
    if fail_on_alert and document["hard_alerts"]:
        click.echo(f"bd-vpt: {document['hard_alerts']} hard alert(s)", err=True)
        raise click.exceptions.Exit(EXIT_FAILED)


@cli.group()
def github() -> None:
    """GitHub: keep one sticky bd-vpt comment on a pull request.

    \b
    Example (in a workflow step; see docs/github-action.md):
      bd-vpt pr --base "$BASE" --head "$HEAD" > "$RUNNER_TEMP/vpt.md"
      bd-vpt github comment --file "$RUNNER_TEMP/vpt.md"
    """


@github.command("comment")
@click.option(
    "--file",
    "body_file",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="The comment body (markdown); - for standard input.",
)
@click.option("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY).")
@click.option(
    "--pr",
    "number",
    type=click.IntRange(1),
    help="Pull request number (default: from $GITHUB_EVENT_PATH).",
)
@click.option(
    "--marker",
    help="Hidden text that identifies the comment (default: bd-vpt's); one comment per marker.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=4,
    show_default=True,
    help="Retries of a 5xx, a rate limit or a dropped connection.",
)
@click.option(
    "--backoff",
    type=Finite(0, 60),
    default=1.0,
    show_default=True,
    help="Seconds before the first retry of a 5xx or dropped connection; doubled each time.",
)
@click.option(
    "--timeout",
    type=Finite(0.1, 600),
    default=30.0,
    show_default=True,
    help="Seconds one request may take in all: connect, send, the whole answer.",
)
@format_option("text", "json")
def github_comment(
    body_file: str,
    repo: str | None,
    number: int | None,
    marker: str | None,
    retries: int,
    backoff: float,
    timeout: float,
    fmt: str,
) -> None:
    """Create or update this tool's one comment on a pull request (no-op when unchanged).

    The comment is found by a hidden marker in its body. Reads GITHUB_TOKEN (never
    printed), GITHUB_API_URL, GITHUB_REPOSITORY and GITHUB_EVENT_PATH when flags are
    absent. 5xx answers and rate limits are retried with backoff; 401, 403 and 404 stop
    with exit 2 and the permission that is missing. The token goes only to GITHUB_API_URL's
    host (a redirect elsewhere is followed without it); an answer that is not GitHub's JSON
    is exit 2; more than 5,000 comments, or no answer after the retries, is exit 1.

    \b
    Examples:
      GITHUB_TOKEN=... bd-vpt github comment --file comment.md --repo acme/app --pr 42
      bd-vpt pr --base origin/main | bd-vpt github comment --file -
    """
    from bd_vpt.integrations import github as gh
    from bd_vpt.render.markdown import MARKER
    from bd_vpt.render.report import Report

    body = _read_body(body_file)
    where = gh.target(repo, number)
    client = gh.Client(
        gh.token_from_env(), where.api, retries=retries, backoff=backoff, timeout=timeout
    )
    try:
        result = gh.upsert(client, where, body, marker or MARKER)
    finally:
        warn_all(client.log)
    line = f"{result['action']} comment {result['id']} on {where.repo}#{where.pr}"
    show(Report({**result, "repo": where.repo, "pr": where.pr}, after=[line]), fmt)


def _read_body(body_file: str) -> str:
    if body_file == "-":
        return sys.stdin.read()
    try:
        return Path(body_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VptError(
            f"{body_file}: cannot read the comment body: {exc}",
            hint="write it first, e.g. bd-vpt pr --base main > comment.md",
        ) from None
