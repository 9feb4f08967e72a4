"""The one place that talks to git.

Plain `git` processes for what hooks and capture need (fast start-up, honours
GIT_INDEX_FILE and friends; bd_vpt.spawn runs them without importing subprocess); GitPython for
reading many blobs through one `git cat-file --batch`, imported only there. Importing this module
costs nearly nothing (os only; pathlib and datetime are imported where they are used): the
pre-commit hook's nothing-to-do check runs through it.
"""

from __future__ import annotations

import os

from bd_vpt import FIXED, spawn
from bd_vpt import by_ids as _by_ids
from bd_vpt import object_ids as _fixed
from bd_vpt.errors import VptError

TYPE_CHECKING = False  # (typing.TYPE_CHECKING without importing typing)
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])


class GitError(VptError):
    pass


def run(
    args: list[str],
    cwd: Path | str | None,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
) -> spawn.Ran:
    """git with args, its output captured as bytes, whatever its exit status (`git -C cwd`:
    as if started there); the answer ask_early started, when it is the same question."""
    if input is None and env is None:
        early = spawn.take_early(("git", *args), str(cwd or os.getcwd()))
        if early is not None:
            return early
    return spawn.run(["git", *(("-C", str(cwd)) if cwd is not None else ()), *args], env, input)


def ask_early(*questions: tuple[str, ...]) -> None:
    """Start these git calls now (a command's first step: git runs on the other core while
    the command imports what it needs). Their answers name no path but from the top of the
    work tree, so they are the same asked from here or from that top (spawn.take_early)."""
    spawn.start_early([("git", *question) for question in questions])


def git(
    *args: str,
    cwd: Path | str | None = None,
    check: bool = True,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run git and return stdout as text; raise GitError (exit 2) on failure when check.
    env adds variables to this process's environment for the one call."""
    proc = run(list(args), cwd, input, {**os.environ, **env} if env else None)
    if check and proc.returncode != 0:
        raise GitError(
            f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}"
        )
    return proc.stdout.decode(errors="replace")


class RepoInfo:
    """Where a work tree's repository lives (not a dataclass: dataclasses is slow to import)."""

    __slots__ = ("common_dir", "git_dir", "root")

    def __init__(self, root: Path, git_dir: Path, common_dir: Path) -> None:
        self.root = root  # the work tree's top level
        self.git_dir = git_dir  # this worktree's git dir
        self.common_dir = common_dir  # shared by all worktrees: hooks, bd-vpt's local state

    def _key(self) -> tuple[Path, Path, Path]:
        return (self.root, self.git_dir, self.common_dir)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RepoInfo) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "RepoInfo(root={!r}, git_dir={!r}, common_dir={!r})".format(*self._key())

    @property
    def state_dir(self) -> Path:
        """Local-only state (locks, caches, file index): never committed, shared by worktrees."""
        return self.common_dir / "bd-vpt"


def discover(cwd: Path | str | None = None) -> RepoInfo:
    """Find the repository that contains cwd."""
    from pathlib import Path

    proc = run(list(WHERE_QUESTION), cwd)
    if proc.returncode != 0:
        raise VptError(
            f"not inside a git work tree: {Path(cwd or os.getcwd()).resolve()}",
            hint="bd-vpt keeps its ledger in git: run it inside a repository (git init)",
        )
    top, git_dir, common = proc.stdout.decode().splitlines()[:3]
    if cwd is None:
        spawn.early_also_from(top)
    common_path = Path(common)
    if not common_path.is_absolute():
        common_path = (Path(cwd or os.getcwd()) / common_path).resolve()
    return RepoInfo(root=Path(top), git_dir=Path(git_dir), common_dir=common_path)


def git_started(*args: str) -> spawn.Running | None:
    """Start `git args` without importing subprocess (the pre-commit hook's nothing-to-do
    check runs two at once); None where os cannot spawn."""
    try:
        return spawn.start(["git", *args])
    except OSError:
        return None


def git_finished(started: spawn.Running) -> bytes | None:
    """The output of a git from git_started once it exits; None when it failed."""
    ran = spawn.finish(started)
    return ran.stdout if ran.returncode == 0 else None


def user_name(root: Path) -> str | None:
    name = git("config", "user.name", cwd=root, check=False).strip()
    return name or None


