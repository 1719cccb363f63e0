"""A tool-less request read to its answer the way guided mode reads one.

Strict mode's synthesis and structured mode's free text offer the model no
tools, yet real models still answer there with only thinking, an empty
message, a tool call, or a reply cut at the token limit. `ReplyState` judges
each reply; this asks again or asks to continue until it has an answer, and
raises an honest `LLMError` when it never gets one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ...events import Event, StreamReset
from ...llm.base import LLMError
from ...llm.openai_compat import ChatClient
from ..turn import Reply, usage_event
from .replies import ReplyState

NOT_AN_ANSWER = "that reply was not an answer; asking the model again"


class Answering:
    """One question without tools; `answer` holds the reply it settled on."""

    def __init__(self, llm: ChatClient) -> None:
        self.llm = llm
        self.answer = ""

    async def ask(self, messages: list[dict[str, Any]], **extra: Any) -> AsyncIterator[Event]:
        """Stream the reply (and any follow-up it needs) as events; LLMError when no answer comes."""
        state, follow_up = ReplyState(), list[dict[str, Any]]()
        while True:  # ReplyState bounds the nudges and continuations, so this ends
            reply = Reply()
            async for event in reply.relay(self.llm.stream([*messages, *follow_up], **extra)):
                yield event
            completion = reply.completion
            assert completion is not None, "a stream always ends with its completion"
            if (usage := usage_event(completion)) is not None:
                yield usage
            verdict = state.judge(completion)
            if verdict.action == "answer":
                self.answer = verdict.answer
                return
            if verdict.action == "fail":
                raise LLMError(verdict.kind, f"{verdict.why} ({self.llm.endpoint.base_url or 'the endpoint'})")
            if completion.content.strip() and completion.finish_reason != "length":
                yield StreamReset(reason=NOT_AN_ANSWER)  # what streamed was a call, not text to keep
            follow_up = verdict.ask
