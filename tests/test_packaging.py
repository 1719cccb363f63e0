"""The wheel must carry the prompts and the console script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_prompts_and_entry_point(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.removeprefix("liveplan_tui/prompts/") for n in names if n.startswith("liveplan_tui/prompts/")}
    expected = {str(p.relative_to(ROOT / "prompts")) for p in (ROOT / "prompts").rglob("*") if p.is_file()}
    assert expected and shipped == expected
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "liveplan = liveplan_tui.cli:entry" in zipfile.ZipFile(wheel).read(entry).decode()
