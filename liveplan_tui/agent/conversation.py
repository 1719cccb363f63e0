"""The state of one chat: the model's view of the messages, the full record, and the live plan.

The plan lives here as program state, never inside `messages`, so nothing that
trims or condenses messages can lose it. Each message's token count is taken
once, when it is added, so estimating a prompt never re-reads the history.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..condense import extend_request, last_user_request, request_messages
from ..memory import WorkMemory
from ..plan import PlanBoard
from ..textsafe import clean_text
from ..tokens import Counter, EstimateCounter, count_message

Message = dict[str, Any]


class Recorder(Protocol):
    """Where a conversation is persisted as it changes (see store.py)."""

    def message(self, message: Message) -> None: ...

    def board(self, board: PlanBoard) -> None: ...

    def replaced(self, messages: list[Message], summary: str) -> None: ...


def _clean_message(message: Message) -> Message:
    """Lone surrogates (bytes that were not UTF-8) become U+FFFD, so no request or record fails to encode."""
    content = message.get("content")
    if isinstance(content, str) and clean_text(content) is not content:
        message = {**message, "content": clean_text(content)}
    return message


class Conversation:
    def __init__(self, counter: Counter | None = None, *, board: PlanBoard | None = None) -> None:
        self.counter: Counter = counter or EstimateCounter()
        self.messages: list[Message] = []
        self.counts: list[int] = []
        self.total = 0
        self.record: list[Message] = []  # only appended to, or replaced whole: views hold it uncopied
        self.summary = ""
        self._board = board or PlanBoard()
        self.memory = WorkMemory()  # beside the plan, never in the condensable messages
        self.recorder: Recorder | None = None
        self._request: list[Message] = []
        self._request_key: tuple[int, str] | None = None
        self._request_len = 0

    @property
    def board(self) -> PlanBoard:
        return self._board

    @board.setter
    def board(self, board: PlanBoard) -> None:
        """Every plan change is persisted before anything shows it."""
        self._board = board
        if self.recorder is not None:
            self.recorder.board(board)

    def add(self, message: Message) -> None:
        message = _clean_message(message)
        count = count_message(self.counter, message)
        self.messages.append(message)
        self.counts.append(count)
        self.total += count
        self.record.append(message)
        if self.recorder is not None:
            self.recorder.message(message)

    def recount(self) -> None:
        """Count every message again (the counter just became exact)."""
        self.counts = [count_message(self.counter, m) for m in self.messages]
        self.total = sum(self.counts)

    def replace(self, messages: list[Message], summary: str) -> None:
        """Swap in a condensed view; the record keeps everything."""
        self.messages = list(messages)
        self.counts = [count_message(self.counter, m) for m in self.messages]
        self.total = sum(self.counts)
        self.summary = summary
        if self.recorder is not None:
            self.recorder.replaced(self.messages, summary)

    def restore(self, record: list[Message], view: list[Message], summary: str, board: PlanBoard) -> None:
        """Load a saved session without writing it back."""
        recorder, self.recorder = self.recorder, None
        self.record = list(record)
        self.replace(view, summary)
        self.board = board
        self.recorder = recorder

    def for_request(self) -> list[Message]:
        """The messages as a request sends them (see condense.request_messages), built incrementally.

        Appending is the common change, so only new messages are processed; anything else rebuilds.
        """
        task = last_user_request(self.record)
        key = (id(self.messages), task)
        if self._request_key != key or self._request_len > len(self.messages):
            self._request = request_messages(self.messages, task)
        else:
            self._request = extend_request(self._request, self.messages[self._request_len :])
        self._request_key, self._request_len = key, len(self.messages)
        return list(self._request)

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
