"""Installing bd-vpt's git hooks: install, uninstall, status.

Hooks go into the directory git runs them from (`git rev-parse --git-path hooks`: the common
dir, so every worktree shares them). A hook that was there before is kept as
`<name>.legacy` and run first; install marks its hooks with an id, so installing again is a
no-op and uninstall restores exactly what was there. When `core.hooksPath` is set (husky,
lefthook, a shared hooks folder) install refuses with a hint, unless --force.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from bd_vpt.errors import VptError
from bd_vpt.repo import RepoInfo, git

HOOKS = ("pre-commit", "post-merge")
MARKER = "bd-vpt-hook-id: 6f1c2a9e"
CHAIN_HINT = (
    "to chain instead, call `bd-vpt hook pre-commit` and `bd-vpt hook post-merge` from your "
    "hook manager (husky: .husky/pre-commit; lefthook: lefthook.yml commands), or use the "
    "pre-commit framework (.pre-commit-hooks.yaml)"
)


def hooks_dir(info: RepoInfo) -> tuple[Path, str | None]:
    """Where git runs hooks from, and core.hooksPath when it is set."""
    custom = git("config", "--get", "core.hooksPath", cwd=info.root, check=False).strip() or None
    where = Path(git("rev-parse", "--git-path", "hooks", cwd=info.root).strip())
    if not where.is_absolute():
        where = (info.root / where).resolve()
    return where, custom


def render(name: str, python: str | None = None) -> str:
    template = files("bd_vpt.hook_templates").joinpath("hook.sh").read_text(encoding="utf-8")
    python = (python or sys.executable).replace("'", "'\\''")
    return template.replace("HOOK_NAME", name).replace("INSTALL_PYTHON_PATH", python)


def is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _other_tools(info: RepoInfo, directory: Path, custom: str | None) -> list[str]:
    notes = []
    for name in HOOKS:
        for candidate in (directory / name, directory / f"{name}.legacy"):
            text = candidate.read_text(errors="replace") if candidate.is_file() else ""
            if "bd-hooks-version:" in text or "bd-shim" in text:
                notes.append(f"beads' own {name} hook is kept and runs first (as {candidate.name})")
    if (custom and "husky" in custom) or (info.root / ".husky").is_dir():
        notes.append("husky found: " + CHAIN_HINT)
    if any((info.root / n).exists() for n in ("lefthook.yml", "lefthook.yaml", ".lefthook.yml")):
        notes.append("lefthook found: " + CHAIN_HINT)
    if (info.root / ".pre-commit-config.yaml").exists():
        notes.append(
            "a .pre-commit-config.yaml is here: you can use bd-vpt's hooks from it instead"
        )
    return notes


def install(info: RepoInfo, *, force: bool = False) -> list[str]:
    directory, custom = hooks_dir(info)
    if custom and not force:
        raise VptError(
            f"core.hooksPath is set ({custom}): git runs hooks from there, not from .git/hooks",
            hint=CHAIN_HINT + "; or run `bd-vpt hooks install --force` to install into it",
        )
    directory.mkdir(parents=True, exist_ok=True)
    done = []
    for name in HOOKS:
        path = directory / name
        legacy = directory / f"{name}.legacy"
        if path.exists() and not is_ours(path):
            if legacy.exists():
                raise VptError(
                    f"{path} is not bd-vpt's, and {legacy.name} is already taken",
                    hint="merge the two by hand, then run `bd-vpt hooks install` again",
                )
            os.replace(path, legacy)  # kept byte for byte, mode and all
            done.append(f"kept your {name} hook as {legacy.name} (it runs first)")
        text = render(name)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            done.append(f"{name}: already installed")
            continue
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)
        done.append(f"installed {path}")
    return done + _other_tools(info, directory, custom)


def uninstall(info: RepoInfo) -> list[str]:
    directory, _custom = hooks_dir(info)
    done = []
    for name in HOOKS:
        path = directory / name
        legacy = directory / f"{name}.legacy"
        if path.exists() and not is_ours(path):
            done.append(f"{name}: not bd-vpt's, left alone")
            continue
        if path.exists():
            path.unlink()
            done.append(f"removed {name}")
        if legacy.exists():
            os.replace(legacy, path)
            done.append(f"restored your {name} hook")
    return done


@dataclass
class HookStatus:
    name: str
    state: str  # "bd-vpt", "bd-vpt (runs your old hook first)", "another hook", "none"
    path: str


def status(info: RepoInfo) -> tuple[list[HookStatus], list[str]]:
    directory, custom = hooks_dir(info)
    rows = []
    for name in HOOKS:
        path = directory / name
        legacy = directory / f"{name}.legacy"
        if is_ours(path):
            state = "bd-vpt, runs the old hook first" if legacy.exists() else "bd-vpt"
        elif path.exists():
            state = "another hook (bd-vpt not installed)"
        else:
            state = "none"
        rows.append(HookStatus(name, state, str(path)))
    notes = _other_tools(info, directory, custom)
    if custom:
        notes.insert(0, f"core.hooksPath = {custom}")
    return rows, notes
