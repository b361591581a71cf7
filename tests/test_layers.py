"""The package's layers: imports inside celery_lint only point down, and never form a cycle.

Every import of a celery_lint module counts, wherever it stands: at module level, under
``if TYPE_CHECKING:``, or inside a function. An import inside a function is allowed only
for start-up time, and says so in a comment on its line or the line above; never to
dodge a cycle (the cycle test would catch that anyway).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "celery_lint"

#: Bottom to top. A module may import its own layer and the layers below it.
LAYERS = ("config", "model", "rules", "engine", "run", "report", "doors")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(imported celery_lint module, line, inside a function) for each import in the file."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(child) for child in ast.walk(node) if child is not node)
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                targets.append(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source)
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        for target in targets:
            if target in modules and target != "celery_lint":
                found.append((target, node.lineno, id(node) in in_function))
    return found


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {target for target, _, _ in _imports(name, path, modules)} for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_inside_the_package() -> None:
    cycles = _cycles(_graph())
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"a"}}) == [["a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_every_module_sits_in_a_layer() -> None:
    loose = [name for name in _modules() if _layer(name) is None and name not in ("celery_lint", "celery_lint.__main__")]
    assert loose == [], f"modules outside the layers {LAYERS}: {loose}"


def test_imports_point_down_the_layers() -> None:
    modules = _modules()
    upward = []
    for name, path in modules.items():
        here = _layer(name)
        if here is None:
            continue
        for target, line, _ in _imports(name, path, modules):
            there = _layer(target)
            if there is not None and there > here:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert upward == [], "imports pointing up the layers:\n" + "\n".join(upward)


def test_imports_inside_functions_say_why() -> None:
    modules = _modules()
    silent = []
    for name, path in modules.items():
        lines = path.read_text().splitlines()
        for target, line, in_function in _imports(name, path, modules):
            if in_function and "#" not in lines[line - 1] and not lines[line - 2].lstrip().startswith("#"):
                silent.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert silent == [], "imports inside functions without a comment saying why:\n" + "\n".join(silent)
