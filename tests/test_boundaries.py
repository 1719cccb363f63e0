"""Architecture rules that are easy to break by accident."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "liveplan_tui"
CORE = ["plan", "router", "condense", "tokens", "events", "config", "agent", "llm", "tools", "headless", "store"]


def test_core_never_imports_textual() -> None:
    """Importing every core module must not pull in textual; the UI sits on top, never below."""
    modules = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).with_suffix("")
        if rel.parts[0] in CORE:
            modules.append("liveplan_tui." + ".".join(p for p in rel.parts if p != "__init__"))
    assert len(modules) >= 8
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]", out


def test_no_module_is_a_god_module() -> None:
    big = {p.name: n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > 550}
    assert big == {}
