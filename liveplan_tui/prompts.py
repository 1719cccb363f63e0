"""Prompt files, read from the top-level `prompts/` folder (shipped inside the wheel)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_CANDIDATES = (_HERE / "prompts", _HERE.parent / "prompts")


def prompts_dir() -> Path:
    """The wheel carries prompts inside the package; a source checkout keeps them at the top."""
    for candidate in _CANDIDATES:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("prompts/ folder not found; reinstall liveplan-tui")


@cache
def load(name: str) -> str:
    """Return the text of `prompts/<name>` without its trailing newline."""
    return (prompts_dir() / name).read_text(encoding="utf-8").strip()
