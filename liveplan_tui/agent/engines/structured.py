"""Structured-action mode for small models: the harness owns the plan's state machine.

Measured on Qwen2.5-Coder-0.5B: it rarely emits native tool calls, and one
generic action schema left plans unfinished, while a schema that allows only
the move valid *now* completed every plan, and content was better written as
free text than inside JSON. So each turn is:

1. one JSON call, constrained to "create a plan of 2-3 steps" (one retry, then
   the harness's default plan);
2. free text: either one answer covering the plan (`answer`, the default) or
   one call per step whose text becomes that step's result (`steps`);
3. the harness advances the plan through the same keeper and events as native
   tool calling, so front-ends can't tell the difference.
"""

from __future__ import annotations

import json
from typing import Any

from ...events import PlanUpdated, ToolCallFinished, ToolCallStarted
from ...llm.assemble import new_call_id
from ...llm.base import LLMError, ToolCall
from ...llm.json_actions import call_of, json_objects
from ...plan import PlanError, PlanUpdate, StepStatus, Verification
from ...plan.keeper import acceptance, rejection
from ...prompts import load
from ...tools import ToolRegistry
from ...tools.base import ToolResult
from ..code_check import AnswerCode, RunAnswerTool, code_in, failure_line, report, shape_problems
from ..reviews import review_plan
from ..text import summary, unwrap
from ..tool_runs import run_tool
from ..turn import Answered, AwaitingApproval, Failed, TurnContext, TurnOutcome, usage_event
from .asking import Answering
from .replies import said

MAX_FIXES = 2
STEP_TOKENS = 300
ANSWER_TOKENS = 700
STOP = ["<|im_end|>", "<|endoftext|>"]
REJECTED = "You rejected the plan twice, so I stopped. Tell me how you would like to go about it."

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
    """The plan in the model's JSON (a move, or a call to update_plan), or None when it is no valid first move."""
    for found in json_objects(content):
        call = call_of(found, {"update_plan"})
        obj = call[1] if call else found
        steps = obj.get("steps")
        goal = obj.get("goal")
        if (
            obj.get("action", "update_plan") != "update_plan"
            or not isinstance(steps, list)
            or not isinstance(goal, str)
        ):
            continue
        descriptions = [s.get("description", "").strip() if isinstance(s, dict) else str(s).strip() for s in steps]
        descriptions = [d for d in descriptions if d][:3]
        if len(descriptions) >= 2 and goal.strip():
            steps_out = [
                {"description": d, "status": StepStatus.IN_PROGRESS if i == 0 else StepStatus.PENDING}
                for i, d in enumerate(descriptions)
            ]
            return PlanUpdate.model_validate({"goal": goal.strip(), "steps": steps_out})
    return None


def written(answer: str) -> str:
    """A step's result when one answer covers the plan: what the answer gives, not a claim it was done."""
    blocks = answer.count("```") // 2
    return f"answered: {summary(answer, 60)}" + (
        f" ({blocks} code block{'s' if blocks != 1 else ''})" if blocks else ""
    )


def failure_tail(text: str, limit: int = 1200) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]


def verdict_of(code: AnswerCode, outcome: ToolResult, failures: int) -> tuple[Verification, str]:
    """The check step's verdict and result: passed, failed (how often, and why), or not run."""
    if outcome.denied:
        return "unverified", "not run: the run was not approved"
    if not outcome.is_error:
        fixed = f" after {failures} fix{'es' if failures != 1 else ''}" if failures else ""
        return "passed", report(code, outcome) + fixed
    times = {0: "once", 1: "once", 2: "twice"}.get(failures + 1 if failures < 2 else 2, f"{failures + 1} times")
    return "failed", f"failed {times}: {failure_line(outcome.text)}"


def default_plan(task: str) -> PlanUpdate:
    """The harness's own move when the model can't produce a valid plan."""
    goal = " ".join(task.split())[:120]
    steps = [
        {"description": "Work out the approach", "status": StepStatus.IN_PROGRESS},
        {"description": "Write the answer"},
    ]
    return PlanUpdate.model_validate({"goal": goal, "steps": steps})


