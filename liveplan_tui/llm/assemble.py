"""Assembling a reply from what servers really send. Pure: no I/O.

Streams differ from OpenAI's in ways that are reported again and again:
- tool-call arguments sent as a JSON object instead of a string;
- several calls sharing `index: 0` (Ollama), or ids that are numbers or missing;
- thinking in `reasoning_content` / `reasoning`, or as `<think>` text in the
  content, sometimes without its opening tag;
- a `[DONE]` with no `finish_reason`.
Visible text and thinking are kept apart, so thinking never becomes the answer.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from .. import jsonsafe
from .base import Completion, ToolCall

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
_THINK_BLOCK = re.compile(r"<think>.*?(</think>|$)", re.S)


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:16]}"


def split_thinking(text: str) -> tuple[str, str]:
    """(visible, thinking): `<think>` blocks out, and everything before a `</think>` whose opening tag is missing."""
    thinking: list[str] = []
    if THINK_CLOSE in text and THINK_OPEN not in text.split(THINK_CLOSE, 1)[0]:
        head, text = text.split(THINK_CLOSE, 1)
        thinking.append(head)

    def hold(match: re.Match[str]) -> str:
        thinking.append(match.group(0))
        return ""

    visible = _THINK_BLOCK.sub(hold, text)
    return visible.strip() if thinking else visible, "".join(thinking).replace(THINK_OPEN, "").replace(THINK_CLOSE, "")


def field(obj: Any, name: str) -> Any:
    """A field of a chunk, whether it came as parsed JSON (the stream) or as an SDK object (a whole reply)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


class ThinkFilter:
    """Streams visible text only: `<think>…</think>` is held back, even when a tag is split across chunks."""

    def __init__(self) -> None:
        self.inside = False
        self.pending = ""

    def feed(self, text: str) -> str:
        out, self.pending = [], self.pending + text
        while self.pending:
            tag = THINK_CLOSE if self.inside else THINK_OPEN
            at = self.pending.find(tag)
            if at >= 0:
                if not self.inside:
                    out.append(self.pending[:at])
                self.pending, self.inside = self.pending[at + len(tag) :], not self.inside
                continue
            keep = next((k for k in range(len(tag) - 1, 0, -1) if self.pending.endswith(tag[:k])), 0)
            if not self.inside:
                out.append(self.pending[: len(self.pending) - keep])
            self.pending = self.pending[len(self.pending) - keep :]
            break
        return "".join(out)


MAX_REPLY_CHARS = 2_000_000  # ~500k tokens: far past any real reply, short of exhausting memory


class ReplyTooLong(ValueError):
    """A server that streams without end (a looping model, a broken proxy): the reply is cut at the bound."""


@dataclass
class _Slot:
    """One tool call being streamed. Its arguments arrive a token at a time and are kept as parts, joined once:
    adding to one growing string copies it on every token (quadratic on a long write_file)."""

    id: str = ""
    name: str = ""
    parts: list[str] = dataclass_field(default_factory=list)

    @property
    def arguments(self) -> str:
        return "".join(self.parts)


class Assembler:
    """Joins streamed deltas into one Completion, up to MAX_REPLY_CHARS of text, thinking and arguments."""

    def __init__(self) -> None:
        self.size = 0
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.slots: list[_Slot] = []
        self.by_index: dict[int, _Slot] = {}
        self.finish_reason: str | None = None
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.cached_tokens: int | None = None
        self.filter = ThinkFilter()
        self.restart = False  # a `</think>` without its opening tag: what streamed so far was thinking

    def feed(self, chunk: Any) -> str:
        """Take one chunk; return the visible text it adds (ReplyTooLong past the bound)."""
        if self.size > MAX_REPLY_CHARS:
            raise ReplyTooLong(f"the reply passed {MAX_REPLY_CHARS:,} characters")
        usage = field(chunk, "usage")
        if usage:
            self.read_usage(usage)
        out = ""
        for choice in field(chunk, "choices") or ():
            delta = field(choice, "delta")
            if delta is not None:
                out += self._delta(delta)
            if finish := field(choice, "finish_reason"):
                self.finish_reason = str(finish)
        return out

    def read_usage(self, usage: Any) -> None:
        self.prompt_tokens = field(usage, "prompt_tokens")
        self.completion_tokens = field(usage, "completion_tokens")
        cached = field(field(usage, "prompt_tokens_details") or {}, "cached_tokens")
        self.cached_tokens = cached if isinstance(cached, int) else None

    def _delta(self, delta: Any) -> str:
        thinking = field(delta, "reasoning_content") or field(delta, "reasoning")
        if isinstance(thinking, str):
            self.reasoning.append(thinking)
            self.size += len(thinking)
        content = field(delta, "content")
        for call in field(delta, "tool_calls") or ():
            self._call(call)
        if not content:
            return ""
        self.text.append(_text(content))
        self.size += len(self.text[-1])
        shown = self.filter.feed(_text(content))
        if not self.restart and THINK_CLOSE in shown:
            self.restart = True
            self.filter = ThinkFilter()
            return split_thinking("".join(self.text))[0]
        return shown

    def _call(self, tc: Any) -> None:
        index = field(tc, "index")
        index = index if isinstance(index, int) else len(self.slots)
        call_id = _text(field(tc, "id"))
        fn = field(tc, "function")
        name = _text(field(fn, "name")) if fn is not None else ""
        slot = self.by_index.get(index)
        if slot is None or (call_id and slot.id and call_id != slot.id) or (name and _complete(slot)):
            slot = _Slot()
            self.slots.append(slot)
            self.by_index[index] = slot
        if call_id:
            slot.id = call_id
        if name and name != slot.name:
            slot.name += name
        arguments = field(fn, "arguments") if fn is not None else None
        if isinstance(arguments, dict | list):
            slot.parts = [json.dumps(arguments)]
        elif arguments:
            slot.parts.append(_text(arguments))
        self.size += len(slot.parts[-1]) if slot.parts and arguments else 0

    def result(self, seen: set[str] | None = None) -> Completion:
        """The reply; call ids already `seen` in this session (or missing) are replaced by fresh ones."""
        visible, thinking = split_thinking("".join(self.text))
        seen = seen if seen is not None else set()
        calls = []
        for slot in self.slots:
            call_id = slot.id if slot.id and slot.id not in seen else new_call_id()
            seen.add(call_id)
            calls.append(ToolCall(id=call_id, name=slot.name, arguments=slot.arguments))
        finish = self.finish_reason or ("tool_calls" if calls else "stop")
        return Completion(
            content=visible,
            tool_calls=calls,
            finish_reason=finish,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cached_tokens=self.cached_tokens,
            reasoning="".join(self.reasoning) + thinking,
        )

    @property
    def received(self) -> bool:
        return bool(self.text or self.slots or self.reasoning)


def _complete(slot: _Slot) -> bool:
    """A call that already has its name and whole JSON arguments: a new name starts another call."""
    if not slot.name or not slot.parts:
        return False
    try:
        jsonsafe.loads(slot.arguments)
    except json.JSONDecodeError:
        return False
    return True


def completion_from_response(response: Any, seen: set[str] | None = None) -> Completion:
    """A non-streamed reply (the fallback for servers that refuse streaming with tools)."""
    asm = Assembler()
    choice = (field(response, "choices") or [None])[0]
    message = field(choice, "message") if choice is not None else None
    if message is not None:
        asm._delta(message)
    if choice is not None and (finish := field(choice, "finish_reason")):
        asm.finish_reason = str(finish)
    usage = field(response, "usage")
    if usage is not None:
        asm.read_usage(usage)
    return asm.result(seen)
