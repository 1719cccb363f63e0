"""The fast suite stays fast: a test that starts a process (the CLI, a browser, a build, mypy) carries `slow`.

Read from the source: a test that calls one of the process starters below, itself or through a helper of its module,
must be marked `slow` (by a decorator or its module's `pytestmark`), so `pytest -m "not slow"` never starts one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
STARTS_A_PROCESS = re.compile(r"\brun_cli\(|subprocess\.|\bPopen\(|exec_attack\(|chromium|run_measured\(")
IMPORTED_STARTERS = {"run", "exec_attack", "run_cli", "running", "make_session"}  # from conftest, quirks, helpers
HELPER_MODULES = {"conftest", "quirks", "attack", "web_helpers"}


def _slow(node: ast.AST) -> bool:
    return any("slow" in ast.unparse(d) for d in getattr(node, "decorator_list", []))


def unmarked(path: Path, root: Path = TESTS) -> list[str]:
    src = path.read_text()
    tree = ast.parse(src)
    if any(
        isinstance(n, ast.Assign) and "pytestmark" in ast.unparse(n) and "slow" in ast.unparse(n) for n in tree.body
    ):
        return []
    funcs = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    starters = {name for name, n in funcs.items() if STARTS_A_PROCESS.search(ast.get_source_segment(src, n) or "")}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module in HELPER_MODULES:
            starters |= {a.asname or a.name for a in node.names if a.name in IMPORTED_STARTERS}
    grown = True
    while grown:  # helpers that call helpers that start a process
        grown = False
        for name, n in funcs.items():
            calls = {c.func.id for c in ast.walk(n) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
            if name not in starters and calls & starters:
                starters.add(name)
                grown = True
    tests = [
        n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
    ]
    return [f"{path.relative_to(root)}::{t.name}" for t in tests if t.name in starters and not _slow(t)]


def test_tests_that_start_processes_are_marked_slow() -> None:
    here = Path(__file__).resolve()
    found = [name for path in sorted(TESTS.rglob("test_*.py")) if path != here for name in unmarked(path)]
    assert found == [], "mark these @pytest.mark.slow:\n" + "\n".join(found)


def test_the_marker_rule_sees_a_process(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "import subprocess\nfrom conftest import run_cli\n\n"
        "def helper():\n    return run_cli('exec')\n\n"
        "def test_direct():\n    subprocess.run(['true'])\n\n"
        "def test_through_a_helper():\n    helper()\n\n"
        "def test_pure():\n    assert 1\n"
    )
    assert unmarked(sample, tmp_path) == ["test_sample.py::test_direct", "test_sample.py::test_through_a_helper"]
