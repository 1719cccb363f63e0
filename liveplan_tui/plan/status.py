"""Plan statuses and check verdicts in one table each: the panel, REPL, export and engines all read these."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class StepStatus(StrEnum):
    """A step's status. A `str`, so it is its own JSON and compares equal to the model's words."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


STATUSES: tuple[str, ...] = tuple(StepStatus)


@dataclass(frozen=True)
class StatusInfo:
    """Everything the app knows about a status, in one row: the panel, REPL, export and engines read it."""

    glyph: str
    ascii: str
    terminal: bool
    runnable: bool


STATUS_TABLE: dict[StepStatus, StatusInfo] = {
    StepStatus.PENDING: StatusInfo("○", "[ ]", terminal=False, runnable=True),
    StepStatus.IN_PROGRESS: StatusInfo("▶", "[~]", terminal=False, runnable=False),
    StepStatus.COMPLETED: StatusInfo("✔", "[x]", terminal=True, runnable=False),
    StepStatus.CANCELLED: StatusInfo("✘", "[-]", terminal=True, runnable=False),
}
assert set(STATUS_TABLE) == set(StepStatus), "every status needs a row"
TERMINAL: frozenset[StepStatus] = frozenset(name for name, info in STATUS_TABLE.items() if info.terminal)


Verification = Literal["", "passed", "failed", "unverified"]
VERIFICATION_BADGES: dict[str, str] = {
    "": "",
    "passed": "verified",
    "failed": "check failed",
    "unverified": "unverified",
}


def glyph(status: str) -> str:
    return STATUS_TABLE[StepStatus(status)].glyph
