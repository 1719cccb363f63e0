"""Tools the agent may call, by name: adding one is its module, its prompt file and one line below."""

from __future__ import annotations

import json
from typing import Any

from .. import jsonsafe
from .artifacts import ReadArtifactTool
from .base import Tool
from .files import EditFileTool, ListDirTool, ReadFileTool, WriteFileTool
from .plan_tool import UpdatePlanTool
from .search import SearchTool
from .shell import RunShellTool


def parse_args(arguments: str) -> dict[str, Any] | None:
    try:
        args = jsonsafe.loads(arguments or "{}")
    except json.JSONDecodeError:
        return None
    return args if isinstance(args, dict) else {}


class ToolRegistry:
    def __init__(self, tools: list[Tool]):
        self._tools = {t.name: t for t in tools}

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        return [t.spec() for t in self._tools.values()]

    def plus(self, tools: list[Tool]) -> ToolRegistry:
        return ToolRegistry([*self._tools.values(), *tools])

    def without(self, *names: str) -> ToolRegistry:
        return ToolRegistry([t for n, t in self._tools.items() if n not in names])

    def only(self, *names: str) -> ToolRegistry:
        return ToolRegistry([t for n, t in self._tools.items() if n in names])

    def summary(self, name: str, arguments: str) -> str:
        """The chat's one line for a call, from the tool itself (any tool, known or not)."""
        args = parse_args(arguments)
        if args is None:
            return f"{name} (invalid arguments)"
        tool = self._tools.get(name)
        return tool.summary(args) if tool is not None else name

    def target(self, name: str, args: dict[str, Any]) -> str:
        tool = self._tools.get(name)
        return tool.target(args) if tool is not None else ""

    def preview_lexer(self, name: str) -> str:
        tool = self._tools.get(name)
        return tool.preview_lexer if tool is not None else "json"


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
