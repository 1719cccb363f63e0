"""What an engine runs a turn with, what it returns, and the one place a turn ends.

`TurnContext` is the small face the engines depend on: the client, the
conversation, the plan keeper, the tools and their context, the approval gate,
the limits and `emit`, the one sink every event of the turn leaves through;
never the whole session. An engine is a coroutine that pushes events through
`emit` and returns a `TurnOutcome`; `ending` is the only writer of a turn's
final events (the answer, the error, the wait for approval). `Reply` is the
one place the client's stream items become events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any, assert_never

from ..events import (
    AssistantMessage,
    Error,
    Event,
    Notice,
    Retrying,
    StreamReset,
    TextDelta,
    TurnFinished,
    Usage,
)
from ..llm.base import (
    Completion,
    LLMError,
    RetryNotice,
    StreamItem,
    StreamRestart,
    SwitchNotice,
    TextChunk,
    ToolCall,
)
from ..llm.openai_compat import ChatClient
from ..plan.keeper import PlanKeeper
from ..redact import redact
from ..tools import ToolRegistry
from ..tools.base import Tool, ToolContext, ToolResult
from .condenser import Condenser
from .conversation import Conversation
from .critique import PlanCritic
from .reviews import PlanReviewer

ToolGate = Callable[[Tool, ToolCall, Any, ToolContext], Awaitable[ToolResult | None]]
Emit = Callable[[Event], Awaitable[None]]
PROPOSED = "I proposed the plan above and am waiting for your approval before doing anything else."


@dataclass(frozen=True)
class Answered:
    text: str


@dataclass(frozen=True)
class Failed:
    error: LLMError


@dataclass(frozen=True)
class AwaitingApproval:
    """A new plan waits for the user's review; nothing else ran."""


@dataclass(frozen=True)
class LimitReached:
    limit: int


TurnOutcome = Answered | Failed | AwaitingApproval | LimitReached


async def drop(event: Event) -> None:
    """The sink of a context that shows nothing (a helper call's scratch turn)."""


@dataclass(frozen=True)
class Limits:
    """The settings an engine obeys, sliced from the session's settings."""

    max_iterations: int = 25
    max_parallel: int = 1
    max_retries: int = 2
    max_replans: int = 2
    step_retry_delay: float = 1.0
    structured_style: str = "answer"

    @classmethod
    def of(cls, settings: Any) -> Limits:
        """The limits in `settings` (a `config.Settings`)."""
        names = ("max_iterations", "max_parallel", "max_retries", "max_replans", "step_retry_delay", "structured_style")
        return cls(**{name: getattr(settings, name) for name in names})


@dataclass(frozen=True)
class TurnContext:
    llm: ChatClient
    conv: Conversation
    keeper: PlanKeeper
    tools: ToolRegistry
    tool_ctx: ToolContext
    system_prompt: Callable[[], str]
    limits: Limits = Limits()
    gate: ToolGate | None = None
    condenser: Condenser | None = None
    review_plan: PlanReviewer | None = None  # set when plan_approval is "ask"
    continue_plan: bool = False  # the user approved the active plan: run it, don't make another
    emit: Emit = drop  # where the turn's events go, in order
    step_id: int | None = None  # the live step a subagent works for: its tools' evidence goes on that step
    live: PlanKeeper | None = None  # the keeper of that step (a subagent's own keeper holds only a scratch plan)
    critic: PlanCritic | None = None  # reviews the turn's first new plan before it runs

    def scratch(self, conv: Conversation, **changes: Any) -> TurnContext:
        """The same context over another conversation (a subagent's, or a planning scratch pad)."""
        keeper = PlanKeeper(conv)
        return replace(self, conv=conv, keeper=keeper, tool_ctx=replace(self.tool_ctx, plans=keeper), **changes)


class Reply:
    """Relays one model call's stream as events, keeping the completion and the text streamed so far."""

    def __init__(self) -> None:
        self.completion: Completion | None = None
        self.partial: list[str] = []

    async def pump(self, stream: AsyncIterator[StreamItem], emit: Emit) -> Completion:
        """Stream one model call into `emit`; the completion it ended with (LLMError when it failed)."""
        async for event in self.relay(stream):
            await emit(event)
        assert self.completion is not None, "a stream always ends with its completion"
        return self.completion

    async def relay(self, stream: AsyncIterator[StreamItem]) -> AsyncIterator[Event]:
        async for item in stream:
            if isinstance(item, Completion):
                self.completion = item
                self.partial.clear()
            elif isinstance(item, TextChunk):
                self.partial.append(item.text)
                yield TextDelta(text=item.text)
            elif isinstance(item, StreamRestart):
                self.partial.clear()
                yield StreamReset(reason=item.reason)
            elif isinstance(item, RetryNotice):
                yield Retrying(attempt=item.attempt, delay=item.delay, reason=item.reason)
            elif isinstance(item, SwitchNotice):
                yield Notice(message=item.message)


def usage_event(completion: Completion, context_window: int = 0) -> Usage | None:
    """The server-reported usage of a call as an event, or None when it sent none."""
    if completion.prompt_tokens is None:
        return None
    produced = completion.completion_tokens or 0
    return Usage(
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=produced,
        total_tokens=completion.prompt_tokens + produced,
        context_window=context_window,
    )


async def pushed(turn: Callable[[Emit], Awaitable[None]]) -> AsyncIterator[Event]:
    """A turn that pushes its events, as the iterator front-ends read: it runs as one task feeding a queue, and
    its events come out in order. A reader that stops early (cancelled, closed) cancels the turn and waits for
    its cleanup; a failure of the turn itself (not the model's, which is an outcome) is raised here."""
    queue: asyncio.Queue[Event | None] = asyncio.Queue()

    async def run() -> None:
        try:
            await turn(queue.put)
        finally:
            queue.put_nowait(None)

    task = asyncio.create_task(run())
    try:
        while (event := await queue.get()) is not None:
            yield event
        await task
    finally:
        if not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


def ending(conv: Conversation, outcome: TurnOutcome, secrets: tuple[str, ...] = ()) -> list[Event]:
    """The one end of every turn: what is recorded, then what is shown last."""
    match outcome:
        case Answered(text=text):
            conv.add({"role": "assistant", "content": text})
            return [AssistantMessage(content=text), TurnFinished(answer=text)]
        case Failed(error=err):
            error = Error(kind=err.kind, message=redact(err.message, secrets), retryable=err.retryable)
            return [error, TurnFinished(answer="", reason="error")]
        case AwaitingApproval():
            conv.add({"role": "assistant", "content": PROPOSED})
            return [TurnFinished(answer="", reason="awaiting_approval")]
        case LimitReached(limit=limit):
            message = f"stopped after {limit} model calls without a final answer; raise --max-iterations or ask again"
            error = Error(kind="max_iterations", message=message)
            return [error, TurnFinished(answer="", reason="max_iterations")]
    assert_never(outcome)
