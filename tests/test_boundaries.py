"""Architecture rules that are easy to break by accident, checked from the source itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "liveplan_tui"
CORE = [
    "plan",
    "router",
    "condense",
    "tokens",
    "events",
    "config",
    "agent",
    "llm",
    "tools",
    "headless",
    "store",
    "present",
]
FRONT_ENDS = (
    "liveplan_tui.ui",
    "liveplan_tui.repl",
    "liveplan_tui.headless",
    "liveplan_tui.cli",
    "liveplan_tui.commands",
)
FRONT_END_MAY_USE = {
    "liveplan_tui.agent",
    "liveplan_tui.agent.session",
    "liveplan_tui.agent.goals",
}  # goals drive a Session
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every liveplan_tui module `path` imports: top level, in functions and under TYPE_CHECKING alike."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("liveplan_tui")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if not base.startswith("liveplan_tui"):
                continue
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}  # `from .pkg import module`
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PKG.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {t for t in imports_of(path) if t in modules and t != name}
        own_packages = {".".join(name.split(".")[:i]) for i in range(1, len(name.split(".")))}
        for target in list(targets):  # importing a.b.c runs a/__init__ and a/b/__init__ first
            parts = target.split(".")
            targets |= {
                p for i in range(2, len(parts)) if (p := ".".join(parts[:i])) in modules and p not in own_packages
            }
        edges[name] = targets
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
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
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_anywhere() -> None:
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_front_ends_use_only_the_session_of_the_agent() -> None:
    edges = graph()
    leaks = {
        name: sorted(t for t in targets if t.startswith("liveplan_tui.agent") and t not in FRONT_END_MAY_USE)
        for name, targets in edges.items()
        if name.startswith(FRONT_ENDS)
    }
    assert {k: v for k, v in leaks.items() if v} == {}


def test_llm_package_imports_neither_events_nor_config() -> None:
    edges = graph()
    bad = {
        n: sorted(t for t in ts if t.startswith(("liveplan_tui.events", "liveplan_tui.config", "liveplan_tui.agent")))
        for n, ts in edges.items()
        if n.startswith("liveplan_tui.llm")
    }
    assert {k: v for k, v in bad.items() if v} == {}


@pytest.mark.parametrize("package", ["liveplan_tui.tools", "liveplan_tui.plan"])
def test_tools_and_the_plan_never_import_the_agent(package: str) -> None:
    """The agent uses tools and the plan; neither reaches back (the plan's keeper lives in `plan/`, not `agent/`)."""
    edges = graph()
    bad = {
        n: sorted(t for t in ts if t.startswith("liveplan_tui.agent"))
        for n, ts in edges.items()
        if n == package or n.startswith(package + ".")
    }
    assert {k: v for k, v in bad.items() if v} == {}
    assert any(n.startswith(package + ".") for n in edges), f"{package} has no modules: the rule checks nothing"


@pytest.mark.slow
def test_core_never_imports_textual() -> None:
    """Importing every core module must not pull in textual; the UI sits on top, never below."""
    modules = [module_name(p) for p in sorted(PKG.rglob("*.py")) if p.relative_to(PKG).with_suffix("").parts[0] in CORE]
    assert len(modules) >= 8
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]", out


def test_modules_and_functions_stay_small() -> None:
    big_modules = {
        module_name(p): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    long_functions = {}
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions[f"{module_name(path)}.{node.name}"] = length
    assert big_modules == {} and long_functions == {}