def show_file(root: Path, rev: str, path: str) -> bytes | None:
    """The bytes of path as committed at rev, or None when it is not there."""
    key = ("show", str(root), rev, path)
    if key not in FIXED:
        proc = run(["cat-file", "blob", f"{rev}:{path}"], root)
        found = proc.stdout if proc.returncode == 0 else None
        if not _fixed(rev):
            return found
        FIXED[key] = found
    kept: bytes | None = FIXED[key]
    return kept


LEDGER_PATHSPEC = ".beads/vpt/ledger"


def rev_parse(root: Path, rev: str) -> str:
    """The commit id of rev, or a clear error."""
    key = ("commit", str(root), rev)
    if key in FIXED:
        return str(FIXED[key])
    out = git(
        "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=root, check=False
    ).strip()
    if not out:
        raise VptError(
            f"unknown revision {rev!r}",
            hint="give a commit, branch or tag: e.g. HEAD~3, main, v1.2",
        )
    FIXED[("commit", str(root), out)] = out  # (a commit id names itself)
    return out


def is_shallow(root: Path) -> bool:
    return git("rev-parse", "--is-shallow-repository", cwd=root, check=False).strip() == "true"


def commit_time(root: Path, rev: str) -> datetime:
    """The committer date of rev (what a report judged "as of" a commit is anchored on)."""
    from datetime import datetime

    return datetime.fromisoformat(_commit_date(root, rev))


@_by_ids
def _commit_date(root: Path, rev: str) -> str:
    return git("log", "-1", "--format=%cI", rev, cwd=root).strip()


@_by_ids
def merge_base(root: Path, a: str, b: str) -> str:
    out = git("merge-base", a, b, cwd=root, check=False).strip()
    if not out:
        raise VptError(f"{a} and {b} have no common ancestor", hint="use A..B instead of A...B")
    return out


@_by_ids
def ledger_tree(root: Path, rev: str) -> list[tuple[str, str]]:
    """(path, blob id) of every ledger file as committed at rev."""
    out = git("ls-tree", "-r", "-z", "--full-tree", rev, "--", LEDGER_PATHSPEC, cwd=root)
    entries = []
    for item in out.split("\0"):
        if not item:
            continue
        meta, path = item.split("\t", 1)
        _mode, kind, sha = meta.split()
        if kind == "blob" and path.endswith(".jsonl"):
            entries.append((path, sha))
    return sorted(entries)


@_by_ids
def ledger_diff(root: Path, a: str, b: str) -> list[tuple[str, str | None, str | None]]:
    """(path, blob at a or None, blob at b or None) for each ledger file that differs."""
    out = git("diff-tree", "-r", "-z", "--no-renames", a, b, "--", LEDGER_PATHSPEC, cwd=root)
    fields = out.split("\0")
    changes = []
    zero = "0" * 40
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        if not meta.startswith(":") or not path.endswith(".jsonl"):
            continue
        _, _, old, new, _ = meta[1:].split(" ", 4)
        changes.append((path, None if old == zero else old, None if new == zero else new))
    return sorted(changes)


class BlobReader:
    """Reads git objects through one long-lived `git cat-file --batch` (GitPython's)."""

    def __init__(self, root: Path) -> None:
        from git import Git

        self._git = Git(str(root))

    def read(self, sha: str) -> bytes:
        _hexsha, _kind, _size, data = self._git.get_object_data(sha)
        return bytes(data)

    def close(self) -> None:
        self._git.clear_cache()


def log_added_lines(root: Path, rev: str, pattern: str) -> list[tuple[str, str, str, str]]:
    """(commit, date, subject, added line) for each ledger line added by a commit in the
    history of rev whose added lines match the regular expression pattern (oldest first)."""
    out = git(
        "log",
        "--reverse",
        "--no-merges",
        "-p",
        "--no-color",
        "--unified=0",
        "--format=\x01%H\x02%cI\x02%s",
        f"-G{pattern}",
        rev,
        "--",
        LEDGER_PATHSPEC,
        cwd=root,
    )
    found = []
    commit = date = subject = ""
    for line in out.splitlines():
        if line.startswith("\x01"):
            commit, date, subject = line[1:].split("\x02", 2)
        elif line.startswith("+") and not line.startswith("+++"):
            found.append((commit, date, subject, line[1:]))
    return found


INDEX_QUESTION = ("ls-files", "-s", "-z", "--full-name", "--", f":(top){LEDGER_PATHSPEC}")
WHERE_QUESTION = ("rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir")


