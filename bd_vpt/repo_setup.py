"""`bd-vpt init`: the config file and the union-merge attribute for the ledger."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from bd_vpt import config
from bd_vpt.errors import VptError
from bd_vpt.files import make_folder, optional_regular, write_error

ATTRIBUTE = ".beads/vpt/ledger/** merge=union"


def ensure_gitattributes(root: Path) -> bool:
    """Add the union-merge line to .gitattributes; True when it had to be added."""
    path = root / ".gitattributes"
    text = (optional_regular(path, root=root) or b"").decode("utf-8", errors="replace")
    wanted = ATTRIBUTE.split()
    if any(line.split() == wanted for line in text.splitlines()):
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    try:
        path.write_text(text + ATTRIBUTE + "\n", encoding="utf-8")
    except OSError as exc:
        raise write_error(path, exc) from None
    return True


PROBES = (".beads/vpt/config.toml", ".beads/vpt/ledger/2026-01/probe.jsonl", ".gitattributes")
NOTE = "# bd-vpt: its config and ledger must reach git (bd-vpt init)"


def _negations(source: Path, root: Path) -> list[str]:
    """`!` lines for .beads/vpt, relative to the directory of the ignore file."""
    base = source.parent.resolve()
    target = (root / ".beads" / "vpt").resolve()
    try:
        rel = target.relative_to(base).as_posix()
    except ValueError:
        rel = ".beads/vpt"
    return [f"!/{rel}/", f"!/{rel}/**"]


def _opens_directory(pattern: str, path: str) -> str | None:
    """When pattern ignores a whole directory above path (`.beads/`), the pattern that ignores
    its entries instead (`.beads/*`), which a `!` rule can undo; else None."""
    bare = pattern.strip().lstrip("/").rstrip("/")
    if pattern.startswith("!") or not bare or bare.endswith("*"):
        return None
    parents = [p for p in Path(path).parents if str(p) != "."]
    if any(p.as_posix() == bare or p.name == bare for p in parents):
        return pattern.rstrip("/") + "/*"
    return None


def ensure_trackable(root: Path) -> list[str]:
    """Make sure git would commit the config and the ledger: `git check-ignore` each; when an
    ignore file of this repository hides them, add `!` rules to it (and turn a directory rule
    such as `.beads/` into `.beads/*`, which a `!` rule can undo). Refuse, with the exact fix,
    when that is not enough."""
    from bd_vpt import repo

    done: list[str] = []
    for _ in range(3):
        hits = repo.ignored(root, list(PROBES))
        if not hits:
            return done
        for path, (source, number, pattern) in sorted(hits.items()):
            file = (root / source).resolve()
            inside = file.is_file() and file.is_relative_to(root.resolve())
            if not inside:
                raise _refusal(path, source, number, pattern)
            lines = file.read_text(encoding="utf-8").splitlines()
            wider = _opens_directory(pattern, path)
            if wider and 0 < number <= len(lines) and lines[number - 1].strip() == pattern:
                lines[number - 1] = wider
                done.append(f"{source}:{number}: `{pattern}` -> `{wider}` (so `!` rules work)")
            wanted = [n for n in _negations(file, root) if n not in lines]
            if wanted:
                lines += [NOTE, *wanted] if NOTE not in lines else wanted
                done.append(
                    f"{source}: added {' '.join(wanted)} ({path} was ignored by "
                    f"line {number}: `{pattern}`)"
                )
            file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    hits = repo.ignored(root, list(PROBES))
    if hits:
        path, (source, number, pattern) = sorted(hits.items())[0]
        raise _refusal(path, source, number, pattern)
    return done


def _refusal(path: str, source: str, number: int, pattern: str) -> VptError:
    wider = _opens_directory(pattern, path)
    fix = (
        f"in {source}, replace line {number} `{pattern}` with `{wider}`, then add "
        "`!/.beads/vpt/` and `!/.beads/vpt/**` after it"
        if wider
        else f"add `!/.beads/vpt/` and `!/.beads/vpt/**` after line {number} of {source}"
    )
    return VptError(
        f"git would never commit {path}: {source}:{number} ignores it (`{pattern}`)",
        hint=fix + "; then run `bd-vpt init` again",
    )


def unreachable(root: Path, paths: list[str]) -> list[str]:
    """Warnings for ledger files git would never commit."""
    from bd_vpt import repo

    return [
        f"{path}: git would never commit it ({source}:{number} ignores it: `{pattern}`); "
        "run `bd-vpt init` to fix"
        for path, (source, number, pattern) in sorted(repo.ignored(root, paths).items())
    ]


def init(root: Path, today: str | None = None) -> list[str]:
    """Create what is missing; never overwrite. Returns what it did, line by line."""
    done = []
    path = root / config.CONFIG_PATH
    if os.path.lexists(path):
        config.load(root)  # still check that it parses (and is a regular file)
        done.append(f"kept {config.CONFIG_PATH} (already there)")
    else:
        since = today or datetime.now(UTC).strftime("%Y-%m-%d")
        config.write(root, config.default_document(since))
        done.append(f"wrote {config.CONFIG_PATH}")
    make_folder(root / config.LEDGER_DIR)
    done += ensure_trackable(root)
    if ensure_gitattributes(root):
        done.append(f"added `{ATTRIBUTE}` to .gitattributes")
    else:
        done.append(".gitattributes already has the union-merge line")
    return done
