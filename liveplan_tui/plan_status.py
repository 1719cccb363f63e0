"""Plan statuses and check verdicts in one table each: the panel, REPL, export and engines all read these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

StepStatus = Literal["pending", "in_progress", "completed", "cancelled"]
STATUSES: tuple[str, ...] = get_args(StepStatus)


@dataclass(frozen=True)
class StatusInfo:
    """Everything the app knows about a status, in one row: the panel, REPL, export and engines read it."""

    glyph: str
    ascii: str
    terminal: bool
    runnable: bool


STATUS_TABLE: dict[str, StatusInfo] = {
    "pending": StatusInfo("○", "[ ]", terminal=False, runnable=True),
    "in_progress": StatusInfo("▶", "[~]", terminal=False, runnable=False),
    "completed": StatusInfo("✔", "[x]", terminal=True, runnable=False),
    "cancelled": StatusInfo("✘", "[-]", terminal=True, runnable=False),
}
assert set(STATUS_TABLE) == set(STATUSES), "every status needs a row"
TERMINAL: frozenset[str] = frozenset(name for name, info in STATUS_TABLE.items() if info.terminal)


Verification = Literal["", "passed", "failed", "unverified"]
VERIFICATION_BADGES: dict[str, str] = {
    "": "",
    "passed": "verified",
    "failed": "check failed",
    "unverified": "unverified",
}


def glyph(status: str) -> str:
    return STATUS_TABLE[status].glyph