def index_blobs(root: Path) -> dict[str, str]:
    """path -> blob id of the ledger files in the index (stage 0), whatever the work tree holds."""
    staged = git(*INDEX_QUESTION, cwd=root)
    blobs: dict[str, str] = {}
    for item in staged.split("\0"):
        if item:
            meta, path = item.split("\t", 1)
            _mode, sha, stage = meta.split()
            if stage == "0":
                blobs[path] = sha
    return blobs


def blob_id(data: bytes, length: int = 40) -> str:
    """The id git gives a blob of these bytes (SHA-1; SHA-256 when length is 64)."""
    import hashlib

    digest = hashlib.sha256() if length == 64 else hashlib.sha1()
    digest.update(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


def ledger_index(root: Path) -> dict[str, str]:
    """path -> blob id of the ledger files whose working copy matches the index.

    Such a file can be read through the blob cache instead of being parsed again. Which ones
    differ is asked of `git status` (the cost of git's own status, limited to the ledger): it
    refreshes the stat data the index keeps first, and writes the index when it can. A fresh
    clone, checkout or `reset --hard` leaves every ledger file racily clean (the files and the
    index written in the same second), and git re-hashes each racily clean file on every look
    until the index is written again: 0.1 s per report at 10^5 records, ~1 s at 10^6, paid
    once this way. Only stat data changes, never content. Inside a git hook (GIT_INDEX_FILE
    set: there the index changes only through `git add`) nothing is written; nor with
    GIT_OPTIONAL_LOCKS=0, or while another git holds the index."""
    blobs = index_blobs(root)
    if blobs:
        write = [] if not os.environ.get("GIT_INDEX_FILE") else ["--no-optional-locks"]
        args = ["status", "--porcelain=v1", "-z", "--untracked-files=no", "--no-renames"]
        out = git(*write, *args, "--", LEDGER_PATHSPEC, cwd=root)
        for item in out.split("\0"):
            if len(item) > 3 and item[1] != " ":  # the work tree differs from the index
                blobs.pop(item[3:], None)
    return blobs


@_by_ids
def ledger_tree_id(root: Path, commit: str) -> str:
    """The git tree id of the ledger folder at commit ("none" when there is none)."""
    out = git(
        "rev-parse", "--verify", "--quiet", f"{commit}:{LEDGER_PATHSPEC}", cwd=root, check=False
    )
    return out.strip() or "none"


def cat_file_batch(root: Path, refs: list[str]) -> list[bytes | None]:
    """The objects named by refs (`<blob id>` or `<commit>:<path>`), None for a missing one;
    one `git cat-file --batch` process, no GitPython (hooks must start fast)."""
    if not refs:
        return []
    proc = run(["cat-file", "--batch"], root, "".join(f"{r}\n" for r in refs).encode())
    out, pos = proc.stdout, 0
    found: list[bytes | None] = []
    for _ in refs:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] != b"missing":
            size = int(header[2])
            found.append(out[pos : pos + size])
            pos += size + 1
        else:
            found.append(None)
    return found


def staged_ledger_diff(root: Path) -> bytes:
    """The staged changes to ledger files against HEAD, zero context lines, as raw bytes
    (a hook must read them exactly, whatever their encoding), always as text: a NUL byte
    must not make git print "Binary files differ" and hide the lines from the checks."""
    text = ["--text", "--no-textconv", "--no-color", "--no-ext-diff", "-U0", "--no-renames"]
    proc = run(["diff", "--cached", *text, "--diff-filter=AM", "--", LEDGER_PATHSPEC], root)
    return proc.stdout


def worktree_roots(root: Path) -> list[str]:
    """The top folders of every worktree of this repository."""
    out = git("worktree", "list", "--porcelain", cwd=root, check=False)
    found = [line[len("worktree ") :] for line in out.splitlines() if line.startswith("worktree ")]
    return found or [str(root)]


def repositories(patterns: list[str]) -> list[Path]:
    """The top folders named by paths or globs (`repos/*`), each a git work tree's top, in
    the order given (a glob's matches sorted); a path that is not one is a clear error."""
    import glob
    from pathlib import Path

    found: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(Path(p) for p in glob.glob(os.path.expanduser(pattern)))
            matches = [m for m in matches if m.is_dir()]
            if not matches:
                raise VptError(
                    f"{pattern} matches no folder",
                    hint="give repository paths or a glob such as repos/*",
                )
            # a glob may sweep in folders that are not repositories: those are left out
            matches = [m for m in matches if _top(m) == m.resolve()]
            if not matches:
                raise VptError(
                    f"{pattern} matches no git repository", hint="clone the repositories first"
                )
        else:
            path = Path(os.path.expanduser(pattern))
            if not path.is_dir():
                raise VptError(f"{pattern}: no such folder", hint="give the path of a clone")
            top = _top(path)
            if top != path.resolve():
                where = f" (it is inside {top})" if top else ""
                raise VptError(
                    f"{pattern} is not a git repository{where}",
                    hint="give the top folder of each clone",
                )
            matches = [path]
        for match in matches:
            if match.resolve() not in found:
                found.append(match.resolve())
    return found


