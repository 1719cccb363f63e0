"""What an engine runs a turn with, and the one way a turn ends.

`TurnContext` is the small face the engines depend on: the client, the
conversation, the plan keeper, the tools and their context, the approval gate
and the limits; never the whole session. `relay` is the one place the client's
stream items become events, and `finish_turn` / `fail_turn` the one place a
turn ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

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
from .reviews import PlanReviewer

ToolGate = Callable[[Tool, ToolCall, Any, ToolContext], Awaitable[ToolResult | None]]


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

    def scratch(self, conv: Conversation, **changes: Any) -> TurnContext:
        """The same context over another conversation (a subagent's, or a planning scratch pad)."""
        keeper = PlanKeeper(conv)
        return replace(self, conv=conv, keeper=keeper, tool_ctx=replace(self.tool_ctx, plans=keeper), **changes)


class Reply:
    """Relays one model call's stream as events, keeping the completion and the text streamed so far."""

    def __init__(self) -> None:
        self.completion: Completion | None = None
        self.partial: list[str] = []

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


def finish_turn(conv: Conversation, answer: str) -> list[Event]:
    """The one end of a turn with an answer: recorded, then shown."""
    conv.add({"role": "assistant", "content": answer})
    return [AssistantMessage(content=answer), TurnFinished(answer=answer)]


def fail_turn(err: LLMError, secrets: tuple[str, ...] = (), *, reason: str = "error") -> list[Event]:
    """The one end of a turn that failed: the error (masked, with its retryability), then the finish."""
    error = Error(kind=err.kind, message=redact(err.message, secrets), retryable=err.retryable)
    return [error, TurnFinished(answer="", reason=reason)]  # type: ignore[arg-type]
