"""What the git hooks do. `python -m bd_vpt.hookrun pre-commit|post-merge|validate` is the
light entry point the installed hooks call (no click: hooks run on every commit).

pre-commit: capture (never blocks) straight into this worktree's capture shard through the
one write path, stage every ledger file of this worktree that grew since the last `git add`
(captures and manual records alike) with `git add` (a subprocess, so GIT_INDEX_FILE is
honoured), then validate the staged ledger lines as text (blocks the commit on a bad one).
Records belong to the commit, branch and worktree where they were made: nothing is kept
aside to be replayed elsewhere. post-merge: integrity of what the merge brought and a short
note of its figures; it never modifies a file.
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
from bd_vpt.ledger.lines import line_problem
from bd_vpt.ledger.records import check
from bd_vpt.repo import RepoInfo, discover, git

SECRET_HINT = "remove it from the record before committing; rotate the key if it was real"


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


def migrate_spool(info: RepoInfo, writer: object) -> int:
    """Older bd-vpt kept hook captures in $GIT_COMMON_DIR/bd-vpt/spool.jsonl, shared by every
    worktree. Move this worktree's entries into their shards once (the writer drops what the
    ledger already holds) and keep the other worktrees' entries for them."""
    from bd_vpt.ledger.writer import Writer

    assert isinstance(writer, Writer)
    path = info.state_dir / "spool.jsonl"
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return 0
    mine = "-" + ledger.writer_slug("x", info.root).rsplit("-", 1)[1]
    moved, kept = 0, []
    for line in lines:
        try:
            item = orjson.loads(line)
            shard, record = str(item["shard"]), item["record"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue  # a torn spool line: its capture runs again
        if Path(shard).stem.removesuffix(".capture").endswith(mine) and check(record) is None:
            moved += len(writer.append([record], info.root / shard).records)
        else:
            kept.append(line + b"\n")
    from bd_vpt.state import atomic_write

    if kept:
        atomic_write(path, b"".join(kept))
    else:
        path.unlink(missing_ok=True)
    return moved


def stage_ledger(info: RepoInfo) -> tuple[list[str], list[str]]:
    """`git add` each ledger file of this work tree that is new or grew by appends since the
    index: records made since the last commit (captured or typed by hand) go into this one.
    A file whose change is not an append (lines edited or removed) is left alone."""
    from bd_vpt.repo import index_blob, ledger_status

    staged: list[str] = []
    left: list[str] = []
    for status, path in ledger_status(info.root):
        if not path.endswith(".jsonl"):
            continue
        if status == "??":
            staged.append(path)
        elif status[1] == "M":
            before = index_blob(info.root, path) or b""
            try:
                grown = (info.root / path).read_bytes().startswith(before)
            except OSError:
                grown = False
            (staged if grown else left).append(path)
        elif status[1] == "D":
            left.append(path)
    if staged:
        git("add", "--", *staged, cwd=info.root)  # honours GIT_INDEX_FILE
    return staged, left


@dataclass
class StagedLine:
    path: str
    line: int
    raw: bytes


def staged_lines(info: RepoInfo) -> tuple[list[StagedLine], list[Problem]]:
    """The ledger lines the commit adds (against HEAD), with their line numbers, read as
    text even when git would call a shard binary (one NUL byte)."""
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
        elif raw.startswith(b"Binary files ") and b".jsonl" in raw:
            problems.append(
                Problem(raw.decode(errors="replace"), None, "git could not show this file as text")
            )
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


def validate_staged(info: RepoInfo) -> list[Problem]:
    """Check every ledger line the commit adds: control bytes, conflict markers, secrets
    (raw or behind JSON escapes), JSON, the one record validator, duplicate ids."""
    lines, problems = staged_lines(info)
    seen: dict[str, bytes] = {}
    for item in lines:
        raw = item.raw
        if not raw.strip():
            continue
        if raw.startswith(ledger.CONFLICT_PREFIXES):
            problems.append(
                Problem(item.path, item.line, "merge conflict marker", ledger.CONFLICT_HINT)
            )
            continue
        unfit = line_problem(raw)
        if unfit:
            hint = SECRET_HINT if "secret" in unfit else "a ledger line is one line of JSON text"
            problems.append(Problem(item.path, item.line, unfit, hint))
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
        wrong = check(record)  # the one validator (it accepts exactly what the schema does)
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
    from bd_vpt.capture.sources import DEFAULT_SOURCES, run
    from bd_vpt.config import known_good, load
    from bd_vpt.ledger.writer import writing

    quiet = False  # the capture found nothing new: the next hook may skip it (quiet.py)
    try:
        config = load(info.root, known_good=known_good(info))
        actor = resolve_actor(None, info.root)
        shard = capture_shard(info, actor)
        with writing(info) as writer:
            moved = migrate_spool(info, writer)
            captured = run(info, config, actor, writer, shard)
        captured.acknowledge(info)
        for warning in captured.warnings:
            say(f"warning: {warning}")
        if captured.records or moved:
            shown = shard.relative_to(info.root).as_posix()
            say(f"captured {len(captured.records) + moved} record(s) into {shown}")
        from bd_vpt.repo_setup import unreachable

        far = unreachable(info.root, [shard.relative_to(info.root).as_posix()])
        for line in far:
            say(f"warning: {line}")  # the records would stay on this machine
        quiet = not (captured.warnings or captured.records or moved or far)
        quiet = quiet and set(config.sources or DEFAULT_SOURCES) == {"sync"}
    except VptError as exc:  # a capture never blocks a commit
        what = "capture failed" if exc.exit_code == EXIT_FAILED else "capture skipped"
        say(f"warning: {what}: {exc.message}")
    stamp(info, quiet)
    try:
        if partial_commit():
            from bd_vpt.repo import ledger_status

            if ledger_status(info.root):
                say(
                    "`git commit <path>` commits only the paths named: the ledger records made "
                    "since the last commit stay in the work tree and go into your next commit"
                )
        else:
            _staged, left = stage_ledger(info)
            for path in left:
                say(
                    f"warning: {path} changed by more than appended lines: not staged "
                    "(the ledger is append-only; `git diff` shows what changed)"
                )
    except VptError as exc:
        say(f"warning: could not stage the ledger: {exc.message}")
    problems = validate_staged(info)
    for problem in problems:
        print(problem.render(), file=sys.stderr)
    if problems:
        say(f"commit blocked: {len(problems)} bad ledger line(s) staged")
        return EXIT_FAILED
    return EXIT_OK


def stamp(info: RepoInfo, quiet: bool) -> None:
    """Let the next pre-commit skip a capture that would find nothing (quiet.py), or not."""
    from bd_vpt.beads.sources import JsonlEras
    from bd_vpt.integrations import quiet as stamps

    where = (str(info.root), str(info.git_dir), str(info.common_dir))
    if quiet and not stamps.bd_on_path():
        stamps.remember(*where, JsonlEras.worktree(info.root).fingerprinted())
    else:
        stamps.forget(where[2], where[1])


def post_merge(info: RepoInfo) -> int:
    """Integrity of the ledger after a merge, and what the merge brought. Read-only."""
    from bd_vpt.config import load
    from bd_vpt.economics.metrics import summarize
    from bd_vpt.files import read_regular
    from bd_vpt.ledger.history import History
    from bd_vpt.render.output import cost_line
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
        f"{cost_line(brought)}, {brought['beads_closed']} bead(s) closed; "
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
    from bd_vpt.state import file_size_limit_is_an_error

    file_size_limit_is_an_error()
    args = sys.argv[1:] if argv is None else argv
    return run_hook(args[0] if args else "")


if __name__ == "__main__":
    raise SystemExit(main())
