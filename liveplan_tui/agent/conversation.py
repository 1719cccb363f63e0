"""The state of one chat: the model's view of the messages, and the live plan.

The plan lives here as program state, never inside `messages`, so nothing that
trims or condenses messages can lose it.
"""

from __future__ import annotations

from typing import Any

from ..plan import PlanBoard

Message = dict[str, Any]


class Conversation:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.board = PlanBoard()

    def add(self, message: Message) -> None:
        self.messages.append(message)

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
