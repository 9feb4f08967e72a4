"""What the git hooks do. `python -m bd_vpt.hookrun pre-commit|post-merge|validate` is the
light entry point the installed hooks call (no click: hooks run on every commit).

pre-commit: capture (never blocks), move spooled records into the capture shard and stage
it with `git add` (a subprocess, so GIT_INDEX_FILE is honoured), then validate the staged
ledger lines (blocks the commit on a bad one). post-merge: integrity of what the merge
brought and a short note of its figures; it never modifies a file.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson

from bd_vpt.errors import EXIT_FAILED, EXIT_OK, Problem, VptError
from bd_vpt.ledger import store as ledger
from bd_vpt.ledger.records import check
from bd_vpt.repo import RepoInfo, discover, git

SECRET = re.compile(
    rb"sk-ant-[A-Za-z0-9_\-]{16,}"  # Anthropic
    rb"|sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"  # OpenAI
    rb"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub
    rb"|AKIA[0-9A-Z]{16}"  # AWS access key id
    rb"|xox[abpr]-[A-Za-z0-9\-]{10,}"  # Slack
)


def say(text: str) -> None:
    print(f"bd-vpt: {text}", file=sys.stderr)


def capture_shard(info: RepoInfo, actor: str) -> Path:
    """The shard only hooks write: the writer's shard name with `.capture`."""
    plain = ledger.shard_path(info.root, actor)
    return plain.with_name(plain.stem + ".capture.jsonl")


def partial_commit() -> bool:
    """`git commit <path>` commits from a temporary index (next-index-*.lock) while the real
    index is locked: what the hook stages there would be reverted in the real index."""
    return Path(os.environ.get("GIT_INDEX_FILE", "")).name.startswith("next-index")


def _ids_in(data: bytes | None) -> set[str]:
    return {r["id"] for r in ledger.parse_blob(data).records} if data else set()


def _held_in_git(info: RepoInfo, shards: list[str]) -> dict[str, set[str]]:
    """Record ids each shard holds in HEAD or in any local branch."""
    from bd_vpt.repo import cat_file_batch

    heads = git("for-each-ref", "--format=%(objectname)", "refs/heads", cwd=info.root).split()
    head = git("rev-parse", "--verify", "--quiet", "HEAD", cwd=info.root, check=False).strip()
    commits = list(dict.fromkeys([head, *heads] if head else heads))
    refs = [(shard, f"{commit}:{shard}") for shard in shards for commit in commits]
    held: dict[str, set[str]] = {shard: set() for shard in shards}
    for (shard, _ref), data in zip(
        refs, cat_file_batch(info.root, [r for _, r in refs]), strict=True
    ):
        held[shard] |= _ids_in(data)
    return held


def settle_spool(info: RepoInfo, *, stage: bool) -> tuple[int, int]:
    """Forget spooled records that git holds (HEAD or a local branch, at their shard); put
    the others into their shards and stage them. A record captured on one branch is so
    never copied into another.

    Returns (records written to shards, records still waiting)."""
    from bd_vpt.ledger import spool

    entries = spool.load(info)
    if not entries:
        return 0, 0
    by_shard: dict[str, list[spool.Spooled]] = {}
    for entry in entries:
        by_shard.setdefault(entry.shard, []).append(entry)
    held = _held_in_git(info, list(by_shard))
    waiting: list[spool.Spooled] = []
    written = 0
    for shard, items in by_shard.items():
        items = [e for e in items if e.record["id"] not in held[shard]]
        if not items:
            continue
        waiting += items
        if not stage:
            continue
        path = info.root / shard
        on_disk = _ids_in(path.read_bytes() if path.exists() else None)
        missing = [e.record for e in items if e.record["id"] not in on_disk]
        if missing:
            ledger.append(info, missing, "hook", path=path)
            written += len(missing)
        git("add", "--", shard, cwd=info.root)  # honours GIT_INDEX_FILE
    spool.keep_only(info, waiting)
    return written, len(waiting)


@dataclass
class StagedLine:
    path: str
    line: int
    raw: bytes


def staged_lines(info: RepoInfo) -> tuple[list[StagedLine], list[Problem]]:
    """The ledger lines the commit adds (against HEAD), with their line numbers."""
    from bd_vpt.repo import staged_ledger_diff

    out = staged_ledger_diff(info.root)
    lines: list[StagedLine] = []
    problems: list[Problem] = []
    path, number = "", 0
    previous: StagedLine | None = None
    for raw in out.split(b"\n"):
        if raw.startswith(b"+++ "):
            path = raw[4:].decode(errors="replace").removeprefix("b/")
        elif raw.startswith(b"@@"):
            match = re.search(rb"\+(\d+)", raw)
            number = int(match.group(1)) if match else 0
            previous = None
        elif raw.startswith(b"+") and path.endswith(".jsonl"):
            previous = StagedLine(path, number, raw[1:])
            lines.append(previous)
            number += 1
        elif raw.startswith(b"\\ No newline") and previous is not None:
            problems.append(
                Problem(
                    previous.path,
                    previous.line,
                    "torn line: no newline at the end",
                    "end the file with a newline (or remove the fragment)",
                )
            )
    return lines, problems


