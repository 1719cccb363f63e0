"""Whether a reply is a final answer, and what to ask when it is not. Pure.

Real models end a turn in ways that are not answers: nothing but thinking
(`reasoning_content`, `<think>`), an empty message, or a reply cut at the
token limit (`finish_reason: "length"`). None of these is accepted as the
answer: LivePlan asks again (once), or asks the model to continue where it
stopped (twice), and only then settles for what it has, or fails honestly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ...llm.base import Completion

MAX_NUDGES = 1
MAX_CONTINUATIONS = 2
ASK_FOR_ANSWER = (
    "Your last reply had no answer text (only reasoning, or nothing). "
    "Reply now with your final answer in plain text, or call a tool."
)
ASK_SHORTER = "Your reply was cut off at the token limit before any answer. Answer again, briefly."
ASK_TO_CONTINUE = (
    "Your reply was cut off at the token limit. Continue exactly where you stopped; don't repeat anything."
)


@dataclass
class Verdict:
    action: Literal["answer", "ask", "fail"]
    answer: str = ""
    ask: list[dict[str, str]] = field(default_factory=list)  # messages for the next call only
    why: str = ""


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
        if text:
            return Verdict("answer", answer="".join(self.pieces) + completion.content)
        if self.pieces:
            return Verdict("answer", answer="".join(self.pieces))
        if self.nudges < MAX_NUDGES:
            self.nudges += 1
            return Verdict("ask", ask=[{"role": "user", "content": ASK_FOR_ANSWER}])
        if completion.reasoning.strip():  # a server's reasoning parser took the whole reply: it is all there is
            return Verdict("answer", answer=completion.reasoning.strip())
        return Verdict("fail", why="the model returned an empty reply twice")

    def _cut(self, content: str) -> Verdict:
        if not content.strip() and not self.pieces:
            if self.nudges < MAX_NUDGES:
                self.nudges += 1
                return Verdict("ask", ask=[{"role": "user", "content": ASK_SHORTER}])
            return Verdict("fail", why="the model ran out of tokens before answering (finish_reason: length)")
        self.pieces.append(content)
        if self.continuations < MAX_CONTINUATIONS:
            self.continuations += 1
            so_far = "".join(self.pieces)
            return Verdict(
                "ask", ask=[{"role": "assistant", "content": so_far}, {"role": "user", "content": ASK_TO_CONTINUE}]
            )
        return Verdict("fail", why="the reply was still cut off at the token limit after two continuations")
