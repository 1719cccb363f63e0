"""Running a step's check: a shell command, through the same approval path (and sandbox) as `run_shell`."""

from __future__ import annotations

import json

from ..llm.assemble import new_call_id
from ..llm.base import ToolCall
from ..tools import ToolRegistry
from ..tools.base import CheckOutcome, ToolContext
from .tool_runs import run_tool
from .turn import ToolGate

CHECK_TIMEOUT = 300


async def run_check(command: str, tools: ToolRegistry, ctx: ToolContext, gate: ToolGate | None) -> CheckOutcome:
    """passed, failed with its output, or unverified when the shell was refused or is not there."""
    if tools.get("run_shell") is None:
        return CheckOutcome("unverified", "no shell to run the check")
    arguments = json.dumps({"command": command, "timeout": CHECK_TIMEOUT})
    result = await run_tool(tools, ToolCall(id=new_call_id(), name="run_shell", arguments=arguments), ctx, gate)
    if result.denied:
        return CheckOutcome("unverified", "the check was not approved, so it did not run")
    if result.is_error:
        return CheckOutcome("failed", result.text)
    return CheckOutcome("passed", result.text)