def validate_staged(info: RepoInfo, built_here: frozenset[str] = frozenset()) -> list[Problem]:
    """Check every ledger line the commit adds. Records this hook run built itself (ids in
    built_here) are made by the same constructors the tests check against the schema, so
    they skip the (slow to import) full JSON Schema pass; every other line gets it."""
    lines, problems = staged_lines(info)
    seen: dict[str, bytes] = {}
    for item in lines:
        raw = item.raw.strip()
        if not raw:
            continue
        if raw.startswith(ledger.CONFLICT_PREFIXES):
            problems.append(
                Problem(item.path, item.line, "merge conflict marker", ledger.CONFLICT_HINT)
            )
            continue
        if SECRET.search(raw):
            problems.append(
                Problem(
                    item.path,
                    item.line,
                    "a field looks like a secret (an API key)",
                    "remove the key from the record before committing; rotate it if it was real",
                )
            )
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            problems.append(
                Problem(
                    item.path,
                    item.line,
                    f"malformed JSON: {exc}",
                    "each line must be one JSON object",
                )
            )
            continue
        wrong = check(record)
        if not wrong and record.get("id") not in built_here:
            from bd_vpt.ledger.schemas import record_errors

            wrong = "; ".join(record_errors(record))
        if wrong:
            problems.append(Problem(item.path, item.line, wrong, "see schema/record.schema.json"))
            continue
        rid = record["id"]
        if rid in seen and seen[rid] != raw:
            problems.append(
                Problem(
                    item.path,
                    item.line,
                    f"duplicate id {rid} with different content",
                    "give one of the two records a new id",
                )
            )
        seen[rid] = raw
    return problems


def pre_commit(info: RepoInfo) -> int:
    from bd_vpt.capture.manual import resolve_actor
    from bd_vpt.capture.sources import run
    from bd_vpt.config import load
    from bd_vpt.ledger import spool

    stage = not partial_commit()
    built: frozenset[str] = frozenset()
    try:
        config = load(info.root, known_good=info.state_dir / "config-ok")
        actor = resolve_actor(None, info.root)
        shard = capture_shard(info, actor).relative_to(info.root).as_posix()
        pending = [e.record for e in spool.load(info)]
        captured = run(info, config, actor, pending)
        for warning in captured.warnings:
            say(f"warning: {warning}")
        spool.add(info, shard, captured.records)
        built = frozenset(r["id"] for r in captured.records)
        captured.acknowledge(info)
        written, waiting = settle_spool(info, stage=stage)
        if written:
            say(f"captured {written} record(s) into {shard}")
        if waiting and not stage:
            say(
                f"{waiting} captured record(s) wait in the spool: `git commit <path>` commits "
                "only the paths named; they go into your next commit"
            )
    except VptError as exc:
        say(f"warning: capture skipped: {exc.message}")  # a capture never blocks a commit
    problems = validate_staged(info, built)
    for problem in problems:
        print(problem.render(), file=sys.stderr)
    if problems:
        say(f"commit blocked: {len(problems)} bad ledger line(s) staged")
        return EXIT_FAILED
    return EXIT_OK


def post_merge(info: RepoInfo) -> int:
    """Integrity of the ledger after a merge, and what the merge brought. Read-only."""
    from bd_vpt.config import load
    from bd_vpt.economics.metrics import summarize
    from bd_vpt.files import read_regular
    from bd_vpt.ledger.history import History
    from bd_vpt.repo import ledger_diff

    before = git(
        "rev-parse", "--verify", "--quiet", "ORIG_HEAD", cwd=info.root, check=False
    ).strip()
    if not before:
        return EXIT_OK
    changes = ledger_diff(info.root, before, "HEAD")
    if not changes:
        return EXIT_OK
    problems = []
    for path, _old, new in changes:
        if new is None:
            say(f"warning: the merge removed {path} (ledger files are append-only)")
            continue
        try:  # a committed symlink checks out as one: never followed out of the repository
            data = read_regular(info.root / path, root=info.root)
        except VptError as exc:
            problems.append(Problem(path, None, exc.message, exc.hint, "warning"))
            continue
        blob = ledger.parse_blob(data)
        problems += [Problem(path, line, msg, hint, sev) for line, msg, hint, sev in blob.problems]
    for problem in problems:
        print(problem.render(), file=sys.stderr)
    try:
        config = load(info.root)
    except VptError as exc:
        say(f"warning: {exc.message}")
        return EXIT_OK
    history = History.open(info)
    try:
        scan = ledger.Scan()
        brought = summarize(
            (r for p, b in history.added(f"{before}..HEAD") for r in scan.merge(p, b)), config
        )["totals"]
        old = summarize(
            (r for p, b in history.at(before) for r in ledger.Scan().merge(p, b)), config
        )["totals"]
        new = summarize(
            (r for p, b in history.at("HEAD") for r in ledger.Scan().merge(p, b)), config
        )["totals"]
    finally:
        history.close()
    records = brought["usage_records"] + brought["outcome_records"]
    print(
        f"bd-vpt: the merge brought {records} record(s): {brought['tokens']:,} tokens, "
        f"${brought['cost_usd']:.2f}, {brought['beads_closed']} bead(s) closed; "
        f"fleet BC/MT {_fmt(old['bc_mt'])} -> {_fmt(new['bc_mt'])}",
        file=sys.stderr,
    )
    if problems:
        say("the merged ledger has bad lines (above): fix them, then run `bd-vpt validate`")
    return EXIT_OK


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def run_hook(name: str) -> int:
    try:
        info = discover()
        if name == "pre-commit":
            return pre_commit(info)
        if name == "post-merge":
            return post_merge(info)
        if name == "validate":
            problems = validate_staged(info)
            for problem in problems:
                print(problem.render(), file=sys.stderr)
            return EXIT_FAILED if problems else EXIT_OK
    except VptError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_OK if name == "post-merge" else exc.exit_code
    print(f"bd-vpt: unknown hook {name!r} (pre-commit, post-merge, validate)", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return run_hook(args[0] if args else "")


if __name__ == "__main__":
    raise SystemExit(main())
