"""Structured-action mode for small models: the harness owns the plan's state machine.

Measured on Qwen2.5-Coder-0.5B: it rarely emits native tool calls, and one
generic action schema left plans unfinished, while a schema that allows only
the move valid *now* completed every plan, and content was better written as
free text than inside JSON. So each turn is:

1. one JSON call, constrained to "create a plan of 2-3 steps" (one retry, then
   the harness's default plan);
2. free text: either one answer covering the plan (`answer`, the default) or
   one call per step whose text becomes that step's result (`steps`);
3. the harness advances the plan through the same `update_plan` path and
   events as native tool calling, so front-ends can't tell the difference.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..events import AssistantMessage, ErrorEvent, Event, ToolCallFinished, ToolCallStarted, TurnFinished
from ..llm.json_actions import json_objects
from ..llm.openai_compat import Completion, LLMError, usage_event
from ..plan import PlanUpdate
from ..prompts import load
from ..tools.plan_tool import apply_update

if TYPE_CHECKING:
    from .agent import Agent

STEP_TOKENS = 300
ANSWER_TOKENS = 700
STOP = ["<|im_end|>", "<|endoftext|>"]

PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "action": {"const": "update_plan"},
        "goal": {"type": "string"},
        "steps": {
            "type": "array",
            "minItems": 2,
            "maxItems": 3,
            "items": {"type": "object", "properties": {"description": {"type": "string"}}, "required": ["description"]},
        },
    },
    "required": ["action", "goal", "steps"],
}


def plan_move(content: str) -> PlanUpdate | None:
    """The plan in the model's JSON, or None when it is not a valid first move."""
    for obj in json_objects(content):
        steps = obj.get("steps")
        goal = obj.get("goal")
        if obj.get("action", "update_plan") != "update_plan" or not isinstance(steps, list) or not isinstance(goal, str):
            continue
        descriptions = [s.get("description", "").strip() if isinstance(s, dict) else str(s).strip() for s in steps]
        descriptions = [d for d in descriptions if d][:3]
        if len(descriptions) >= 2 and goal.strip():
            return PlanUpdate.model_validate(
                {"goal": goal.strip(), "steps": [{"description": d, "status": "in_progress" if i == 0 else "pending"} for i, d in enumerate(descriptions)]}
            )
    return None


def default_plan(task: str) -> PlanUpdate:
    """The harness's own move when the model can't produce a valid plan."""
    goal = " ".join(task.split())[:120]
    return PlanUpdate.model_validate(
        {"goal": goal, "steps": [{"description": "Work out the approach", "status": "in_progress"}, {"description": "Write the answer"}]}
    )


def unwrap(text: str) -> str:
    """Drop the ```markdown fence small models like to wrap a whole answer in."""
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    if first.strip().lower() in ("```markdown", "```md"):
        rest = rest.rstrip()
        return (rest[:-3] if rest.endswith("```") else rest).strip()
    return stripped


def summary(text: str, limit: int = 80) -> str:
    """A step's short result: the first line of prose outside code blocks, cut at a word."""
    in_code = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        line = line.strip().lstrip("#*-> ").strip()
        if line and not in_code:
            return line if len(line) <= limit else line[:limit].rsplit(" ", 1)[0] + "…"
    return "done"


