"""The import rules of docs/architecture.md, read from the source itself (ast, nothing run).

- no import cycle between bd_vpt's modules (imports inside functions count: a lazy import is
  still a dependency; only `if TYPE_CHECKING:` blocks are left out);
- each part imports only the parts the picture allows (MAY_IMPORT below);
- click only under bd_vpt/cli/;
- git is spawned (subprocess, bd_vpt.spawn, GitPython) only in bd_vpt/repo.py;
- no module over 500 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import bd_vpt

PACKAGE = Path(bd_vpt.__file__).resolve().parent
MAX_LINES = 500


def modules() -> dict[str, Path]:
    """dotted name -> file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = modules()


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node, except what sits under `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child):
            for other in child.orelse:
                yield other
                yield from _walk(other)
            continue
        yield child
        yield from _walk(child)


def _resolve(name: str) -> str | None:
    """The bd_vpt module a dotted import name lands in (its longest known prefix)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """The bd_vpt modules module imports (relative imports resolved)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for name in names:
            target = _resolve(name) if name.startswith("bd_vpt") else None
            if target and target != module and not module.startswith(target + "."):
                found.add(target)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def third_party(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = set()
    for node in _walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


GROUND = {"bd_vpt", "errors", "when", "files", "spawn", "repo", "state"}
MAY_IMPORT: dict[str, set[str]] = {
    "bd_vpt": set(),
    "errors": {"bd_vpt"},
    "when": {"bd_vpt", "errors"},
    "files": {"bd_vpt", "errors"},
    "spawn": {"bd_vpt"},
    "repo": {"bd_vpt", "errors", "files", "spawn"},
    "state": {"bd_vpt", "errors", "files", "repo"},
    "render": {"bd_vpt", "errors", "when"},
    "schema": {"bd_vpt", "errors", "when"},
    "config": GROUND | {"schema"},
    "ledger": GROUND | {"schema", "config"},
    "economics": {"bd_vpt", "errors", "when", "schema", "config"},
    "beads": GROUND | {"schema", "config", "ledger"},
    "capture": GROUND | {"schema", "config", "ledger", "beads", "economics"},
    "reports": GROUND | {"schema", "config", "ledger", "economics", "render"},
    "repo_setup": GROUND | {"schema", "config"},
    "integrations": GROUND
    | {"schema", "config", "ledger", "economics", "beads", "capture", "reports", "render"}
    | {"repo_setup"},
    "demo": GROUND
    | {"schema", "config", "ledger", "economics", "beads", "capture", "reports", "render"}
    | {"repo_setup"},
    "cli": GROUND
    | {"schema", "config", "ledger", "economics", "beads", "capture", "reports", "render"}
    | {"repo_setup", "integrations", "demo"},
    "hookrun": {"integrations"},
    "launch": {"bd_vpt", "cli", "integrations"},  # the console script: --help without click
    "__main__": {"cli", "launch"},
}


def part(module: str) -> str:
    """The part of the picture a module is drawn in: its package (or top-level module);
    the record's definition (ledger/records.py, ledger/schemas.py) and what usage records add
    up to (ledger/usage.py) are a part of their own."""
    if module in ("bd_vpt.ledger.records", "bd_vpt.ledger.schemas", "bd_vpt.ledger.usage"):
        return "schema"
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "bd_vpt"


def test_every_part_imports_only_what_the_picture_allows() -> None:
    assert {part(m) for m in MODULES} <= set(MAY_IMPORT), "a new part: draw it first"
    wrong = sorted(
        f"{m} -> {t}"
        for m, targets in GRAPH.items()
        for t in targets
        if part(t) != part(m) and part(t) not in MAY_IMPORT[part(m)]
    )
    assert wrong == []


def test_the_picture_has_no_loop() -> None:
    """MAY_IMPORT itself is layered: no part may reach itself through what it may import."""
    for start in MAY_IMPORT:
        seen: set[str] = set()
        todo = list(MAY_IMPORT[start])
        while todo:
            here = todo.pop()
            assert here != start, f"{start} may reach itself"
            if here not in seen:
                seen.add(here)
                todo += MAY_IMPORT[here]


def test_no_import_cycle() -> None:
    assert sum(len(t) for t in GRAPH.values()) > 100  # the rule sees the real imports
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles(GRAPH) == []


def test_click_only_under_cli() -> None:
    users = sorted(m for m in MODULES if "click" in third_party(m))
    assert users, "the rule must see the command line's own imports"
    assert [m for m in users if not m.startswith("bd_vpt.cli")] == []


def _spawns_git(module: str) -> list[int]:
    """Lines where module runs git: a subprocess call whose argv starts with "git", or
    GitPython imported."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    lines = []
    for node in _walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            if any(n and (n == "git" or n.startswith("git.")) for n in names) and not getattr(
                node, "level", 0
            ):
                lines.append(node.lineno)
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            func = ast.unparse(node.func)
            if (
                func.split(".")[0] in ("subprocess", "os", "spawn")
                or func in ("run", "Popen", "check_output", "call")
            ) and isinstance(first, ast.List | ast.Tuple):
                head = first.elts[0] if first.elts else None
                if isinstance(head, ast.Constant) and head.value == "git":
                    lines.append(node.lineno)
    return lines


def test_git_is_spawned_only_in_repo() -> None:
    assert _spawns_git("bd_vpt.repo"), "the rule must see repo.py's own git calls"
    elsewhere = {m: _spawns_git(m) for m in MODULES if m != "bd_vpt.repo"}
    assert {m: lines for m, lines in elsewhere.items() if lines} == {}


def test_no_module_over_500_lines() -> None:
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    for part in sorted(PACKAGE.rglob("*.[ch]")):  # the compiled lane's parts too
        sizes[str(part.relative_to(PACKAGE))] = len(part.read_text(encoding="utf-8").splitlines())
    assert any(name.endswith(".c") for name in sizes)
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}
