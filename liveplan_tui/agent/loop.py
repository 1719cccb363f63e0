"""The ReAct loop: call the model, run its tool calls, repeat until it answers.

It is an async generator of events. Front-ends render them and cancel the
task that consumes it; cancelling leaves the history consistent (every tool
call answered, partial text kept and marked).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ..events import (
    AssistantMessage,
    ErrorEvent,
    Event,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    Usage,
)
from ..llm.json_actions import tool_calls_in
from ..llm.openai_compat import ChatClient, Completion, LLMError, ToolCall, usage_event
from ..redact import redact
from ..tools import ToolRegistry
from ..tools.artifacts import shrink
from ..tools.base import Tool, ToolContext, ToolError, ToolResult, parse_arguments
from .condenser import Condenser
from .conversation import Conversation

CANCELLED_RESULT = "error: cancelled by the user before this tool finished"
ToolGate = Callable[[Tool, ToolCall, Any, ToolContext], Awaitable[ToolResult | None]]


def _safe_arguments(raw: str) -> str:
    """Keep invalid JSON out of the history we send back; the error result explains it."""
    try:
        json.loads(raw or "{}")
        return raw or "{}"
    except json.JSONDecodeError:
        return "{}"


UNSHRUNK = {"update_plan", "read_artifact"}


async def run_tool(tools: ToolRegistry, call: ToolCall, ctx: ToolContext, gate: ToolGate | None = None) -> ToolResult:
    """Validate, gate and run one call; every failure becomes an `error:` result for the model."""
    tool = tools.get(call.name)
    if tool is None:
        names = ", ".join(tools.names())
        return ToolResult(f"error: unknown tool {call.name!r}; available tools: {names}", is_error=True)
    params = parse_arguments(tool, call.arguments)
    if isinstance(params, str):
        return ToolResult(params, is_error=True)
    try:
        denied = await gate(tool, call, params, ctx) if gate is not None else None
        result = denied or await tool.run(params, ctx)
    except ToolError as exc:
        result = ToolResult(f"error: {exc}", is_error=True)
    except Exception as exc:  # a tool bug must reach the model as a result, not end the turn
        result = ToolResult(f"error: {call.name} failed: {type(exc).__name__}: {exc}", is_error=True)
    result.text = redact(result.text, ctx.secrets)
    if call.name not in UNSHRUNK:
        result.text = shrink(result.text, ctx.artifacts, ctx.artifact_budget)
    return result


async def react(
    llm: ChatClient,
    conv: Conversation,
    tools: ToolRegistry,
    system_prompt: Callable[[], str],
    ctx: ToolContext,
    *,
    max_iterations: int,
    gate: ToolGate | None = None,
    request_options: dict[str, Any] | None = None,
    text_tool_calls: bool = False,
    condenser: Condenser | None = None,
) -> AsyncIterator[Event]:
    """Run model calls and tool calls over `conv` until a final answer.

    With `text_tool_calls`, a reply with no native tool calls but a JSON call in
    its text (as small local models write them) is run as that call.
    """
    partial: list[str] = []
    specs = tools.specs()
    ended_by = CANCELLED_RESULT
    try:
        for _ in range(max_iterations):
            if condenser is not None:
                event = await condenser.condense(conv, system_prompt, specs)
                if event is not None:
                    yield event
            recovered = False
            while True:
                system = system_prompt()
                estimate = condenser.estimate(conv, system, specs) if condenser else 0
                messages = [{"role": "system", "content": system}, *conv.messages]
                completion: Completion | None = None
                partial.clear()
                try:
                    async for item in llm.stream(messages, tools=specs, **(request_options or {})):
                        if isinstance(item, Completion):
                            completion = item
                        else:
                            if item.type == "text_delta":
                                partial.append(item.text)
                            elif item.type == "stream_reset":
                                partial.clear()
                            yield item
                    break
                except LLMError as err:
                    partial.clear()
                    if err.kind == "context_length" and condenser is not None and not recovered:
                        recovered = True
                        event = await condenser.condense(conv, system_prompt, specs, force=True)
                        if event is not None and event.tokens_after < estimate:
                            yield event
                            continue
                        err.message = "the conversation does not fit the model's context window, even condensed: start /new or lower --context-window"
                    yield ErrorEvent(kind=err.kind, message=redact(err.message, ctx.secrets))
                    yield TurnFinished(answer="", reason="error")
                    return
            assert completion is not None
            partial.clear()
            window = condenser.window if condenser else 0
            reported = usage_event(completion, window)
            if reported is not None:
                if condenser is not None:
                    condenser.observe(reported.prompt_tokens, estimate)
                yield reported
            elif condenser is not None:
                produced = conv.counter.count(completion.content)
                yield Usage(prompt_tokens=estimate, completion_tokens=produced, total_tokens=estimate + produced,
                            estimated=not conv.counter.exact, context_window=window)
            if not completion.tool_calls and text_tool_calls:
                completion.tool_calls = tool_calls_in(completion.content, set(tools.names()))
            if not completion.tool_calls:
                conv.add({"role": "assistant", "content": completion.content})
                yield AssistantMessage(content=completion.content)
                yield TurnFinished(answer=completion.content)
                return
            conv.add(
                {
                    "role": "assistant",
                    "content": completion.content or None,
                    "tool_calls": [
                        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": _safe_arguments(c.arguments)}}
                        for c in completion.tool_calls
                    ],
                }
            )
            if completion.content:
                yield AssistantMessage(content=completion.content)
            for call in completion.tool_calls:
                yield ToolCallStarted(call_id=call.id, name=call.name, arguments=call.arguments)
                result = await run_tool(tools, call, ctx, gate)
                conv.add({"role": "tool", "tool_call_id": call.id, "content": result.text})
                for event in result.events:
                    yield event
                yield ToolCallFinished(call_id=call.id, name=call.name, result=result.text, is_error=result.is_error)
        message = f"stopped after {max_iterations} model calls without a final answer; raise --max-iterations or ask again"
        yield ErrorEvent(kind="max_iterations", message=message)
        yield TurnFinished(answer="", reason="max_iterations")
    except Exception as exc:
        ended_by = f"error: interrupted by a failure before this tool finished ({type(exc).__name__})"
        raise
    finally:
        # Runs on normal exit too, where both are no-ops; on cancellation it closes the history.
        for call_id in conv.dangling_tool_calls():
            conv.add({"role": "tool", "tool_call_id": call_id, "content": ended_by})
        if partial:
            conv.add({"role": "assistant", "content": "".join(partial) + "\n[interrupted by the user]"})
