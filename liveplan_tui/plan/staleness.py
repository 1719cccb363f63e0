"""Staleness caught from the work, not from the model's word. Pure.

Plans go stale in two ways the tool calls show: a step stays in progress while call after call goes by without an
`update_plan`, or files are written and commands run while steps wait and none is in progress. Either way, the next
`[PLAN]` block carries one `Reminder:` line naming what to do; otherwise it carries none.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import LivePlan
from .status import StepStatus

END = "[/PLAN]"


@dataclass
class Staleness:
    """How far the work has run ahead of the plan since its last change."""

    calls_since_update: int = 0  # tool calls while a step was in progress, since the last update_plan
    off_plan: bool = False  # work (files, commands) done while steps wait and none is in progress

    def after_call(self, plan: LivePlan, name: str, did_work: bool) -> None:
        """Count one finished tool call against `plan` as it stood when the call ended."""
        if name == "update_plan":
            self.calls_since_update, self.off_plan = 0, False
        elif plan.current is not None:
            self.calls_since_update += 1
        elif did_work and any(s.status == StepStatus.PENDING for s in plan.steps):
            self.off_plan = True

    def reminder(self, plan: LivePlan, after: int) -> str | None:
        """The one line the next `[PLAN]` block carries, or None when the plan keeps up with the work."""
        step = plan.current
        if step is not None and after > 0 and self.calls_since_update >= after:
            return (
                f"Reminder: step {step.id} ({step.description}) has been in progress for {self.calls_since_update} "
                "tool calls without an update_plan. If it is done, complete it with its result; if not, keep going "
                "and say what is left in its result."
            )
        if step is None and self.off_plan and any(s.status == StepStatus.PENDING for s in plan.steps):
            return (
                "Reminder: files are being changed or commands run, but no step is in progress. Start the step this "
                "work belongs to with update_plan (status in_progress) before going on."
            )
        return None


def with_reminder(block: str, line: str | None) -> str:
    """The `[PLAN]` block with the reminder as its last line inside `[/PLAN]`."""
    if not line or not block.endswith(END):
        return block
    return f"{block[: -len(END)]}{line}\n{END}"
