"""Guided mode: the ReAct loop. Call the model, run its tool calls, repeat until it answers.

It is an async generator of events. Front-ends render them and cancel the
task that consumes it; cancelling leaves the history consistent (every tool
call answered, partial text kept and marked).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from ... import jsonsafe
from ...events import (
    AssistantMessage,
    Condensed,
    Error,
    Event,
    Notice,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    Usage,
)
from ...llm.base import Completion, LLMError, ToolCall
from ...plan import PlanUpdate, merge_updates
from ...redact import redact
from ...tokens import LazyCounter, count_message
from ...tools import ToolRegistry
from ...tools.artifact_store import shrink
from ...tools.base import ToolContext, ToolResult, parse_arguments
from ...tools.errors import ToolError
from ..reviews import ReviewOutcome, held_back, review_plan
from ..truncation import TOO_SMALL, TRUNCATED, Counts, believed_cut
from ..turn import Reply, ToolGate, TurnContext, fail_turn, finish_turn, usage_event
from .replies import ReplyState, calls_in

CANCELLED_RESULT = "error: cancelled by the user before this tool finished"
MAX_SHRINKS = 8
PROPOSED = "I proposed the plan above and am waiting for your approval before doing anything else."
OPEN_STEP = (
    "Step {id} ({description}) is still in progress. Before you finish: complete it with update_plan "
    "(its check runs, if it has one), cancel it with a reason in its result, or say what blocks it."
)
OVERFLOW = (
    "the conversation does not fit the model's context window, even condensed: start /new or lower --context-window"
)


def _safe_arguments(raw: str) -> str:
    """Keep invalid JSON out of the history we send back; the error result explains it."""
    try:
        jsonsafe.loads(raw or "{}")
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
    if ctx.before_tool is not None and (why := await ctx.before_tool(call.name, call.arguments)):
        return ToolResult(f"error: a before_tool hook blocked this call: {redact(why, ctx.secrets)}", is_error=True)
    try:
        denied = await gate(tool, call, params, ctx) if gate is not None else None
        result = denied or await tool.run(params, ctx)
    except ToolError as exc:
        result = ToolResult(f"error: {exc}", is_error=True)
    except Exception as exc:  # a tool bug must reach the model as a result, not end the turn
        result = ToolResult(f"error: {call.name} failed: {type(exc).__name__}: {exc}", is_error=True)
    if ctx.remember is not None and not result.denied and (note := tool.remember(params, result, ctx)):
        ctx.remember(note)
    result.text = redact(result.text, ctx.secrets)
    if tool.shrinkable:
        result.text = shrink(result.text, ctx.artifacts, ctx.artifact_budget)
    if ctx.after_tool is not None:
        await ctx.after_tool(call.name, call.arguments, result)
    return result


class ReactLoop:
    """One turn of the loop over a context; `extra` holds messages for the next call only (a nudge)."""

    def __init__(self, ctx: TurnContext):
        self.ctx = ctx
        self.specs = ctx.tools.specs()
        self.reply = Reply()
        self.failed: LLMError | None = None
        self.estimate = 0
        self.extra: list[dict[str, Any]] = []
        self.replies = ReplyState()
        self.refits = 0
        self.last_told: int | None = None
        self.asked_about_open_step = False
        self.learned: int | None = None
        self.last_estimate = 0

    def _messages(self, system: str) -> list[dict[str, Any]]:
        return [{"role": "system", "content": system}, *self.ctx.conv.for_request(), *self.extra]

    async def _call_model(self) -> AsyncIterator[Event]:
        """One model call; a context overflow shrinks the context and tries again while something can shrink."""
        ctx, shrinks = self.ctx, 0
        while True:
            system = ctx.system_prompt()
            self.estimate = self._measure(system)
            self.reply = Reply()
            try:
                async for event in self.reply.relay(ctx.llm.stream(self._messages(system), tools=self.specs)):
                    yield event
                return
            except LLMError as err:
                self.reply.partial.clear()
                if err.kind == "context_length" and ctx.condenser is not None and shrinks < MAX_SHRINKS:
                    shrinks += 1
                    if (condensed := await self._shrink(err.window)) is not None:
                        yield condensed
                        continue
                if err.kind == "context_length":
                    err.message = OVERFLOW
                self.failed = err
                return

    async def _shrink(self, window: int | None) -> Condensed | None:
        """Older tool results, then older turns (condensation), then the biggest result left, then the summary."""
        ctx, condenser = self.ctx, self.ctx.condenser
        assert condenser is not None
        if window:
            condenser.learn_window(window)
        before = condenser.estimate(ctx.conv, ctx.system_prompt(), self.specs)
        condensed = await condenser.condense(ctx.conv, ctx.system_prompt, self.specs, force=True)
        if condensed is not None and condensed.tokens_after < before:
            return condensed
        return condenser.shrink_more(ctx.conv, ctx.system_prompt, self.specs)

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

    def _silently_cut(self, completion: Completion) -> bool:
        """Whether the server cut the prompt without saying so (see `truncation.believed_cut`)."""
        if not completion.prompt_tokens:  # zero or missing: no word on the prompt at all
            return False
        told, before = completion.prompt_tokens + (completion.cached_tokens or 0), self.last_told
        if told < self.estimate * 0.9:
            self._count_exactly()
        self.last_told, grown = told, self.estimate - self.last_estimate
        self.last_estimate = self.estimate
        condenser = self.ctx.condenser
        if condenser is None or self.refits >= 2:
            return False
        return believed_cut(Counts(told, before, self.estimate, grown, condenser.stated_window, self.learned))

    def _measure(self, system: str) -> int:
        """The prompt the next call sends: system prompt, tools, conversation and this call's extra messages."""
        ctx = self.ctx
        if ctx.condenser is None:
            return 0
        return ctx.condenser.estimate(ctx.conv, system, self.specs) + sum(
            count_message(ctx.conv.counter, m) for m in self.extra
        )

    def _count_exactly(self) -> None:
        """A suspicious server count is judged against our exact count, not the cheap estimate."""
        ctx, counter = self.ctx, self.ctx.conv.counter
        if ctx.condenser is None or not isinstance(counter, LazyCounter) or counter.sharpened:
            return
        counter.sharpen()
        ctx.conv.recount()
        self.estimate = self._measure(ctx.system_prompt())

    async def _refit(self, completion: Completion) -> AsyncIterator[Event]:
        """Learn the window the server really has, condense to fit it, and say once how to raise it."""
        condenser, ctx = self.ctx.condenser, self.ctx
        assert condenser is not None and completion.prompt_tokens is not None
        self.refits += 1
        window = max(completion.prompt_tokens, 512)
        condenser.learn_window(window)
        if self.refits == 1 and not condenser.window_told:
            condenser.window_told = True
            yield Notice(message=TRUNCATED.format(sent=self.estimate, kept=completion.prompt_tokens, window=window))
        self.learned = window
        for _ in range(MAX_SHRINKS):
            if condenser.estimate(ctx.conv, ctx.system_prompt(), self.specs) <= condenser.limit:
                break
            if (condensed := await self._shrink(None)) is None:
                break
            yield condensed
        if self.refits >= 2:  # cut again after fitting: the window is too small for this prompt
            where = ctx.llm.endpoint.base_url or "the endpoint"
            self.failed = LLMError("truncated", TOO_SMALL.format(window=window, where=where))

    async def _run_tools(self, completion: Completion) -> AsyncIterator[Event]:
        ctx = self.ctx
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": _safe_arguments(c.arguments)}}
            for c in completion.tool_calls
        ]
        ctx.conv.add({"role": "assistant", "content": completion.content or None, "tool_calls": calls})
        plan_result = await self._plan_batch(completion.tool_calls)
        held = held_back(ctx.review_plan, ctx.keeper, self._plan_updates(completion.tool_calls))
        stopped: ReviewOutcome | None = None
        for call in completion.tool_calls:
            summary = ctx.tools.summary(call.name, call.arguments)
            yield ToolCallStarted(call_id=call.id, name=call.name, arguments=call.arguments, summary=summary)
            if stopped is not None or (held and call.name != "update_plan"):
                result = ToolResult(stopped.why_not_run if stopped else str(held), is_error=True)
            else:
                batched = plan_result is not None and call.name == "update_plan"
                result = (
                    plan_result if batched and plan_result else await run_tool(ctx.tools, call, ctx.tool_ctx, ctx.gate)
                )
            if result.plan is not None:
                yield result.plan
                review = await review_plan(ctx.review_plan, ctx.keeper, result.plan)
                for event in review.events:
                    yield event
                text = f"{result.text}\n{review.told}" if review.told else result.text
                result = ToolResult(text, result.is_error)  # one plan change, shown once
                plan_result = result if batched else plan_result
                stopped = None if review.proceed else review
            ctx.conv.add({"role": "tool", "tool_call_id": call.id, "content": result.text})
            yield ToolCallFinished(call_id=call.id, name=call.name, result=result.text, is_error=result.is_error)
        if stopped is not None and stopped.deferred:
            self.done = True
            ctx.conv.add({"role": "assistant", "content": PROPOSED})
            yield TurnFinished(answer="", reason="awaiting_approval")

    def _plan_updates(self, calls: list[ToolCall]) -> list[PlanUpdate]:
        """The update_plan calls of a reply that parse."""
        tool = self.ctx.tools.get("update_plan")
        parsed = [parse_arguments(tool, c.arguments) for c in calls if c.name == "update_plan"] if tool else []
        return [u for u in parsed if isinstance(u, PlanUpdate)]

    async def _plan_batch(self, calls: list[ToolCall]) -> ToolResult | None:
        """Several update_plan calls in one reply are the one change the model meant: merged, applied once."""
        plan_calls = [c for c in calls if c.name == "update_plan"]
        updates = self._plan_updates(calls)
        if len(plan_calls) < 2 or len(updates) != len(plan_calls):
            return None
        try:
            merged = merge_updates(updates)
        except ValueError:
            return None
        call = ToolCall(id=plan_calls[0].id, name="update_plan", arguments=merged.model_dump_json(exclude_none=True))
        return await run_tool(self.ctx.tools, call, self.ctx.tool_ctx, self.ctx.gate)

    def repair_history(self, ended_by: str) -> None:
        """Close what a cancelled or failed turn left open: unanswered calls, a half-streamed reply."""
        conv = self.ctx.conv
        for call_id in conv.dangling_tool_calls():
            conv.add({"role": "tool", "tool_call_id": call_id, "content": ended_by})
        if self.reply.partial:
            conv.add({"role": "assistant", "content": "".join(self.reply.partial) + "\n[interrupted by the user]"})
            self.reply.partial.clear()

    def _end_failed(self) -> list[Event]:
        assert self.failed is not None
        self.done = True
        return fail_turn(self.failed, self.ctx.tool_ctx.secrets)

    async def _step(self) -> AsyncIterator[Event]:
        """One model call and what follows from it; sets `done` when the turn has ended."""
        ctx = self.ctx
        async for event in self._call_model():
            yield event
        if self.failed is not None:
            for event in self._end_failed():
                yield event
            return
        completion = self.reply.completion
        assert completion is not None
        if (usage := self._usage(completion)) is not None:
            yield usage
        if self._silently_cut(completion):
            async for event in self._refit(completion):
                yield event
            if self.failed is not None:
                for event in self._end_failed():
                    yield event
            return
        if not completion.tool_calls:
            completion.tool_calls = calls_in(completion, set(ctx.tools.names()))
        if completion.tool_calls:
            self.extra = []
            if completion.content:
                yield AssistantMessage(content=completion.content)
            async for event in self._run_tools(completion):
                yield event
            return
        async for event in self._settle(completion):
            yield event

    async def _settle(self, completion: Completion) -> AsyncIterator[Event]:
        """A reply without tool calls: the answer, a question back to the model, or an honest failure."""
        verdict = self.replies.judge(completion)
        if verdict.action == "ask":
            self.extra = verdict.ask
            return
        if verdict.action == "answer" and (ask := self._open_step_question(verdict.answer)):
            self.extra = ask
            return
        self.done = True
        if verdict.action == "fail":
            where = self.ctx.llm.endpoint.base_url or "the endpoint"
            failure = LLMError(verdict.kind, f"{verdict.why} ({where})")
            for event in fail_turn(failure, self.ctx.tool_ctx.secrets):
                yield event
            return
        for event in finish_turn(self.ctx.conv, verdict.answer):
            yield event

    def _open_step_question(self, answer: str) -> list[dict[str, Any]]:
        """A final answer while a step is in progress gets one question: finish it, cancel it, or say what blocks it."""
        step = self.ctx.keeper.board.active.current
        if step is None or self.asked_about_open_step or self.ctx.tools.get("update_plan") is None:
            return []
        self.asked_about_open_step = True
        question = OPEN_STEP.format(id=step.id, description=step.description)
        return [{"role": "assistant", "content": answer}, {"role": "user", "content": question}]

    async def run(self) -> AsyncIterator[Event]:
        """Model calls and tool calls until a final answer, the iteration limit, or an error."""
        ctx = self.ctx
        self.done = False
        for _ in range(ctx.limits.max_iterations):
            if ctx.condenser is not None and (
                condensed := await ctx.condenser.condense(ctx.conv, ctx.system_prompt, self.specs)
            ):
                yield condensed
            async for event in self._step():
                yield event
            if self.done:
                return
        limit = ctx.limits.max_iterations
        message = f"stopped after {limit} model calls without a final answer; raise --max-iterations or ask again"
        yield Error(kind="max_iterations", message=message)
        yield TurnFinished(answer="", reason="max_iterations")


async def react(ctx: TurnContext) -> AsyncGenerator[Event, None]:
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
