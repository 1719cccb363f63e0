"""The one place a tool call runs, for every engine, the session's own calls (`/init`) and step checks.

`run_tool` validates, asks the before_tool hook, gates (approval), runs, remembers, masks and shrinks; every failure
becomes an `error:` result the model can act on. `run_call` is a call told start to finish in a turn: started, the
plan change it made and the user's review of it, then finished, with the result recorded in the conversation.
"""

from __future__ import annotations

from ..events import PlanUpdated, ToolCallFinished, ToolCallStarted, ToolProgress
from ..llm.base import ToolCall
from ..redact import redact
from ..tools import ToolRegistry
from ..tools.artifact_store import shrink
from ..tools.base import PROGRESS, ToolContext, ToolResult, parse_arguments
from ..tools.errors import ToolError
from .critique import told
from .reviews import ReviewOutcome, is_new_plan, review_plan
from .turn import ToolGate, TurnContext


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
    if not result.denied and (item := tool.evidence(params, result, ctx)) is not None:
        result.evidence = item.model_copy(update={"what": redact(item.what, ctx.secrets)})
    result.text = redact(result.text, ctx.secrets)
    if tool.shrinkable:
        result.text = shrink(result.text, ctx.artifacts, ctx.artifact_budget)
    if ctx.after_tool is not None:
        await ctx.after_tool(call.name, call.arguments, result)
    return result


async def critiqued(ctx: TurnContext, event: PlanUpdated) -> str:
    """The review of the turn's first new plan, shown (before any approval view) and told to the model once."""
    if ctx.critic is None or not is_new_plan(event):
        return ""
    critique = await ctx.critic.review(event.new)
    if critique is None:
        return ""
    await ctx.emit(critique)
    return told(critique)


async def run_call(
    ctx: TurnContext, call: ToolCall, *, ready: ToolResult | None = None, refused: str = ""
) -> tuple[ToolResult, ReviewOutcome | None]:
    """One call of a turn, shown start to finish and recorded; `ready` is a result already computed for it (a batch
    of plan calls applied as one), `refused` why it must not run. The review, when the call made a new plan."""
    await ctx.emit(
        ToolCallStarted(
            call_id=call.id,
            name=call.name,
            arguments=call.arguments,
            summary=ctx.tools.summary(call.name, call.arguments),
        )
    )

    async def report(detail: str) -> None:
        await ctx.emit(ToolProgress(call_id=call.id, name=call.name, detail=detail))

    if refused:
        result = ToolResult(refused, is_error=True)
    elif ready is not None:
        result = ready
    else:
        token = PROGRESS.set(report)  # what the tool says while it runs reaches its line, and only its line
        try:
            result = await run_tool(ctx.tools, call, ctx.tool_ctx, ctx.gate)
        finally:
            PROGRESS.reset(token)
    review: ReviewOutcome | None = None
    if result.plan is not None:
        await ctx.emit(result.plan)
        critique = await critiqued(ctx, result.plan)
        review = await review_plan(ctx.review_plan, ctx.keeper, result.plan)
        for event in review.events:
            await ctx.emit(event)
        text = "\n".join(part for part in (result.text, critique, review.told) if part)
        result = ToolResult(text, result.is_error)  # one plan change, shown once
    ctx.conv.add({"role": "tool", "tool_call_id": call.id, "content": result.text})
    keeper = ctx.live or ctx.keeper
    if result.evidence is not None and (recorded := keeper.record(result.evidence, ctx.step_id)) is not None:
        await ctx.emit(recorded)  # the step in progress shows what was done for it
    ctx.keeper.staleness.after_call(ctx.keeper.board.active, call.name, result.evidence is not None)
    await ctx.emit(ToolCallFinished(call_id=call.id, name=call.name, result=result.text, is_error=result.is_error))
    return result, review
