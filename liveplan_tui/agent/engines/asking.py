"""A tool-less request read to its answer the way guided mode reads one.

Strict mode's synthesis and structured mode's free text offer the model no
tools, yet real models still answer there with only thinking, an empty
message, a tool call, or a reply cut at the token limit. `ReplyState` judges
each reply; this asks again or asks to continue until it has an answer, and
raises an honest `LLMError` when it never gets one.
"""

from __future__ import annotations

from typing import Any

from ...events import StreamReset
from ...llm.base import LLMError
from ...llm.openai_compat import ChatClient
from ..turn import Emit, Reply, usage_event
from .replies import ReplyState

NOT_AN_ANSWER = "that reply was not an answer; asking the model again"


class Answering:
    """One question without tools, streamed into `emit`."""

    def __init__(self, llm: ChatClient, emit: Emit) -> None:
        self.llm = llm
        self.emit = emit

    async def ask(self, messages: list[dict[str, Any]], **extra: Any) -> str:
        """The answer the reply (and any follow-up it needs) settles on; LLMError when none comes."""
        state, follow_up = ReplyState(), list[dict[str, Any]]()
        while True:  # ReplyState bounds the nudges and continuations, so this ends
            completion = await Reply().pump(self.llm.stream([*messages, *follow_up], **extra), self.emit)
            if (usage := usage_event(completion)) is not None:
                await self.emit(usage)
            verdict = state.judge(completion)
            if verdict.action == "answer":
                return verdict.answer
            if verdict.action == "fail":
                raise LLMError(verdict.kind, f"{verdict.why} ({self.llm.endpoint.base_url or 'the endpoint'})")
            if completion.content.strip() and completion.finish_reason != "length":
                await self.emit(StreamReset(reason=NOT_AN_ANSWER))  # what streamed was a call, not text to keep
            follow_up = verdict.ask
