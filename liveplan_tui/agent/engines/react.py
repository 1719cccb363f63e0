"""Guided mode: the ReAct loop. Call the model, run its tool calls, repeat until it answers.

It pushes its events through the turn's `emit` and returns how the turn ended
(`TurnOutcome`); the session writes the ending. Cancelling the task that runs it
leaves the history consistent (every tool call answered, partial text kept and
marked).
"""

from __future__ import annotations

import json
from typing import Any

from ... import jsonsafe
from ...events import AssistantMessage, Condensed, Notice, Usage
from ...llm.base import Completion, LLMError, ToolCall
from ...plan import PlanUpdate, merge_updates
from ...tokens import LazyCounter, count_message
from ...tools.base import ToolResult, parse_arguments
from ..reviews import ReviewOutcome, held_back
from ..tool_runs import run_call, run_tool
from ..truncation import TOO_SMALL, TRUNCATED, Counts, believed_cut
from ..turn import (
    Answered,
    AwaitingApproval,
    Failed,
    LimitReached,
    Reply,
    TurnContext,
    TurnOutcome,
    usage_event,
)
from .replies import ReplyState, calls_in

CANCELLED_RESULT = "error: cancelled by the user before this tool finished"
MAX_SHRINKS = 8
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


class ReactLoop:
    """One turn of the loop over a context; `extra` holds messages for the next call only (a nudge)."""

    def __init__(self, ctx: TurnContext):
        self.ctx = ctx
        self.specs = ctx.tools.specs()
        self.reply = Reply()
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

    async def _call_model(self) -> Completion:
        """One model call; a context overflow shrinks the context and tries again while something can shrink."""
        ctx, shrinks = self.ctx, 0
        while True:
            system = ctx.system_prompt()
            self.estimate = self._measure(system)
            self.reply = Reply()
            try:
                return await self.reply.pump(ctx.llm.stream(self._messages(system), tools=self.specs), ctx.emit)
            except LLMError as err:
                self.reply.partial.clear()
                if err.kind == "context_length" and ctx.condenser is not None and shrinks < MAX_SHRINKS:
                    shrinks += 1
                    if (condensed := await self._shrink(err.window)) is not None:
                        await ctx.emit(condensed)
                        continue
                if err.kind == "context_length":
                    raise LLMError("context_length", OVERFLOW) from None
                raise

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

    async def _refit(self, completion: Completion) -> TurnOutcome | None:
        """Learn the window the server really has, condense to fit it, and say once how to raise it."""
        condenser, ctx = self.ctx.condenser, self.ctx
        assert condenser is not None and completion.prompt_tokens is not None
        self.refits += 1
        window = max(completion.prompt_tokens, 512)
        condenser.learn_window(window)
        if self.refits == 1 and not condenser.window_told:
            condenser.window_told = True
            told = TRUNCATED.format(sent=self.estimate, kept=completion.prompt_tokens, window=window)
            await ctx.emit(Notice(message=told))
        self.learned = window
        for _ in range(MAX_SHRINKS):
            if condenser.estimate(ctx.conv, ctx.system_prompt(), self.specs) <= condenser.limit:
                break
            if (condensed := await self._shrink(None)) is None:
                break
            await ctx.emit(condensed)
        if self.refits >= 2:  # cut again after fitting: the window is too small for this prompt
            where = ctx.llm.endpoint.base_url or "the endpoint"
            return Failed(LLMError("truncated", TOO_SMALL.format(window=window, where=where)))
        return None

    async def _run_tools(self, completion: Completion) -> TurnOutcome | None:
        ctx = self.ctx
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": _safe_arguments(c.arguments)}}
            for c in completion.tool_calls
        ]
        ctx.conv.add({"role": "assistant", "content": completion.content or None, "tool_calls": calls})
        batch = await self._plan_batch(completion.tool_calls)
        held = held_back(ctx.review_plan, ctx.keeper, self._plan_updates(completion.tool_calls))
        stopped: ReviewOutcome | None = None
        for call in completion.tool_calls:
            refused = stopped.why_not_run if stopped else (held or "") if call.name != "update_plan" else ""
            ready = batch if call.name == "update_plan" else None
            result, review = await run_call(ctx, call, ready=ready, refused=refused)
            if ready is not None:
                batch = result  # the batch's plan change is shown once; its other calls get the same words
            if review is not None:
                stopped = None if review.proceed else review
        return AwaitingApproval() if stopped is not None and stopped.deferred else None

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

    async def _step(self) -> TurnOutcome | None:
        """One model call and what follows from it; the outcome once the turn has ended, else None."""
        ctx = self.ctx
        try:
            completion = await self._call_model()
        except LLMError as err:
            return Failed(err)
        if (usage := self._usage(completion)) is not None:
            await ctx.emit(usage)
        if self._silently_cut(completion):
            return await self._refit(completion)
        if not completion.tool_calls:
            completion.tool_calls = calls_in(completion, set(ctx.tools.names()))
        if completion.tool_calls:
            self.extra = []
            if completion.content:
                await ctx.emit(AssistantMessage(content=completion.content))
            return await self._run_tools(completion)
        return self._settle(completion)

    def _settle(self, completion: Completion) -> TurnOutcome | None:
        """A reply without tool calls: the answer, a question back to the model (None), or an honest failure."""
        verdict = self.replies.judge(completion)
        if verdict.action == "ask":
            self.extra = verdict.ask
            return None
        if verdict.action == "answer" and (ask := self._open_step_question(verdict.answer)):
            self.extra = ask
            return None
        if verdict.action == "fail":
            where = self.ctx.llm.endpoint.base_url or "the endpoint"
            return Failed(LLMError(verdict.kind, f"{verdict.why} ({where})"))
        return Answered(verdict.answer)

    def _open_step_question(self, answer: str) -> list[dict[str, Any]]:
        """A final answer while a step is in progress gets one question: finish it, cancel it, or say what blocks it."""
        step = self.ctx.keeper.board.active.current
        if step is None or self.asked_about_open_step or self.ctx.tools.get("update_plan") is None:
            return []
        self.asked_about_open_step = True
        question = OPEN_STEP.format(id=step.id, description=step.description)
        return [{"role": "assistant", "content": answer}, {"role": "user", "content": question}]

    async def run(self) -> TurnOutcome:
        """Model calls and tool calls until a final answer, the iteration limit, or an error."""
        ctx = self.ctx
        for _ in range(ctx.limits.max_iterations):
            if ctx.condenser is not None and (
                condensed := await ctx.condenser.condense(ctx.conv, ctx.system_prompt, self.specs)
            ):
                await ctx.emit(condensed)
            if (outcome := await self._step()) is not None:
                return outcome
        return LimitReached(ctx.limits.max_iterations)


async def react(ctx: TurnContext) -> TurnOutcome:
    """Run the loop over `ctx`; on cancellation or failure the history is repaired before leaving."""
    loop = ReactLoop(ctx)
    ended_by = CANCELLED_RESULT
    try:
        return await loop.run()
    except Exception as exc:
        ended_by = f"error: interrupted by a failure before this tool finished ({type(exc).__name__})"
        raise
    finally:
        loop.repair_history(ended_by)


async def run_guided(ctx: TurnContext, text: str) -> TurnOutcome:
    """The guided engine: the user's message, then the loop."""
    ctx.conv.add({"role": "user", "content": text})
    return await react(ctx)