class StructuredTurn:
    def __init__(self, agent: Agent):
        self.agent = agent
        self.calls = 0

    def _messages(self, instruction: str, task: str) -> list[dict[str, Any]]:
        system = load("local_system.md")
        block = self.agent.conv.board.prompt_block()
        if block:
            system += "\n\n" + block
        history = [m for m in self.agent.conv.messages if m["role"] in ("user", "assistant") and m.get("content")][-6:]
        return [{"role": "system", "content": system}, *history[:-1], {"role": "user", "content": f"{task}\n\n{instruction}"}]

    def _usage(self, completion: Completion) -> list[Event]:
        reported = usage_event(completion)
        return [reported] if reported is not None else []

    def _plan_call(self, update: PlanUpdate) -> list[Event]:
        """Apply a harness move exactly as a native `update_plan` call would be."""
        self.calls += 1
        call_id = f"call_plan_{self.calls}"
        args = update.model_dump_json(exclude_none=True)
        self.agent.conv.add({"role": "assistant", "content": None, "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "update_plan", "arguments": args}}]})
        result = apply_update(self.agent.ctx, update, source="model")
        self.agent.conv.add({"role": "tool", "tool_call_id": call_id, "content": result.text})
        return [ToolCallStarted(call_id=call_id, name="update_plan", arguments=args), *result.events,
                ToolCallFinished(call_id=call_id, name="update_plan", result=result.text, is_error=result.is_error)]

    async def _ask_plan(self, task: str) -> tuple[PlanUpdate, list[Event]]:
        events: list[Event] = []
        fmt = {"type": "json_schema", "json_schema": {"name": "plan", "schema": PLAN_SCHEMA, "strict": True}}
        for _ in range(2):
            completion = await self.agent.llm.complete(self._messages(load("local_plan.md"), task), response_format=fmt, max_tokens=STEP_TOKENS)
            events += self._usage(completion)
            move = plan_move(completion.content)
            if move is not None:
                return move, events
        return default_plan(task), events

    async def _free_text(self, instruction: str, task: str, max_tokens: int, stop: list[str] | None = None) -> AsyncIterator[Event | str]:
        text = ""
        async for item in self.agent.llm.stream(self._messages(instruction, task), max_tokens=max_tokens, stop=stop or STOP):
            if isinstance(item, Completion):
                text = item.content
                for event in self._usage(item):
                    yield event
            else:
                yield item
        yield text.strip()

    async def chat(self, text: str) -> AsyncIterator[Event]:
        """Small talk gets one free-text reply and no plan."""
        async for event in self._turn(text, self._free_text("Reply briefly.", text, STEP_TOKENS)):
            yield event

    async def run(self, task: str) -> AsyncIterator[Event]:
        """A task: the harness's plan, then free text, then the harness completes the plan."""
        async for event in self._turn(task, self._planned(task)):
            yield event

    async def _turn(self, text: str, body: AsyncIterator[Event | str]) -> AsyncIterator[Event]:
        """Record the request, relay `body`'s events, and finish with the text it ends on."""
        conv = self.agent.conv
        conv.add({"role": "user", "content": text})
        answer = ""
        try:
            async for item in body:
                if isinstance(item, str):
                    answer = item
                else:
                    yield item
        except LLMError as err:
            yield ErrorEvent(kind=err.kind, message=err.message)
            yield TurnFinished(answer="", reason="error")
            return
        answer = unwrap(answer) or "(the model returned no text)"
        conv.add({"role": "assistant", "content": answer})
        yield AssistantMessage(content=answer)
        yield TurnFinished(answer=answer)

    async def _planned(self, task: str) -> AsyncIterator[Event | str]:
        move, events = await self._ask_plan(task)
        for event in events + self._plan_call(move):
            yield event
        plan = self.agent.conv.board.active
        if self.agent.settings.structured_style == "steps":
            parts = []
            for step in plan.steps:
                text = ""
                instruction = load("local_step.md").format(id=step.id, description=step.description)
                markers = [f"\nStep {step.id + 1}", f"\n## Step {step.id + 1}", f"\n**{step.id + 1}."]  # the next step is not this call's
                async for item in self._free_text(instruction, task, STEP_TOKENS, STOP + markers):
                    if isinstance(item, str):
                        text = item
                    else:
                        yield item
                parts.append(f"**{step.id}. {step.description}**\n\n{text}")
                updates = [{"id": step.id, "status": "completed", "result": summary(text)}]
                if step.id < plan.total:
                    updates.append({"id": step.id + 1, "status": "in_progress"})
                for event in self._plan_call(PlanUpdate.model_validate({"updates": updates})):
                    yield event
            yield "\n\n".join(parts)
            return
        answer = ""
        async for item in self._free_text(load("local_answer.md"), task, ANSWER_TOKENS):
            if isinstance(item, str):
                answer = item
            else:
                yield item
        done = [{"id": s.id, "status": "completed", "result": "covered in the answer"} for s in plan.steps]
        for event in self._plan_call(PlanUpdate.model_validate({"updates": done})):
            yield event
        yield answer
