"""The package's layers import only downward, and no import circle joins its modules (issue 20).

The layers, lowest first: options, formats, credentials and errors; the constructs; the
dialects and the parser; the runtime; the integrations (Alembic, display, reading, the ORM
helpers, the demo, the package's ``__init__``). A module may import its own layer and the
layers below, at module level or inside a function; where a lower layer needs a behaviour
from above, the upper layer registers it (`sqla_stage.display_hooks`,
`sqla_stage.metadata.register_stage_ddl`, `sqla_stage.stage_methods.register_stage_calls`).
Imports under ``if TYPE_CHECKING:`` are for annotations only and are not counted.
The check reads the source with ``ast``: nothing is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sqla_stage"

#: The layers, lowest first; a module is in the first whose prefixes match its name.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "options, formats, credentials",
        (
            "sqla_stage.errors",
            "sqla_stage.option_types",
            "sqla_stage.options",
            "sqla_stage.formats",
            "sqla_stage.credentials",
            "sqla_stage.delimiters",
            "sqla_stage.namespaces",
            "sqla_stage.display_hooks",
        ),
    ),
    ("dialects and parser", ("sqla_stage.dialects", "sqla_stage.parser")),
    ("runtime", ("sqla_stage.runtime",)),
    (
        "integrations",
        (
            "sqla_stage.alembic",
            "sqla_stage.display",
            "sqla_stage.reading",
            "sqla_stage.orm_sessions",
            "sqla_stage.stage_calls",
            "sqla_stage.demo",
            "sqla_stage.demo_sql",
        ),
    ),
)
#: Every other module of the package is a construct (between the first two layers).
CONSTRUCTS = "constructs"
ORDER = [LAYERS[0][0], CONSTRUCTS, *(name for name, _ in LAYERS[1:])]


def layer_of(module: str) -> str:
    """The layer of a module (``sqla_stage`` itself, the facade, is an integration)."""
    if module == "sqla_stage":
        return "integrations"
    for name, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    return CONSTRUCTS


def modules() -> dict[str, Path]:
    """The package's modules by dotted name."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _under_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The package modules ``name`` imports (outside TYPE_CHECKING), with the line."""
    tree = ast.parse(path.read_text("utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            targets = [m for m in submodules if m in known]
            if len(targets) < len(submodules):
                targets.append(base)
        else:
            continue
        if _under_type_checking(node, parents):
            continue
        for target in targets:
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            if target in known and target != name and target.startswith("sqla_stage"):
                yield target, node.lineno


def _graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target, _ in imports_of(name, path, known)}
        for name, path in known.items()
    }


def test_every_module_has_a_layer_and_the_facade_is_on_top() -> None:
    assert layer_of("sqla_stage") == "integrations"
    assert layer_of("sqla_stage.stage") == CONSTRUCTS
    assert layer_of("sqla_stage.runtime.engine.plugin") == "runtime"
    assert all(layer_of(name) in ORDER for name in modules())


def test_imports_only_go_down() -> None:
    known = modules()
    upward = [
        f"{name}:{line} ({layer_of(name)}) imports {target} ({layer_of(target)})"
        for name, path in sorted(known.items())
        for target, line in imports_of(name, path, known)
        if ORDER.index(layer_of(target)) > ORDER.index(layer_of(name))
    ]
    assert not upward, "imports from a layer above:\n" + "\n".join(upward)


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

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
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_import_circle() -> None:
    circles = _circles(_graph())
    assert not circles, "modules that import each other (directly or around a circle):\n" + (
        "\n".join(", ".join(group) for group in circles)
    )


def test_the_checks_see_a_circle_and_an_upward_import(tmp_path: Path) -> None:
    """The checks can fail: a circle, and a function-level import from a layer above."""
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    probe = tmp_path / "ddl.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from sqla_stage.reading import read\n"
        "def f():\n"
        "    from sqla_stage.display import wrap_result\n"
        "    from . import stage\n",
        "utf-8",
    )
    found = dict(imports_of("sqla_stage.ddl", probe, modules()))
    assert found == {"sqla_stage.display": 5, "sqla_stage.stage": 6}
    assert ORDER.index(layer_of("sqla_stage.display")) > ORDER.index(layer_of("sqla_stage.ddl"))
