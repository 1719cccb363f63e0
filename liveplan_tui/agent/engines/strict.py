"""Strict mode: the model plans, our code walks the plan, one subagent per step.

1. The model makes a plan through `update_plan` (with `depends_on`); cycles and
   unknown dependencies come back as errors it can fix.
2. The code picks ready steps (pending, dependencies completed), marks them
   in_progress and runs a subagent each: a fresh ReAct loop that sees only the
   goal, its own step and the results of the steps it depends on, with every
   tool but `update_plan`. Up to `max_parallel` run at once (1 by default, which
   keeps the one-in_progress invariant; more relaxes it in strict mode only).
3. A failed step is retried with backoff up to `max_retries`; non-retryable
   errors skip that. A step out of retries rolls back to pending and the model
   is asked to replan the remaining work, at most `max_replans` times.
4. One synthesis call turns the step results into the final answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from ...events import (
    AssistantMessage,
    Error,
    Event,
    PlanUpdated,
    StreamReset,
    Subagent,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from ...llm.base import LLMError
from ...plan import LivePlan, PlanUpdate, Step, StepStatus
from ...plan.keeper import PlanKeeper
from ...prompts import load
from ...tools.plan_tool import OwnSubsteps
from ..conversation import Conversation
from ..reviews import review_proposal
from ..text import summary
from ..turn import Answered, AwaitingApproval, Failed, LimitReached, Limits, TurnContext, TurnOutcome
from .asking import Answering
from .react import react

SUBAGENT_ITERATIONS = 12
PLAN_ITERATIONS = 4


class StepFailed(Exception):
    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@dataclass
class Outcome:
    step_id: int
    result: str | None = None
    error: StepFailed | None = None


class Orchestrator:
    def __init__(self, ctx: TurnContext):
        self.ctx = ctx
        self.limits = ctx.limits
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.results: dict[int, str] = {}
        self.tasks: dict[int, asyncio.Task[Outcome]] = {}
        self.replans = 0
        self.emit = ctx.emit

    # -- planning ---------------------------------------------------------

    async def _plan_with_model(self, keeper: PlanKeeper, instruction: str, *, show_plans: bool = True) -> None:
        """Let the model call update_plan (only) until a plan with steps exists; errors go back to it.

        Planning ends at the first valid plan. A model that goes on to start or complete steps (the
        ordinary guided script) does not change that: here our code runs the steps, so every step of
        that first plan starts pending.
        """
        conv = Conversation(board=keeper.board)  # a scratch pad: the model plans here, on a copy of the board
        conv.add({"role": "user", "content": instruction})

        def system() -> str:
            block = conv.board.prompt_block()
            return load("strict_plan.md") + (f"\n\n{block}" if block else "")

        made: list[LivePlan] = []
        planned = asyncio.Event()

        async def shown(event: Event) -> None:
            """The planner's tool calls and plan changes are shown; its prose is not (our code runs the steps)."""
            if isinstance(event, TextDelta | StreamReset | AssistantMessage):
                return
            if show_plans or not isinstance(event, PlanUpdated):
                await self.emit(event)
            if isinstance(event, PlanUpdated) and event.new.steps and not made:
                made.append(event.new)
            elif made and isinstance(event, ToolCallFinished):  # the call that made the plan is told: stop here,
                planned.set()  # before the loop asks the model anything more; `first_of` cancels it
                await asyncio.Future()

        ctx = self.ctx.scratch(
            conv,
            tools=self.ctx.tools.only("update_plan"),
            system_prompt=system,
            gate=None,
            condenser=None,
            limits=Limits(max_iterations=PLAN_ITERATIONS),
            review_plan=None,  # the fresh plan is reviewed once planning ends, in `_reviewed_plan`
            emit=shown,
        )
        await first_of(react(ctx), planned)  # planning ends at the first plan with steps
        if not made:
            return
        first = made[0]
        pending = [s.model_copy(update={"status": StepStatus.PENDING, "result": ""}) for s in first.steps]
        fresh = first.model_copy(update={"steps": tuple(pending)})
        adopted = keeper.adopt(fresh, why="strict mode runs each step itself")
        if fresh != first:  # the model's own plan was shown as it made it; what changed is said
            await self.emit(adopted)

    async def _reviewed_plan(self, task: str) -> TurnOutcome | None:
        """Plan, and with plan approval on, let the user review it; a rejection is planned again.
        None: the walk goes on; AwaitingApproval: the plan waits for the user."""
        if self.ctx.continue_plan and self.ctx.keeper.board.active.steps:
            return None
        instruction = f"Task: {task}\n\n{load('strict_task.md')}"
        for _ in range(self.limits.max_replans + 1):
            await self._plan_with_model(self.ctx.keeper, instruction)
            plan = self.ctx.keeper.board.active
            review = await review_proposal(self.ctx.review_plan, self.ctx.keeper, plan)
            for event in review.events:
                await self.emit(event)
            if review.deferred:
                return AwaitingApproval()
            if review.proceed:
                return None
            instruction = f"Task: {task}\n\nYour previous plan:\n{plan.render()}\n{review.told}"
        return None  # rejected every time: the board is empty, and the walk says so

    # -- subagents --------------------------------------------------------

    def _brief(self, plan: LivePlan, step: Step) -> str:
        deps = "\n".join(
            f"- step {d} ({dep.description}): {self.results.get(d, '')}"
            for d in step.depends_on
            if (dep := plan.step(d))
        )
        subs = "\n".join(f"- {c.key} [{c.status}] {c.description}" for c in step.substeps)
        owned = (
            f"Your sub-steps, yours alone; mark each in_progress, then completed with a short result, with "
            f"update_plan as you go:\n{subs}\n"
            if subs
            else ""
        )
        return (
            f"Overall goal: {plan.goal or 'see the task'}\nYour step: {step.description}\n"
            + (f"Results of the steps it depends on:\n{deps}\n" if deps else "")
            + owned
        )

    async def _subagent(self, plan: LivePlan, step: Step, task: str) -> str:
        conv = Conversation()
        conv.add(
            {
                "role": "user",
                "content": f"Task: {task}\n\n{self._brief(plan, step)}\nDo only your step, then reply with its result.",
            }
        )

        async def reported(event: Event) -> None:
            """What a subagent shows: the tools it calls, as progress of its step."""
            if isinstance(event, ToolCallStarted):
                await self.queue.put(Subagent(step_id=step.id, phase="tool", detail=event.name))
            elif isinstance(event, PlanUpdated):  # its tools' evidence, recorded on the live step
                await self.queue.put(event)

        tools = self.ctx.tools.without("update_plan")
        if step.substeps:  # the subagent owns them: it updates them on the live plan, and nothing else
            tools = tools.plus([OwnSubsteps(step.id, self.ctx.keeper, self.limits.max_parallel)])
        ctx = self.ctx.scratch(
            conv,
            tools=tools,
            system_prompt=lambda: load("subagent.md"),
            condenser=None,
            limits=Limits(max_iterations=SUBAGENT_ITERATIONS),
            emit=reported,
            step_id=step.id,
            live=self.ctx.keeper,
        )
        match await react(ctx):
            case Answered(text=text) if text.strip():
                return text.strip()
            case Failed(error=err):
                raise StepFailed(err.message, retryable=err.retryable)
            case LimitReached(limit=limit):
                raise StepFailed(f"no result after {limit} model calls")
        raise StepFailed("the subagent gave no result")

    async def _run_step(self, plan: LivePlan, step: Step, task: str) -> Outcome:
        """One step with its retries; reports progress through the queue."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return Outcome(step.id, result=await self._subagent(plan, step, task))
            except StepFailed as failure:
                if not failure.retryable or attempt > self.limits.max_retries:
                    return Outcome(step.id, error=failure)
                delay = self.limits.step_retry_delay * 2 ** (attempt - 1)
                detail = f"attempt {attempt + 1} in {delay:g}s: {failure.message}"
                await self.queue.put(Subagent(step_id=step.id, phase="retrying", detail=detail))
                await asyncio.sleep(delay)

    # -- the walk ---------------------------------------------------------

    def _cancel_running(self) -> None:
        for job in self.tasks.values():
            job.cancel()
        self.tasks.clear()

    async def _start_ready(self, task: str) -> None:
        plan = self.ctx.keeper.board.active
        for step in plan.ready(set(self.tasks))[: self.limits.max_parallel - len(self.tasks)]:
            await self.emit(self.ctx.keeper.start(step.id, max_in_progress=self.limits.max_parallel))
            await self.emit(Subagent(step_id=step.id, phase="started", detail=step.description))
            now = self.ctx.keeper.board.active
            started = now.step(step.id) or step  # as started: its first sub-step in progress
            self.tasks[step.id] = asyncio.create_task(self._run_step(now, started, task))

    async def _progress(self) -> None:
        """Wait for a subagent to report or finish; show what they reported meanwhile."""
        getter = asyncio.create_task(self.queue.get())
        done, _ = await asyncio.wait({getter, *self.tasks.values()}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            await self.emit(getter.result())
        else:
            getter.cancel()
        while not self.queue.empty():
            await self.emit(self.queue.get_nowait())

    async def _collect(self, task: str) -> TurnOutcome | None:
        """Take finished steps; a failure replans (and restarts the walk), or ends the turn when out of replans."""
        for step_id, job in list(self.tasks.items()):
            if not job.done():
                continue
            del self.tasks[step_id]
            outcome = job.result()
            if outcome.result is not None:
                self.results[step_id] = outcome.result
                await self.emit(Subagent(step_id=step_id, phase="finished", detail=summary(outcome.result)))
                await self.emit(self._completed(step_id, summary(outcome.result)))
                continue
            assert outcome.error is not None
            return await self._on_failure(task, step_id, outcome.error)
        return None

    def _completed(self, step_id: int, result: str) -> PlanUpdated:
        """A finished subagent's step: its result; the sub-steps it left open are closed with it, so the parent,
        which LivePlan sets from them, is completed with no model call."""
        step = self.ctx.keeper.board.active.step(step_id)
        left = [
            c for c in (step.substeps if step else ()) if c.status not in (StepStatus.COMPLETED, StepStatus.CANCELLED)
        ]
        if not left:
            return self.ctx.keeper.complete(step_id, result, max_in_progress=self.limits.max_parallel)
        closing = [
            {"id": c.key, "status": StepStatus.COMPLETED, "result": f"closed when step {step_id} ended"} for c in left
        ]
        update = PlanUpdate.model_validate({"updates": [*closing, {"id": step_id, "result": result}]})
        return self.ctx.keeper.apply(update, source="orchestrator", max_in_progress=self.limits.max_parallel)

    async def _on_failure(self, task: str, step_id: int, error: StepFailed) -> TurnOutcome | None:
        await self.emit(Subagent(step_id=step_id, phase="failed", detail=error.message))
        await self.emit(self.ctx.keeper.reopen([step_id], max_in_progress=self.limits.max_parallel))
        self._cancel_running()
        if self.replans >= self.limits.max_replans:
            return self._gave_up(step_id, error.message)
        self.replans += 1
        await self._replan(task, step_id, error.message)
        return None

    async def run(self, task: str) -> TurnOutcome:
        keeper = self.ctx.keeper
        self.ctx.conv.add({"role": "user", "content": task})
        if (waiting := await self._reviewed_plan(task)) is not None:
            return waiting
        if not keeper.board.active.steps:
            message = "strict mode: the model did not make a plan; try /mode plan, or rephrase the task"
            return Failed(LLMError("no_plan", message))
        if running := [s.id for s in keeper.board.active.in_progress]:
            await self.emit(keeper.reopen(running, max_in_progress=self.limits.max_parallel))
        try:
            while not keeper.board.active.is_empty:
                await self._start_ready(task)
                if not self.tasks:
                    break  # nothing running and nothing ready: done, or blocked behind failed steps
                await self._progress()
                if (failed := await self._collect(task)) is not None:
                    return failed
        finally:
            self._cancel_running()
        return await self._synthesize(task)

    async def _replan(self, task: str, failed: int, why: str) -> None:
        """Ask for a revised plan of the remaining work; completed steps are kept as they are."""
        plan = self.ctx.keeper.board.active
        kept = [s for s in plan.steps if s.status == StepStatus.COMPLETED]
        lines = [f"- done: {s.description} → {self.results.get(s.id, s.result)}" for s in kept]
        failed_step = plan.step(failed)
        instruction = (
            f"Task: {task}\n\nWhat succeeded:\n"
            + ("\n".join(lines) or "- nothing yet")
            + f"\n\nWhat failed: {failed_step.description if failed_step else failed} ({why})\n\n"
            + load("strict_replan.md")
        )
        scratch = PlanKeeper(Conversation())  # the model's proposal lands here, never on the live plan
        await self._plan_with_model(scratch, instruction, show_plans=False)
        proposal = scratch.board.active.steps or scratch.board.latest.steps
        if not proposal:
            return
        offset = len(kept)
        steps: list[dict[str, object]] = [
            {"description": s.description, "status": StepStatus.COMPLETED.value, "result": s.result} for s in kept
        ]
        steps += [{"description": s.description, "depends_on": [d + offset for d in s.depends_on]} for s in proposal]
        remapped = {new_id: self.results[s.id] for new_id, s in enumerate(kept, start=1) if s.id in self.results}
        self.results = remapped
        update = PlanUpdate.model_validate({"steps": steps, "explanation": f"replanned after step {failed} failed"})
        await self.emit(self.ctx.keeper.apply(update, source="orchestrator"))

    def _gave_up(self, step_id: int, why: str) -> Failed:
        done = [f"{s.id}" for s in self.ctx.keeper.board.active.steps if s.status == StepStatus.COMPLETED]
        message = (
            f"strict mode gave up after {self.limits.max_replans} replans: step {step_id} failed ({why}); "
            f"completed steps: {', '.join(done) or 'none'}"
        )
        return Failed(LLMError("strict_failed", message, retryable=False))

    async def _synthesize(self, task: str) -> Answered:
        plan = self.ctx.keeper.board.latest
        parts = "\n\n".join(
            f"Step {s.id} ({s.description}):\n{self.results.get(s.id, s.result)}"
            for s in plan.steps
            if s.status == StepStatus.COMPLETED
        )
        messages = [
            {"role": "system", "content": load("synthesis.md")},
            {"role": "user", "content": f"Task: {task}\n\nStep results:\n\n{parts}"},
        ]
        try:
            return Answered(await Answering(self.ctx.llm, self.emit).ask(messages))
        except LLMError as err:  # the step results are the answer when synthesis fails
            message = f"synthesis failed ({err.message}); showing the step results"
            await self.emit(Error(kind=err.kind, message=message, fatal=False, retryable=err.retryable))
            return Answered(parts)


async def first_of(job: Coroutine[Any, Any, TurnOutcome], done: asyncio.Event) -> None:
    """Run `job` until it ends or `done` is set, whichever comes first; a job cut short is cancelled (its own
    cleanup runs)."""
    task = asyncio.ensure_future(job)
    waiter = asyncio.ensure_future(done.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, waiter):
            if not pending.done():
                pending.cancel()
                with suppress(asyncio.CancelledError):
                    await pending
    if task.done() and not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
