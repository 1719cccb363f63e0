"""`update_plan`: the only way the model changes the live plan."""

from __future__ import annotations

from typing import Any, ClassVar

from ..agent.planning import acceptance, rejection
from ..plan import PlanError, PlanUpdate
from ..plan_shapes import VALID_ARGUMENTS
from .base import Tool, ToolContext, ToolKind, ToolResult


class UpdatePlanTool(Tool):
    name: ClassVar[str] = "update_plan"
    kind: ClassVar[ToolKind] = "plan"
    Params: ClassVar[type[PlanUpdate]] = PlanUpdate
    shrinkable: ClassVar[bool] = False  # the model must always see the whole plan
    arguments_hint: ClassVar[str] = VALID_ARGUMENTS

    async def run(self, params: PlanUpdate, ctx: ToolContext) -> ToolResult:
        try:
            event = ctx.plans.apply(params, source="model")
        except PlanError as exc:
            return ToolResult(rejection(exc, ctx.plans.board), is_error=True)
        return ToolResult(acceptance(event), plan=event)

    def summary(self, args: dict[str, Any]) -> str:
        keys = [k for k in ("goal", "steps", "updates", "notes") if k in args]
        return f"update_plan {', '.join(keys)}"
