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

from ..config import Approval
from ..llm.openai_compat import ToolCall
from ..tools.base import Tool, ToolContext, ToolResult


class ApprovalRequest(BaseModel):
    call_id: str
    tool: str
    why: str
    preview: str


class Decision(BaseModel):
    action: Literal["once", "always", "deny"]
    reason: str = ""


Approver = Callable[[ApprovalRequest], Awaitable[Decision]]


def approval_reason(policy: Approval, tool: Tool, params: Any, ctx: ToolContext) -> str | None:
    """Why this call needs approval under `policy`, or None when it may run freely."""
    if policy == "never-ask":
        return None
    if tool.kind == "read":
        sensitive = getattr(tool, "sensitive", None)
        return "reads a file that may hold secrets" if sensitive and sensitive(params, ctx) else None
    if tool.kind == "write":
        return "changes files" if policy == "ask" else None
    if tool.kind == "shell":
        return "runs a shell command"
    return None


class ApprovalGate:
    def __init__(self, policy: Approval, approver: Approver):
        self.policy = policy
        self.approver = approver
        self.always: set[str] = set()
        self._asking = asyncio.Lock()  # parallel subagents ask one question at a time

    async def __call__(self, tool: Tool, call: ToolCall, params: Any, ctx: ToolContext) -> ToolResult | None:
        why = approval_reason(self.policy, tool, params, ctx)
        if why is None or tool.name in self.always:
            return None
        preview_fn = getattr(tool, "preview", None)
        preview = preview_fn(params, ctx) if preview_fn else f"{tool.name} {call.arguments}"
        async with self._asking:
            if tool.name in self.always:  # approved for the session while this call waited
                return None
            decision = await self.approver(ApprovalRequest(call_id=call.id, tool=tool.name, why=why, preview=preview))
        if decision.action == "always":
            self.always.add(tool.name)
        if decision.action == "deny":
            reason = f": {decision.reason}" if decision.reason else ""
            return ToolResult(
                f"error: the user denied {tool.name}{reason}. Nothing was run or changed. "
                "Don't repeat the same call; adapt your approach or ask the user.",
                is_error=True,
            )
        return None


def fixed_approver(approve: bool, reason: str = "") -> Approver:
    async def decide(request: ApprovalRequest) -> Decision:
        return Decision(action="once") if approve else Decision(action="deny", reason=reason)

    return decide
