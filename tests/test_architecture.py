"""The package's shape: imports run one way (dags → pipeline → outputs / recon → warehouse / ingest
→ contract / settings), with no cycle, and the demo generator stays outside the product."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fieldrecon.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

PACKAGE = PROJECT_ROOT / "src" / "fieldrecon"
# Higher layers may import lower ones, never the reverse; a layer may import itself.
LAYERS = {
    "fieldrecon.settings": 0, "fieldrecon.contract": 0, "fieldrecon.labels": 0, "fieldrecon.dates": 0,
    "fieldrecon.warehouse": 1,
    "fieldrecon.ingest": 2,
    "fieldrecon.recon": 2,
    "fieldrecon.outputs": 3,
    "fieldrecon.pipeline": 4,
    "fieldrecon.portal": 4,
    "fieldrecon.orchestration": 5,
    "fieldrecon.__main__": 6, "fieldrecon.cli": 6,
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every fieldrecon module a file imports, at top level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = me.split(".")[: -node.level] if not path.name == "__init__.py" else me.split(".")[: len(me.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found |= {f"{mod}.{a.name}" for a in node.names}
    return {m for m in found if m == "fieldrecon" or m.startswith("fieldrecon.") or m.startswith("fieldrecon_demo")}


def layer_of(module: str) -> int | None:
    best = None
    for prefix, rank in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            best = rank
    return best


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {m: {i for i in imports_of(p) if i in modules} for m, p in modules.items()}


def test_every_module_has_a_layer():
    missing = [m for m in graph() if m != "fieldrecon" and layer_of(m) is None]
    assert not missing, f"modules outside every layer (add them to LAYERS): {missing}"


def test_imports_run_one_way():
    upward = [(m, i) for m, deps in graph().items() for i in deps
              if m != "fieldrecon" and layer_of(i) is not None and layer_of(i) > layer_of(m)]
    assert not upward, f"upward imports: {upward}"


def test_no_import_cycle():
    g = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(g.get(m, ())):
            if d == m or d == "fieldrecon":
                continue
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (cycle := visit(d)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(g):
        if m not in state and (cycle := visit(m)):
            pytest.fail(f"import cycle: {' → '.join(cycle)}")


def test_demo_is_not_part_of_the_product():
    assert not (PACKAGE / "demo").exists()
    users = [m for m, p in ((module_name(p), p) for p in PACKAGE.rglob("*.py"))
             if any(i.startswith("fieldrecon_demo") for i in imports_of(p))]
    assert not users, f"the product imports the demo generator: {users}"
