"""The live plan: its model and statuses (`model`, `status`), the shapes models send (`shapes`), the user's review
of a proposed plan (`review`) and the one owner of every change (`keeper`, imported from there: it speaks events).
"""

from __future__ import annotations

from .board import PlanBoard
from .model import (
    LivePlan,
    NewStep,
    PlanError,
    PlanUpdate,
    Step,
    StepPatch,
)
from .status import STATUS_TABLE, STATUSES, TERMINAL, StatusInfo, StepStatus, Verification, glyph
from .update import apply, merge_updates

__all__ = [
    "STATUSES",
    "STATUS_TABLE",
    "TERMINAL",
    "LivePlan",
    "NewStep",
    "PlanBoard",
    "PlanError",
    "PlanUpdate",
    "StatusInfo",
    "Step",
    "StepPatch",
    "StepStatus",
    "Verification",
    "apply",
    "glyph",
    "merge_updates",
]
