"""Guided mode: the ReAct loop. Call the model, run its tool calls, repeat until it answers.

It is an async generator of events. Front-ends render them and cancel the
task that consumes it; cancelling leaves the history consistent (every tool
call answered, partial text kept and marked).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from ...events import (
    AssistantMessage,
    Error,
    Event,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    Usage,
)
from ...llm.base import Completion, LLMError, ToolCall
from ...llm.json_actions import tool_calls_in
from ...redact import redact
from ...tools import ToolRegistry
from ...tools.artifact_store import shrink
from ...tools.base import ToolContext, ToolResult, parse_arguments
from ...tools.errors import ToolError
from ..turn import Reply, ToolGate, TurnContext, fail_turn, finish_turn, usage_event

CANCELLED_RESULT = "error: cancelled by the user before this tool finished"
OVERFLOW = (
    "the conversation does not fit the model's context window, even condensed: start /new or lower --context-window"
)


def _safe_arguments(raw: str) -> str:
    """Keep invalid JSON out of the history we send back; the error result explains it."""
    try:
        json.loads(raw or "{}")
        return raw or "{}"
    except json.JSONDecodeError:
        return "{}"


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
    if tool.shrinkable:
        result.text = shrink(result.text, ctx.artifacts, ctx.artifact_budget)
    return result


class ReactLoop:
    """One turn of the loop over a context; `partial` is what streamed of a reply not yet finished."""

    def __init__(self, ctx: TurnContext):
        self.ctx = ctx
        self.specs = ctx.tools.specs()
        self.reply = Reply()
        self.failed: LLMError | None = None
        self.estimate = 0

    async def _call_model(self) -> AsyncIterator[Event]:
        """One model call; a context overflow is condensed and retried once. Sets `failed` on error."""
        ctx, recovered = self.ctx, False
        while True:
            system = ctx.system_prompt()
            self.estimate = ctx.condenser.estimate(ctx.conv, system, self.specs) if ctx.condenser else 0
            self.reply = Reply()
            try:
                stream = ctx.llm.stream([{"role": "system", "content": system}, *ctx.conv.messages], tools=self.specs)
                async for event in self.reply.relay(stream):
                    yield event
                return
            except LLMError as err:
                self.reply.partial.clear()
                if err.kind == "context_length" and ctx.condenser is not None and not recovered:
                    recovered = True
                    condensed = await ctx.condenser.condense(ctx.conv, ctx.system_prompt, self.specs, force=True)
                    if condensed is not None and condensed.tokens_after < self.estimate:
                        yield condensed
                        continue
                    err.message = OVERFLOW
                self.failed = err
                return

    def _usage(self, completion: Completion) -> Usage | None:
        condenser = self.ctx.condenser
        reported = usage_event(completion, condenser.window if condenser else 0)
        if reported is not None:
            if condenser is not None:
                condenser.observe(reported.prompt_tokens, self.estimate)
            return reported
        if condenser is None:
            return None
        produced = self.ctx.conv.counter.count(completion.content)
        return Usage(
            prompt_tokens=self.estimate,
            completion_tokens=produced,
            total_tokens=self.estimate + produced,
            estimated=not self.ctx.conv.counter.exact,
            context_window=condenser.window,
        )

    async def _run_tools(self, completion: Completion) -> AsyncIterator[Event]:
        ctx = self.ctx
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": _safe_arguments(c.arguments)}}
            for c in completion.tool_calls
        ]
        ctx.conv.add({"role": "assistant", "content": completion.content or None, "tool_calls": calls})
        for call in completion.tool_calls:
            yield ToolCallStarted(
                call_id=call.id,
                name=call.name,
                arguments=call.arguments,
                summary=ctx.tools.summary(call.name, call.arguments),
            )
            result = await run_tool(ctx.tools, call, ctx.tool_ctx, ctx.gate)
            ctx.conv.add({"role": "tool", "tool_call_id": call.id, "content": result.text})
            if result.plan is not None:
                yield result.plan
            yield ToolCallFinished(call_id=call.id, name=call.name, result=result.text, is_error=result.is_error)

    def repair_history(self, ended_by: str) -> None:
        """Close what a cancelled or failed turn left open: unanswered calls, a half-streamed reply."""
        conv = self.ctx.conv
        for call_id in conv.dangling_tool_calls():
            conv.add({"role": "tool", "tool_call_id": call_id, "content": ended_by})
        if self.reply.partial:
            conv.add({"role": "assistant", "content": "".join(self.reply.partial) + "\n[interrupted by the user]"})
            self.reply.partial.clear()

    async def run(self) -> AsyncIterator[Event]:
        """Model calls and tool calls until a final answer, the iteration limit, or an error."""
        ctx = self.ctx
        for _ in range(ctx.limits.max_iterations):
            if ctx.condenser is not None and (
                condensed := await ctx.condenser.condense(ctx.conv, ctx.system_prompt, self.specs)
            ):
                yield condensed
            async for event in self._call_model():
                yield event
            if self.failed is not None:
                for event in fail_turn(self.failed, ctx.tool_ctx.secrets):
                    yield event
                return
            completion = self.reply.completion
            assert completion is not None
            if (usage := self._usage(completion)) is not None:
                yield usage
            if not completion.tool_calls and ctx.text_tool_calls:
                completion.tool_calls = tool_calls_in(completion.content, set(ctx.tools.names()))
            if not completion.tool_calls:
                for event in finish_turn(ctx.conv, completion.content):
                    yield event
                return
            if completion.content:
                yield AssistantMessage(content=completion.content)
            async for event in self._run_tools(completion):
                yield event
        limit = ctx.limits.max_iterations
        message = f"stopped after {limit} model calls without a final answer; raise --max-iterations or ask again"
        yield Error(kind="max_iterations", message=message)
        yield TurnFinished(answer="", reason="max_iterations")


async def react(ctx: TurnContext) -> AsyncIterator[Event]:
    """Run the loop over `ctx`; on cancellation or failure the history is repaired before leaving."""
    loop = ReactLoop(ctx)
    ended_by = CANCELLED_RESULT
    try:
        async for event in loop.run():
            yield event
    except Exception as exc:
        ended_by = f"error: interrupted by a failure before this tool finished ({type(exc).__name__})"
        raise
    finally:
        loop.repair_history(ended_by)


async def run_guided(ctx: TurnContext, text: str) -> AsyncIterator[Event]:
    """The guided engine: the user's message, then the loop."""
    ctx.conv.add({"role": "user", "content": text})
    async for event in react(ctx):
        yield event
