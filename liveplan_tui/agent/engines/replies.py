"""The one reader of a model's reply, for every engine: what it says, what it calls, whether it is an answer. Pure.

What a reply says is its content, or, when the content is empty, its reasoning (a server's reasoning parser can
take a thinking model's whole reply). What it calls is its native tool calls, or the calls it wrote as text
there (Hermes `<tool_call>`, Mistral `[TOOL_CALLS]`, fenced or bare JSON). Object arguments are made strings
where the stream is assembled, so every engine gets them alike.

Real models end a turn in ways that are not answers: nothing but thinking
(`reasoning_content`, `<think>`), an empty message, a tool call where no tool
is offered, or a reply cut at the token limit (`finish_reason: "length"`).
None of these is accepted as the answer: LivePlan asks again (once), or asks
the model to continue where it stopped (twice), and only then settles for
what it has, or fails honestly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ...llm.base import Completion, ToolCall
from ...llm.json_actions import only_a_call, tool_calls_in

MAX_NUDGES = 1
MAX_CONTINUATIONS = 2
ASK_FOR_ANSWER = (
    "Your last reply had no answer text (only reasoning, or nothing). "
    "Reply now with your final answer in plain text, or call a tool."
)
ASK_FOR_PROSE = (
    "Your last reply was a tool call, but no tools are available for this reply. "
    "Reply now with your answer in plain text, without JSON."
)
ASK_SHORTER = "Your reply was cut off at the token limit before any answer. Answer again, briefly."
ASK_TO_CONTINUE = (
    "Your reply was cut off at the token limit. Continue exactly where you stopped; don't repeat anything."
)


def said(completion: Completion) -> str:
    """What a reply says: its content, or its reasoning when the content is empty."""
    return completion.content if completion.content.strip() else completion.reasoning


def calls_in(completion: Completion, tools: set[str]) -> list[ToolCall]:
    """The reply's tool calls: native ones, else those written as text in what it says.

    A reply that is nothing but one call-shaped object is a call even to an unknown tool, so it is never taken
    for the answer (the tool's `unknown tool` result tells the model what exists).
    """
    if completion.tool_calls:
        return completion.tool_calls
    text = said(completion)
    calls = tool_calls_in(text, tools)
    if not calls and (only := only_a_call(text)) is not None:
        calls = [only]
    return calls


@dataclass
class Verdict:
    action: Literal["answer", "ask", "fail"]
    answer: str = ""
    ask: list[dict[str, str]] = field(default_factory=list)  # messages for the next call only
    why: str = ""
    kind: Literal["empty_reply", "truncated"] = "empty_reply"  # the error kind of a failure


@dataclass
class ReplyState:
    """What a turn has tried so far to get a proper answer."""

    nudges: int = 0
    continuations: int = 0
    pieces: list[str] = field(default_factory=list)

    def judge(self, completion: Completion) -> Verdict:
        text = completion.content.strip()
        if completion.finish_reason == "length":
            return self._cut(completion.content)
        if text and only_a_call(text) is not None:  # a call where no tool is offered is no answer
            return self._nudge(ASK_FOR_PROSE) or Verdict("fail", why="the model replied with a tool call twice")
        if text:
            return Verdict("answer", answer="".join(self.pieces) + completion.content)
        if self.pieces:
            return Verdict("answer", answer="".join(self.pieces))
        if (nudge := self._nudge(ASK_FOR_ANSWER)) is not None:
            return nudge
        thought = completion.reasoning.strip()
        if thought and only_a_call(thought) is None:  # a server's reasoning parser took the whole reply
            return Verdict("answer", answer=thought)
        return Verdict("fail", why="the model returned an empty reply twice")

    def _nudge(self, question: str) -> Verdict | None:
        """Ask once for a proper answer; None when that was already asked."""
        if self.nudges >= MAX_NUDGES:
            return None
        self.nudges += 1
        return Verdict("ask", ask=[{"role": "user", "content": question}])

    def _cut(self, content: str) -> Verdict:
        if not content.strip() and not self.pieces:
            if (nudge := self._nudge(ASK_SHORTER)) is not None:
                return nudge
            why = "the model ran out of tokens before answering (finish_reason: length)"
            return Verdict("fail", why=why, kind="truncated")
        self.pieces.append(content)
        if self.continuations < MAX_CONTINUATIONS:
            self.continuations += 1
            so_far = "".join(self.pieces)
            return Verdict(
                "ask", ask=[{"role": "assistant", "content": so_far}, {"role": "user", "content": ASK_TO_CONTINUE}]
            )
        why = "the reply was still cut off at the token limit after two continuations"
        return Verdict("fail", why=why, kind="truncated")
