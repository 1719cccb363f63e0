"""`update_plan`: the only way the model changes the live plan."""

from __future__ import annotations

from typing import ClassVar

from ..events import PlanUpdated
from ..plan import PlanError, PlanUpdate
from ..prompts import load
from .base import ToolContext, ToolKind, ToolResult


class UpdatePlanTool:
    name: ClassVar[str] = "update_plan"
    kind: ClassVar[ToolKind] = "plan"
    Params: ClassVar[type[PlanUpdate]] = PlanUpdate

    def description(self) -> str:
        return load("tools/update_plan.md")

    async def run(self, params: PlanUpdate, ctx: ToolContext) -> ToolResult:
        return apply_update(ctx, params, source="model")


def apply_update(ctx: ToolContext, update: PlanUpdate, *, source: str, max_in_progress: int = 1) -> ToolResult:
    """Apply atomically; the result echoes the plan so the model re-anchors on it."""
    old = ctx.plans.board
    try:
        new, archived = old.apply(update, max_in_progress=max_in_progress)
    except PlanError as exc:
        current = old.active.render() if not old.active.is_empty else "(no active plan)"
        return ToolResult(f"error: {exc}\nThe plan is unchanged:\n{current}", is_error=True)
    ctx.plans.board = new
    shown = new.latest
    text = shown.render()
    if archived:
        text += "\nAll steps are done; the plan is archived. Give the final answer now."
    event = PlanUpdated(
        old=old.active, new=shown, archived=archived, explanation=update.explanation or "", source=source  # type: ignore[arg-type]
    )
    return ToolResult(text, events=[event])
