"""House rules are tooling: ruff (line length 120) and mypy, as configured in pyproject.toml, are clean, over the
package and its tests alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean() -> None:
    proc = run("ruff", "check", "liveplan_tui", "tests")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_is_kept() -> None:
    proc = run("ruff", "format", "--check", "liveplan_tui", "tests")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_is_clean() -> None:
    proc = run("mypy")  # pyproject.toml's `files`: the package and tests/
    assert proc.returncode == 0, proc.stdout + proc.stderr
