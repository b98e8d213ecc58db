"""The layers of grader/, as import rules read from the source (ast: every import, those inside
functions included, relative ones resolved; import_module("grader...") with a literal too):

    course/    the curriculum, offline GPT-2 data, the catalogue of mistakes: imports only course/
    engine/    what the checks are made of (define, probe, judge, cases, wire): course/, engine/
    learner/   the `kata` CLI, progress, the pytest plugin, notebook checks: course/, engine/, learner/
    the worker and everything it imports, at any depth: course/, engine/ and the worker's folder,
               all of it inside the folders the sandbox mounts (grader.grading.sandbox.host.IN_SANDBOX)
    anywhere   no import cycle between modules, and no import of a grader module that does not exist.

grading/ (the class grader, sandbox host, reports) and builders/ (fixtures, release, notebooks,
Gradescope, demo, bench) may import the layers below them.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from grader.course.curriculum import ROOT

WORKER = "grader.grading.sandbox.inside.worker"
ALLOWED = {
    "course": {"course"},
    "engine": {"course", "engine"},
    "learner": {"course", "engine", "learner"},
}


def modules(root: Path) -> dict[str, Path]:
    """Every module of grader/ under `root` by its dotted name (packages have no __init__.py)."""
    grader = root / "grader"
    found = {}
    for path in sorted(grader.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if "hostile" in parts or "__pycache__" in parts:  # grader/tests/hostile: attack samples, not grader code
            continue
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _packages(names) -> set[str]:
    return {".".join(n.split(".")[:i]) for n in names for i in range(1, len(n.split(".")))}


def imports(name: str, path: Path, known: set[str]) -> tuple[set[str], list[str]]:
    """The grader modules `name` imports, and the imports of grader names that resolve to nothing."""
    packages = _packages(known)
    package = name.rsplit(".", 1)[0]
    deps: set[str] = set()
    unknown: list[str] = []

    def add(target: str, line: int) -> None:
        if target.split(".")[0] != "grader":
            return
        if target in known:
            deps.add(target)
        elif target not in packages:
            unknown.append(f"{path.name}:{line} imports {target}, which is not a module of grader/")

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "grader":
                continue
            for alias in node.names:
                if f"{module}.{alias.name}" in known or module in packages and module not in known:
                    add(f"{module}.{alias.name}", node.lineno)
                else:
                    add(module, node.lineno)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            add(node.args[0].value, node.lineno)
    return deps, unknown


def graph(root: Path) -> tuple[dict[str, set[str]], list[str]]:
    found = modules(root)
    edges, unknown = {}, []
    for name, path in found.items():
        edges[name], missing = imports(name, path, set(found))
        unknown += missing
    return edges, unknown


def layer(name: str) -> str:
    return name.split(".")[1] if "." in name else name


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        v = todo.pop()
        if v not in seen:
            seen.add(v)
            todo += edges.get(v, ())
    return seen


def violations(root: Path) -> list[str]:
    """Every broken rule of the module docstring, as one line each (none: the layout holds)."""
    from grader.grading.sandbox.host import IN_SANDBOX

    edges, problems = graph(root)
    for name, deps in sorted(edges.items()):
        allowed = ALLOWED.get(layer(name))
        if allowed is None:
            continue
        for dep in sorted(deps):
            if layer(dep) not in allowed:
                problems.append(f"{name} ({layer(name)}/) imports {dep}: {layer(name)}/ may import only "
                                f"{', '.join(sorted(allowed))}")
    if WORKER not in edges:
        problems.append(f"{WORKER} is missing")
    inside = reachable(edges, WORKER)
    mounted = tuple(part.replace("/", ".") + "." for part in IN_SANDBOX)
    for name in sorted(inside):
        if not name.startswith(mounted):
            problems.append(f"the worker imports {name} (through {sorted(d for d in inside if name in edges[d])}): "
                            f"it runs inside the sandbox, which mounts only {', '.join(IN_SANDBOX)}")
    for component in cycles(edges):
        problems.append("import cycle among: " + ", ".join(component))
    return problems


def test_the_layers_hold():
    assert violations(ROOT) == []


def test_the_whole_tree_is_read():
    edges, _ = graph(ROOT)
    assert {layer(n) for n in edges} >= {"course", "engine", "learner", "grading", "builders", "tests", "__main__"}
    assert "grader.engine.cases" in edges["grader.engine.session"], "relative imports are resolved"
    assert "grader.engine.probe" in edges[WORKER], "imports inside functions count"
    assert "grader.engine.checks" in edges["grader.learner.progress"], "`from ..engine import checks` names the module"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "grader", tmp_path / "grader", ignore=shutil.ignore_patterns("__pycache__", "tests"))
    return tmp_path


def plant(tree: Path, module: str, code: str) -> None:
    path = tree / "grader" / module
    path.write_text(path.read_text(encoding="utf-8") + code, encoding="utf-8")


@pytest.mark.parametrize("module, code, said", [
    ("engine/verdicts.py", "\n\ndef late():\n    from ..grading import grade  # noqa\n",
     "grader.engine.verdicts (engine/) imports grader.grading.grade"),
    ("course/curriculum.py", "\nfrom grader.engine import wire  # noqa\n",
     "grader.course.curriculum (course/) imports grader.engine.wire"),
    ("learner/cli.py", "\n\ndef late():\n    import grader.builders.release  # noqa\n",
     "grader.learner.cli (learner/) imports grader.builders.release"),
    ("engine/wire.py", "\n\ndef late():\n    import importlib\n    importlib.import_module('grader.grading.reports.pages')\n",
     "grader.engine.wire (engine/) imports grader.grading.reports.pages"),
    ("grading/sandbox/inside/worker.py", "\n\ndef late():\n    from grader.grading.reports import report  # noqa\n",
     "the worker imports grader.grading.reports.report"),
    ("engine/cases.py", "\n\ndef late():\n    from .reference import build_cases  # noqa\n",
     "import cycle among: grader.engine.cases, "),
    ("builders/demo.py", "\nfrom grader import fixtures  # noqa\n",
     "demo.py:"),
])
def test_a_planted_violation_is_caught(tree, module, code, said):
    assert violations(tree) == [], "the copy starts clean"
    plant(tree, module, code)
    assert [p for p in violations(tree) if said in p], violations(tree)
