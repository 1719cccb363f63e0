"""Tools the agent may call, by name."""

from __future__ import annotations

from .base import Tool, function_spec
from .plan_tool import UpdatePlanTool


class ToolRegistry:
    def __init__(self, tools: list[Tool]):
        self._tools = {t.name: t for t in tools}

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> list[dict]:
        return [function_spec(t) for t in self._tools.values()]

    def without(self, *names: str) -> ToolRegistry:
        return ToolRegistry([t for n, t in self._tools.items() if n not in names])


def default_tools() -> ToolRegistry:
    return ToolRegistry([UpdatePlanTool()])
