"""The live plan: its model and statuses (`model`, `status`), the shapes models send (`shapes`), the user's review
of a proposed plan (`review`) and the one owner of every change (`keeper`, imported from there: it speaks events).

The names below load on first use (PEP 562): the TUI draws its plan glyphs (`plan.status`) in the first frame, and
importing the package must not pull in pydantic and the plan's models before that frame.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .board import PlanBoard
    from .model import LivePlan, NewStep, PlanError, PlanUpdate, Step, StepPatch
    from .status import STATUS_TABLE, STATUSES, TERMINAL, StatusInfo, StepStatus, Verification, glyph
    from .update import apply, merge_updates

_HOMES = {
    "board": ["PlanBoard"],
    "model": ["LivePlan", "NewStep", "PlanError", "PlanUpdate", "Step", "StepPatch"],
    "status": ["STATUSES", "STATUS_TABLE", "TERMINAL", "StatusInfo", "StepStatus", "Verification", "glyph"],
    "update": ["apply", "merge_updates"],
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

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


def __getattr__(name: str) -> Any:
    if name not in _HOME_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_HOME_OF[name]}", __name__), name)
    globals()[name] = value  # found once; later reads are plain attribute reads
    return value
