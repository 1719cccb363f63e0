"""Approval policy: which tool calls need a human's yes, and asking for it.

Front-ends supply the `Approver` (a modal in the TUI, a y/n/a prompt in the
REPL, a fixed answer in `exec`); the gate applies the policy and turns a
denial into a tool result, so the model can adapt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel

from ..choices import Approval
from ..llm.base import ToolCall
from ..tools.base import Tool, ToolContext, ToolError, ToolResult


class ApprovalRequest(BaseModel):
    call_id: str
    tool: str
    why: str
    preview: str
    lexer: str = "json"  # how the preview is highlighted, as the tool declares


class Decision(BaseModel):
    action: Literal["once", "always", "deny"]
    reason: str = ""


Approver = Callable[[ApprovalRequest], Awaitable[Decision]]


def is_sensitive(tool: Tool, params: Any, ctx: ToolContext) -> bool:
    return params is not None and tool.sensitive(params, ctx)


def approval_reason(
    policy: Approval, tool: Tool, params: Any, ctx: ToolContext, sensitive: bool | None = None
) -> str | None:
    """Why this call needs approval under `policy`, or None when it may run freely.

    A secret file (judged on the real file behind the path) asks under every policy but never-ask.
    """
    if policy == "never-ask":
        return None
    if sensitive is None:
        sensitive = is_sensitive(tool, params, ctx)
    if tool.kind == "read":
        return "reads a file that may hold secrets" if sensitive else None
    if tool.kind == "write":
        if sensitive:
            return "changes a file that may hold secrets"
        return "changes files" if policy == "ask" else None
    if tool.kind == "shell":
        return "runs a shell command"
    if tool.kind == "mcp" and not tool.trusted:
        return "calls a tool of an MCP server, with these arguments"
    return None


class ApprovalGate:
    """Decides a call before any part of its work touches the target.

    The preview is built only when someone will look at it, and a failed preview of a
    file that needs approval is shown to the user, never sent to the model: its error
    (`occurs 1 times` against `was not found`) would be an oracle on the file's content.
    """

    def __init__(self, policy: Approval, approver: Approver):
        self.policy = policy
        self.approver = approver
        self.always: set[str] = set()
        self._asking = asyncio.Lock()  # parallel subagents ask one question at a time

    async def __call__(self, tool: Tool, call: ToolCall, params: Any, ctx: ToolContext) -> ToolResult | None:
        sensitive = is_sensitive(tool, params, ctx)
        why = approval_reason(self.policy, tool, params, ctx, sensitive)
        key = tool.name + (":secret" if sensitive else "")  # an "always" for a tool never covers its secret files
        if why is None or key in self.always:
            return None
        fixed: Decision | None = getattr(self.approver, "fixed", None)
        if fixed is not None:
            return self._outcome(tool, key, fixed)
        preview = self._preview(tool, call, params, ctx, sensitive)
        if isinstance(preview, ToolResult):
            return preview
        async with self._asking:
            if key in self.always:  # approved for the session while this call waited
                return None
            request = ApprovalRequest(
                call_id=call.id, tool=tool.name, why=why, preview=preview, lexer=tool.preview_lexer
            )
            decision = await self.approver(request)
        return self._outcome(tool, key, decision)

    def _preview(self, tool: Tool, call: ToolCall, params: Any, ctx: ToolContext, sensitive: bool) -> str | ToolResult:
        try:
            return tool.preview(params, ctx) or f"{tool.name} {call.arguments}"
        except (ToolError, OSError, ValueError) as exc:
            if sensitive:
                return f"{tool.name} {call.arguments}\n(no preview: {exc})"
            return ToolResult(f"error: {exc}", is_error=True)  # the model may read this file freely anyway

    def _outcome(self, tool: Tool, key: str, decision: Decision) -> ToolResult | None:
        if decision.action == "always":
            self.always.add(key)
        if decision.action == "deny":
            reason = f": {decision.reason}" if decision.reason else ""
            return ToolResult(
                f"error: the user denied {tool.name}{reason}. Nothing was run or changed. "
                "Don't repeat the same call; adapt your approach or ask the user.",
                is_error=True,
                denied=True,
            )
        return None


def fixed_approver(approve: bool, reason: str = "") -> Approver:
    """An answer given in advance (`exec`): the gate applies it without building a preview."""
    answer = Decision(action="once") if approve else Decision(action="deny", reason=reason)

    async def decide(request: ApprovalRequest) -> Decision:
        return answer

    decide.fixed = answer  # type: ignore[attr-defined]
    return decide