def _top(path: Path) -> Path | None:
    from pathlib import Path

    out = git("rev-parse", "--show-toplevel", cwd=path, check=False).strip()
    return Path(out).resolve() if out else None


def default_branch(root: Path) -> tuple[str, str] | None:
    """(ref, commit) of the repository's default branch: the remote's HEAD
    (refs/remotes/origin/HEAD, else another remote's), else the branch checked out; None
    when there is no commit yet."""
    refs = git("for-each-ref", "--format=%(refname)", "refs/remotes/", cwd=root).split()
    heads = sorted(r for r in refs if r.endswith("/HEAD"))
    heads.sort(key=lambda r: r != "refs/remotes/origin/HEAD")
    for ref in heads:
        commit = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=root, check=False)
        if commit.strip():
            return ref, commit.strip()
    ref = git("symbolic-ref", "--quiet", "HEAD", cwd=root, check=False).strip() or "HEAD"
    commit = git("rev-parse", "--verify", "--quiet", "HEAD^{commit}", cwd=root, check=False)
    return (ref, commit.strip()) if commit.strip() else None


def stash_ledger_blobs(root: Path) -> list[tuple[str, str]]:
    """(stash@{n}:path, blob id) of the ledger files every stash entry holds: its work tree
    and, for `git stash -u`, its untracked files. Records in a stash are records git keeps
    for this repository; a re-import must not add them a second time."""
    commits = git("stash", "list", "--format=%H", cwd=root, check=False).split()
    found: list[tuple[str, str]] = []
    for n, commit in enumerate(commits):
        trees = [commit]
        untracked = git(
            "rev-parse", "--verify", "--quiet", f"{commit}^3", cwd=root, check=False
        ).strip()
        if untracked:
            trees.append(untracked)
        for tree in trees:
            found += [(f"stash@{{{n}}}:{path}", sha) for path, sha in ledger_tree(root, tree)]
    return found


def ledger_status(root: Path) -> list[tuple[str, str]]:
    """(XY status, path) of each ledger file that differs from HEAD or the index in this
    work tree, untracked files included (`git status --porcelain`)."""
    out = git(
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--no-renames",
        "--",
        LEDGER_PATHSPEC,
        cwd=root,
    )
    return [(item[:2], item[3:]) for item in out.split("\0") if len(item) > 3]


def index_blob(root: Path, path: str) -> bytes | None:
    """The bytes of path as staged in the index (None when it is not there)."""
    proc = run(["cat-file", "blob", f":{path}"], root)
    return proc.stdout if proc.returncode == 0 else None


def ignored(root: Path, paths: list[str]) -> dict[str, tuple[str, int, str]]:
    """Which of paths git would ignore (tracked or not), each with the rule that ignores it:
    (the ignore file, its line number, the pattern)."""
    proc = run(["check-ignore", "-v", "--no-index", "--", *paths], root)
    found: dict[str, tuple[str, int, str]] = {}
    for line in proc.stdout.decode(errors="replace").splitlines():
        rule, _, path = line.partition("\t")
        source, _, rest = rule.partition(":")
        number, _, pattern = rest.partition(":")
        if path and number.isdigit() and not pattern.startswith("!"):  # `!`: not ignored
            found[path] = (source, int(number), pattern)
    return found


def commits_touching(
    root: Path, paths: list[str], since: str | None = None
) -> list[tuple[str, str]]:
    """(commit, committer time ISO) of the commits on HEAD that changed any of paths, oldest
    first; only those committed at or after since (an ISO date or time) when given."""
    args = ["log", "--format=%H %cI", "--reverse"]
    if since:
        args.append(f"--since={since}")
    out = git(*args, "HEAD", "--", *paths, cwd=root, check=False)
    found = []
    for line in out.splitlines():
        sha, _, when = line.partition(" ")
        if sha and when:
            found.append((sha, when))
    return found