class StructuredTurn:
    def __init__(self, ctx: TurnContext):
        self.ctx = ctx
        self.emit = ctx.emit
        self.calls = 0

    def _messages(self, instruction: str, task: str) -> list[dict[str, Any]]:
        system = load("local_system.md")
        block = self.ctx.keeper.board.prompt_block()
        if block:
            system += "\n\n" + block
        if told := self.ctx.conv.memory.render_told():
            system += "\n\n" + told
        history = [m for m in self.ctx.conv.messages if m["role"] in ("user", "assistant") and m.get("content")][-6:]
        return [
            {"role": "system", "content": system},
            *history[:-1],
            {"role": "user", "content": f"{task}\n\n{instruction}"},
        ]

    async def _plan_call(
        self, update: PlanUpdate, verdicts: dict[int, tuple[Verification, str]] | None = None
    ) -> PlanUpdated | None:
        """Apply a harness move exactly as a native `update_plan` call would be; the change, or None if refused."""
        self.calls += 1
        call_id = f"call_plan_{self.calls}"
        args = update.model_dump_json(exclude_none=True)
        conv = self.ctx.conv
        call = {"id": call_id, "type": "function", "function": {"name": "update_plan", "arguments": args}}
        conv.add({"role": "assistant", "content": None, "tool_calls": [call]})
        summary_line = self.ctx.tools.summary("update_plan", args)
        await self.emit(ToolCallStarted(call_id=call_id, name="update_plan", arguments=args, summary=summary_line))
        event: PlanUpdated | None = None
        try:
            event = self.ctx.keeper.apply(update, source="model", verdicts=verdicts)
            text, failed = acceptance(event), False
            await self.emit(event)
        except PlanError as exc:
            text, failed = rejection(exc, self.ctx.keeper.board), True
        conv.add({"role": "tool", "tool_call_id": call_id, "content": text})
        await self.emit(ToolCallFinished(call_id=call_id, name="update_plan", result=text, is_error=failed))
        return event

    async def _ask_plan(self, task: str, instruction: str = "") -> PlanUpdated | None:
        fmt = {"type": "json_schema", "json_schema": {"name": "plan", "schema": PLAN_SCHEMA, "strict": True}}
        for _ in range(2):
            messages = self._messages(instruction + load("local_plan.md"), task)
            completion = await self.ctx.llm.complete(messages, response_format=fmt, max_tokens=STEP_TOKENS)
            if (usage := usage_event(completion)) is not None:
                await self.emit(usage)
            if (move := plan_move(said(completion))) is not None:
                break
        else:
            move = default_plan(task)
        return await self._plan_call(move)

    async def _free_text(self, instruction: str, task: str, max_tokens: int, stop: list[str] | None = None) -> str:
        """One free-text reply, read as guided mode reads one (LLMError when none comes)."""
        asking = Answering(self.ctx.llm, self.emit)
        return (await asking.ask(self._messages(instruction, task), max_tokens=max_tokens, stop=stop or STOP)).strip()

    async def chat(self, text: str) -> TurnOutcome:
        """Small talk gets one free-text reply and no plan."""
        self.ctx.conv.add({"role": "user", "content": text})
        try:
            return self._answered(await self._free_text("Reply briefly.", text, STEP_TOKENS))
        except LLMError as err:
            return Failed(err)

    async def run(self, task: str) -> TurnOutcome:
        """A task: the harness's plan, then free text, then the harness completes the plan."""
        goal = self.ctx.keeper.board.active.goal if self.ctx.continue_plan else ""
        self.ctx.conv.add({"role": "user", "content": task})
        try:
            return await self._planned(f"{goal}\n\n{task}" if goal else task)
        except LLMError as err:
            return Failed(err)

    @staticmethod
    def _answered(text: str) -> Answered:
        return Answered(unwrap(text) or "(the model returned no text)")

    async def _by_steps(self, task: str) -> str:
        plan = self.ctx.keeper.board.active
        parts = []
        for step in plan.steps:
            instruction = load("local_step.md").format(id=step.id, description=step.description)
            markers = [
                f"\nStep {step.id + 1}",
                f"\n## Step {step.id + 1}",
                f"\n**{step.id + 1}.",
            ]  # the next step is not this call's
            answer = await self._free_text(instruction, task, STEP_TOKENS, STOP + markers)
            parts.append(f"**{step.id}. {step.description}**\n\n{answer}")
            updates = [{"id": step.id, "status": StepStatus.COMPLETED, "result": summary(answer)}]
            if step.id < plan.total:
                updates.append({"id": step.id + 1, "status": StepStatus.IN_PROGRESS})
            await self._plan_call(PlanUpdate.model_validate({"updates": updates}))
        return "\n\n".join(parts)

    async def _reviewed_plan(self, task: str) -> TurnOutcome | None:
        """The harness's plan; with plan approval on, the user reviews it (a rejection is planned again, once).
        None: go on with the plan; else how the turn ends (waiting for approval, or rejected twice)."""
        if self.ctx.continue_plan and self.ctx.keeper.board.active.steps:
            return None
        instruction = ""
        for _ in range(2):
            made = await self._ask_plan(task, instruction)
            if made is None:
                return None
            review = await review_plan(self.ctx.review_plan, self.ctx.keeper, made)
            for event in review.events:
                await self.emit(event)
            if review.deferred:
                return AwaitingApproval() if self.ctx.keeper.board.awaiting_approval else Answered(REJECTED)
            if review.proceed:
                return None
            instruction = f"{review.told}\n\n"
        return Answered(REJECTED)

    async def _planned(self, task: str) -> TurnOutcome:
        if (ended := await self._reviewed_plan(task)) is not None:
            return ended
        if self.ctx.limits.structured_style == "steps":
            return self._answered(await self._by_steps(task))
        answer = await self._free_text(load("local_answer.md"), task, ANSWER_TOKENS)
        code = code_in(answer)
        if code.runnable:
            return self._answered(await self._verified(task, answer, code))
        done = [
            {"id": s.id, "status": StepStatus.COMPLETED, "result": written(answer)}
            for s in self.ctx.keeper.board.active.steps
        ]
        await self._plan_call(PlanUpdate.model_validate({"updates": done}))
        return self._answered(answer)

    async def _verified(self, task: str, answer: str, code: AnswerCode) -> str:
        """The plan's last step runs the answer's code; a failure goes back to the model, at most twice."""
        steps = [
            {"description": s.description, "status": StepStatus.COMPLETED, "result": written(answer)}
            for s in self.ctx.keeper.board.active.steps
        ]
        steps.append({"description": "Run the answer's code and check it", "status": StepStatus.IN_PROGRESS})
        await self._plan_call(PlanUpdate.model_validate({"steps": steps}))
        check_id, best, failures = len(steps), answer, 0
        first: tuple[str, str] | None = None  # the answer as asked for, and how it failed
        while True:
            outcome = await self._run_code(code)
            if not outcome.is_error and (problems := shape_problems(task, code)):
                outcome = ToolResult("error: " + "; ".join(problems), is_error=True)
            first = first or (best, outcome.text)
            if outcome.denied or not outcome.is_error or failures >= MAX_FIXES:
                break
            failures += 1
            fix = load("local_fix.md").format(error=failure_tail(outcome.text))
            fixed_answer = await self._free_text(fix, task, ANSWER_TOKENS)
            if not (fixed := code_in(fixed_answer)).runnable:
                break
            best, code = fixed_answer, fixed
        verdict, result = verdict_of(code, outcome, failures)
        if outcome.is_error and not outcome.denied:  # no version passed: a fix that fails is no better evidence
            best = f"{first[0]}\n\n(Its code failed when run: {failure_line(first[1])})" if first else best
        update = PlanUpdate.model_validate(
            {"updates": [{"id": check_id, "status": StepStatus.COMPLETED, "result": result}]}
        )
        await self._plan_call(update, verdicts={check_id: (verdict, "")})
        return best

    async def _run_code(self, code: AnswerCode) -> ToolResult:
        """Run through the approval gate, like a shell command."""
        call = ToolCall(
            id=new_call_id(),
            name=RunAnswerTool.name,
            arguments=json.dumps({"python": code.python, "shell": code.shell}),
        )
        summary_line = f"run the answer's code: {code.script()}"
        await self.emit(
            ToolCallStarted(call_id=call.id, name=call.name, arguments=call.arguments, summary=summary_line)
        )
        result = await run_tool(ToolRegistry([RunAnswerTool()]), call, self.ctx.tool_ctx, self.ctx.gate)
        await self.emit(ToolCallFinished(call_id=call.id, name=call.name, result=result.text, is_error=result.is_error))
        return result
