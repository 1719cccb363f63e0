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

from typing import Any

from ...events import Notice, PlanUpdated, ToolCallFinished, ToolCallStarted
from ...llm.base import LLMError
from ...llm.json_actions import call_of, json_objects
from ...plan import PlanError, PlanUpdate, StepStatus, Verification
from ...plan.keeper import acceptance, rejection
from ...prompts import load
from ..answers.flow import AnswerWork, Checked, tests_in, wrote
from ..answers.prompting import answer_instruction, direct_instruction
from ..answers.running import failure_line
from ..answers.steps import StepSpec, plan_steps
from ..reviews import review_plan
from ..text import summary, unwrap
from ..tool_runs import critiqued
from ..turn import Answered, AwaitingApproval, Failed, TurnContext, TurnOutcome, usage_event
from .asking import Answering
from .replies import said

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
            text = "\n".join(part for part in (text, await critiqued(self.ctx, event)) if part)
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
        """One free-text reply, read as guided mode reads one (LLMError when none comes). The server's own sampling
        is kept: measured at 0.2, the 0.5B model looped until the token limit in 2 of 25 planned tasks."""
        asking = Answering(self.ctx.llm, self.emit)
        return (await asking.ask(self._messages(instruction, task), max_tokens=max_tokens, stop=stop or STOP)).strip()

    async def chat(self, text: str) -> TurnOutcome:
        """Small talk and direct mode get one free-text reply and no plan; the files a task names are written."""
        self.ctx.conv.add({"role": "user", "content": text})
        work = self._work(text)
        try:
            reply = await self._free_text(
                direct_instruction(work.outputs), text, ANSWER_TOKENS if work.outputs else STEP_TOKENS
            )
            return self._answered(await self._saved(work, reply) if work.outputs else reply)
        except LLMError as err:
            return Failed(err)

    async def _saved(self, work: AnswerWork, reply: str) -> str:
        """Direct mode's writes: each named file its block, then the tests the task asks for; nothing is repaired."""
        files = work.files_of(reply)
        lines = [wrote(name, body, await work.write(name, body)) for name, body in files.items()]
        lines += [f"{name} not written: the answer has no block for it" for name in work.outputs if name not in files]
        tests = tests_in(files)
        if tests and not [n for n in tests if work.written[n].is_error]:
            outcome = await work.test(tests)
            how = f"failed: {failure_line(outcome.text)}" if outcome.is_error else "passed"
            lines.append(f"ran {', '.join(tests)}: {how}")
        if missing := [line for line in lines if " not written" in line]:
            await self.emit(Notice(message="; ".join(missing)))
        return reply + "\n\n" + "\n".join(f"- {line}" for line in lines)

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
        work = self._work(task)
        answer = await self._free_text(answer_instruction(task, work.kind, work.outputs), task, ANSWER_TOKENS)
        return self._answered(await self._carried_out(work, answer))

    def _work(self, task: str) -> AnswerWork:
        async def ask(instruction: str) -> str:
            return await self._free_text(instruction, task, ANSWER_TOKENS)

        return AnswerWork(self.ctx, task, ask)

    async def _carried_out(self, work: AnswerWork, answer: str) -> str:
        """The plan becomes what the harness can prove: answer steps, the check, the writes, the tests."""
        model_steps = [s.description for s in self.ctx.keeper.board.active.steps]
        specs = plan_steps(model_steps, work.outputs, work.check_step(answer))
        steps = [
            {"description": spec.description, "status": StepStatus.COMPLETED, "result": written(answer)}
            if spec.role == "answer"
            else {"description": spec.description, "status": StepStatus.PENDING}
            for spec in specs
        ]
        todo = [n for n, spec in enumerate(specs, 1) if spec.role != "answer"]
        if todo:
            steps[todo[0] - 1]["status"] = StepStatus.IN_PROGRESS
        await self._plan_call(PlanUpdate.model_validate({"steps": steps}))
        checked = await work.check(answer) if any(s.role == "check" for s in specs) else Checked(answer, {})
        checked.files = checked.files or work.files_of(checked.answer)
        notes: list[str] = []
        for place, step_id in enumerate(todo):
            spec = specs[step_id - 1]
            status, result, verdict = await self._step_work(work, spec, step_id, checked, notes)
            updates: list[dict[str, Any]] = [{"id": step_id, "status": status, "result": result}]
            if place + 1 < len(todo):
                updates.append({"id": todo[place + 1], "status": StepStatus.IN_PROGRESS})
            await self._plan_call(PlanUpdate.model_validate({"updates": updates}), verdicts=verdict)
        return "\n\n".join([checked.answer, *(f"({note})" for note in notes)])

    async def _step_work(
        self, work: AnswerWork, spec: StepSpec, step_id: int, checked: Checked, notes: list[str]
    ) -> tuple[StepStatus, str, dict[int, tuple[Verification, str]] | None]:
        """Do the harness's step; how it ends, its result, and its check verdict when it has one."""
        if spec.role == "check":
            return StepStatus.COMPLETED, checked.result, {step_id: (checked.verification, "")}
        if spec.role == "write":
            return await self._write_step(work, spec, step_id, checked, notes)
        if unwritten := [f for f in spec.files if f not in work.written or work.written[f].is_error]:
            return StepStatus.CANCELLED, f"not run: {', '.join(unwritten)} not written", None
        outcome = await work.test(spec.files)
        verdict: Verification = "unverified" if outcome.denied else "failed" if outcome.is_error else "passed"
        if verdict == "failed":
            notes.append(f"The tests failed against the written files: {failure_line(outcome.text)}")
        result = {"passed": "passed", "failed": f"failed: {failure_line(outcome.text)}"}.get(verdict, "not run")
        return StepStatus.COMPLETED, f"ran {', '.join(spec.files)}: {result}", {step_id: (verdict, "")}

    async def _write_step(
        self, work: AnswerWork, spec: StepSpec, step_id: int, checked: Checked, notes: list[str]
    ) -> tuple[StepStatus, str, None]:
        """A step that names files is completed by their writes and carries their evidence; cancelled if any
        could not be written."""
        said_here: list[str] = []
        for name in spec.files:
            if name not in checked.files:
                said_here.append(f"{name} not written: the answer has no block for it")
                continue
            fresh = name not in work.written
            result = await work.write(name, checked.files[name])
            if not fresh and result.evidence is not None:  # the same write completes every step naming the file
                if (shown := self.ctx.keeper.record(result.evidence, step_id)) is not None:
                    await self.emit(shown)
            said_here.append(wrote(name, checked.files[name], result))
        if missing := [line for line in said_here if " not written" in line and line not in notes]:
            notes.extend(missing)
            await self.emit(Notice(message="; ".join(missing)))
        failed = any(" not written" in line for line in said_here)
        return (StepStatus.CANCELLED if failed else StepStatus.COMPLETED), "; ".join(said_here), None
