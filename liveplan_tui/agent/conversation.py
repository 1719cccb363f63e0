"""The state of one chat: the model's view of the messages, the full record, and the live plan.

The plan lives here as program state, never inside `messages`, so nothing that
trims or condenses messages can lose it. Each message's token count is taken
once, when it is added, so estimating a prompt never re-reads the history.
"""

from __future__ import annotations

from typing import Any

from ..plan import PlanBoard
from ..tokens import Counter, EstimateCounter, count_message

Message = dict[str, Any]


class Conversation:
    def __init__(self, counter: Counter | None = None) -> None:
        self.counter: Counter = counter or EstimateCounter()
        self.messages: list[Message] = []
        self.counts: list[int] = []
        self.total = 0
        self.record: list[Message] = []
        self.summary = ""
        self.board = PlanBoard()

    def add(self, message: Message) -> None:
        count = count_message(self.counter, message)
        self.messages.append(message)
        self.counts.append(count)
        self.total += count
        self.record.append(message)

    def replace(self, messages: list[Message], summary: str) -> None:
        """Swap in a condensed view; the record keeps everything."""
        self.messages = list(messages)
        self.counts = [count_message(self.counter, m) for m in self.messages]
        self.total = sum(self.counts)
        self.summary = summary

    def dangling_tool_calls(self) -> list[str]:
        """Ids of tool calls in the last assistant message that have no result yet."""
        for i in range(len(self.messages) - 1, -1, -1):
            msg = self.messages[i]
            if msg.get("role") == "assistant" and msg.get("tool_calls"):
                answered = {m.get("tool_call_id") for m in self.messages[i + 1 :] if m.get("role") == "tool"}
                return [c["id"] for c in msg["tool_calls"] if c["id"] not in answered]
            if msg.get("role") == "user":
                return []
        return []
