"""Typed events the agent core yields; every front-end only renders these.

Each event carries a literal `type`, its wire tag, so `liveplan exec --json`
can print one JSON object per line and scripts can dispatch on it. The naming
rule: a class is named by its tag in PascalCase (`turn_finished` is
`TurnFinished`), so one is always found from the other. The tags are a stable
contract (pinned by `tests/golden/exec_events.schema.json`); add kinds, never
rename them.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .llm.base import ErrorKind
from .plan import LivePlan


class _Event(BaseModel):
    # Each kind's validator is built when it is first made: a plain `exec` makes five of the seventeen.
    model_config = ConfigDict(defer_build=True)


class TextDelta(_Event):
    type: Literal["text_delta"] = "text_delta"
    text: str


class StreamReset(_Event):
    """The partial reply streamed so far is void (the stream was cut and is retried)."""

    type: Literal["stream_reset"] = "stream_reset"
    reason: str


class AssistantMessage(_Event):
    type: Literal["assistant_message"] = "assistant_message"
    content: str


class ToolCallStarted(_Event):
    type: Literal["tool_call_started"] = "tool_call_started"
    call_id: str
    name: str
    arguments: str
    summary: str = ""  # the tool's own one-line description of the call


class ToolCallFinished(_Event):
    type: Literal["tool_call_finished"] = "tool_call_finished"
    call_id: str
    name: str
    result: str
    is_error: bool = False


class PlanUpdated(_Event):
    type: Literal["plan_updated"] = "plan_updated"
    old: LivePlan
    new: LivePlan
    archived: bool = False
    explanation: str = ""
    source: Literal["model", "user", "orchestrator"] = "model"


class PlanCritique(_Event):
    """A new plan's review before it runs (`plan_review`): by lint, or by a fresh-context model call. The findings
    reach the model once, in the result of the `update_plan` call that made the plan."""

    type: Literal["plan_critique"] = "plan_critique"
    by: Literal["lint", "model"]
    verdict: Literal["ok", "revise"]
    findings: list[str] = Field(default_factory=list)


class PlanProposed(_Event):
    """The model made a plan and `plan_approval` is "ask": nothing else runs until the user reviews it."""

    type: Literal["plan_proposed"] = "plan_proposed"
    plan: LivePlan


class PlanReviewed(_Event):
    """The user's verdict on a proposed plan, and each change they made before approving it."""

    type: Literal["plan_reviewed"] = "plan_reviewed"
    verdict: Literal["approve", "reject"]
    changes: list[str] = Field(default_factory=list)
    reason: str = ""


class Usage(_Event):
    type: Literal["usage"] = "usage"
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    estimated: bool = False
    context_window: int = 0


class Retrying(_Event):
    type: Literal["retrying"] = "retrying"
    attempt: int
    delay: float
    reason: str


class Route(_Event):
    """How the router decided to run this turn, and which level decided."""

    type: Literal["route"] = "route"
    strategy: Literal["direct", "plan", "plan_and_subagent"]
    level: Literal["prefilter", "llm", "keyword", "override"]
    reason: str


class Subagent(_Event):
    """Progress of one strict-mode subagent, so a front-end can show what each is doing."""

    type: Literal["subagent"] = "subagent"
    step_id: int
    phase: Literal["started", "tool", "retrying", "finished", "failed"]
    detail: str = ""


class ToolProgress(_Event):
    """A running tool says how it goes (a long command's time so far), before its result."""

    type: Literal["tool_progress"] = "tool_progress"
    call_id: str
    name: str
    detail: str


class GoalStarted(_Event):
    """A goal loop began: the goal, how it is judged met, and the budget that always ends it."""

    type: Literal["goal_started"] = "goal_started"
    goal: str
    until: str = ""  # the command whose exit 0 means met; empty: an independent verifier judges
    max_turns: int
    max_calls: int
    max_tokens: int | None = None
    max_minutes: float | None = None


class GoalChecked(_Event):
    """After a turn: whether the goal is met, by whom, and what is missing."""

    type: Literal["goal_checked"] = "goal_checked"
    passed: bool
    by: Literal["until", "verifier"]
    detail: str = ""
    turns: int = 0  # spent so far
    calls: int = 0


class GoalFinished(_Event):
    """How a goal loop ended, with what it spent and where the plan stands."""

    type: Literal["goal_finished"] = "goal_finished"
    reason: Literal["met", "budget", "stuck", "failed"]
    why: str
    turns: int
    calls: int
    tokens: int
    done: list[str] = []
    left: list[str] = []


class Condensed(_Event):
    type: Literal["condensed"] = "condensed"
    replaced_messages: int
    tokens_before: int
    tokens_after: int
    method: str


class Error(_Event):
    """A failure, already masked; `retryable` is the client's own verdict, kept for strict mode."""

    type: Literal["error"] = "error"
    kind: ErrorKind
    message: str
    fatal: bool = True
    retryable: bool = False


class Notice(_Event):
    """Something worth knowing that is not a failure: a server quirk LivePlan worked around, and how to fix it."""

    type: Literal["notice"] = "notice"
    message: str


class TurnFinished(_Event):
    type: Literal["turn_finished"] = "turn_finished"
    answer: str
    reason: Literal["done", "max_iterations", "error", "cancelled", "awaiting_approval"] = "done"


AnyEvent = (
    TextDelta
    | StreamReset
    | AssistantMessage
    | ToolCallStarted
    | ToolCallFinished
    | ToolProgress
    | PlanUpdated
    | PlanProposed
    | PlanReviewed
    | PlanCritique
    | Usage
    | Retrying
    | Route
    | Subagent
    | GoalStarted
    | GoalChecked
    | GoalFinished
    | Condensed
    | Error
    | Notice
    | TurnFinished
)
Event = Annotated[AnyEvent, Field(discriminator="type")]
EVENT_TYPES: tuple[type[BaseModel], ...] = get_args(AnyEvent)


@cache
def event_adapter() -> TypeAdapter[Event]:
    """Reads any event back from its JSON (built on first use: it builds every kind's validator)."""
    return TypeAdapter(Event)


def tag_of(cls: type[BaseModel]) -> str:
    return str(cls.model_fields["type"].default)
