"""Tools the agent may call, by name."""

from __future__ import annotations

from .artifacts import ReadArtifactTool
from .base import Tool, function_spec
from .files import EditFileTool, ListDirTool, ReadFileTool, WriteFileTool
from .plan_tool import UpdatePlanTool
from .search import SearchTool
from .shell import RunShellTool


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
    return ToolRegistry(
        [
            UpdatePlanTool(),
            ReadFileTool(),
            ListDirTool(),
            SearchTool(),
            WriteFileTool(),
            EditFileTool(),
            RunShellTool(),
            ReadArtifactTool(),
        ]
    )
