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
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..events import AssistantMessage, ErrorEvent, Event, SubagentEvent, TurnFinished
from ..llm.openai_compat import Completion, LLMError
from ..plan import LivePlan, PlanUpdate, Step
from ..prompts import load
from ..tools import ToolRegistry
from ..tools.base import ToolContext
from ..tools.plan_tool import apply_update
from .conversation import Conversation
from .loop import react
from .structured import summary

if TYPE_CHECKING:
    from .agent import Agent

NON_RETRYABLE = {"auth", "not_found", "bad_request", "quota", "context_length"}
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
    def __init__(self, agent: Agent):
        self.agent = agent
        s = agent.settings
        self.max_parallel = s.max_parallel
        self.max_retries = s.max_retries
        self.max_replans = s.max_replans
        self.retry_delay = s.step_retry_delay
        self.queue: asyncio.Queue[Event] = asyncio.Queue()

    # -- planning ---------------------------------------------------------

    def _context(self, conv: Conversation) -> ToolContext:
        """The agent's tool context, with `conv` holding the plan."""
        return replace(self.agent.ctx, plans=conv)

    async def _plan_with_model(self, holder: Conversation, instruction: str) -> AsyncIterator[Event]:
        """Let the model call update_plan (only) until it stops; errors go back to it."""
        conv = Conversation()
        conv.board = holder.board
        conv.add({"role": "user", "content": instruction})
        ctx = self._context(conv)
        tools = ToolRegistry([self.agent.tools.get("update_plan")])  # type: ignore[list-item]

        def system() -> str:
            block = conv.board.prompt_block()
            return load("strict_plan.md") + (f"\n\n{block}" if block else "")

        async for event in react(self.agent.llm, conv, tools, system, ctx, max_iterations=PLAN_ITERATIONS):
            if event.type not in ("turn_finished", "assistant_message", "text_delta", "stream_reset"):
                yield event
        holder.board = conv.board

    # -- subagents --------------------------------------------------------

    def _brief(self, plan: LivePlan, step: Step, results: dict[int, str]) -> str:
        deps = "\n".join(f"- step {d} ({plan.step(d).description}): {results.get(d, '')}" for d in step.depends_on if plan.step(d))  # type: ignore[union-attr]
        return (
            f"Overall goal: {plan.goal or 'see the task'}\n"
            f"Your step: {step.description}\n" + (f"Results of the steps it depends on:\n{deps}\n" if deps else "")
        )

    async def _subagent(self, plan: LivePlan, step: Step, results: dict[int, str], task: str) -> str:
        conv = Conversation()
        conv.add({"role": "user", "content": f"Task: {task}\n\n{self._brief(plan, step, results)}\nDo only your step, then reply with its result."})
        ctx = self._context(conv)
        answer = ""
        async for event in react(
            self.agent.llm, conv, self.agent.tools.without("update_plan"), lambda: load("subagent.md"), ctx,
            max_iterations=SUBAGENT_ITERATIONS, gate=self.agent.gate,
        ):
            if event.type == "tool_call_started":
                await self.queue.put(SubagentEvent(step_id=step.id, phase="tool", detail=event.name))
            elif event.type == "error":
                raise StepFailed(event.message, retryable=event.kind not in NON_RETRYABLE)
            elif event.type == "turn_finished":
                answer = event.answer
        if not answer.strip():
            raise StepFailed("the subagent gave no result")
        return answer.strip()

    async def _run_step(self, plan: LivePlan, step: Step, results: dict[int, str], task: str) -> Outcome:
        """One step with its retries; reports progress through the queue."""
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await self._subagent(plan, step, results, task)
                return Outcome(step.id, result=result)
            except StepFailed as failure:
                if not failure.retryable or attempt > self.max_retries:
                    return Outcome(step.id, error=failure)
                delay = self.retry_delay * 2 ** (attempt - 1)
                await self.queue.put(SubagentEvent(step_id=step.id, phase="retrying", detail=f"attempt {attempt + 1} in {delay:g}s: {failure.message}"))
                await asyncio.sleep(delay)

    # -- the walk ---------------------------------------------------------

    def _set(self, updates: list[dict], source: str = "orchestrator") -> list[Event]:
        result = apply_update(self.agent.ctx, PlanUpdate.model_validate({"updates": updates}), source=source, max_in_progress=self.max_parallel)  # type: ignore[arg-type]
        if result.is_error:
            raise RuntimeError(result.text)
        return result.events

    def _ready(self, plan: LivePlan, running: set[int]) -> list[Step]:
        done = {s.id for s in plan.steps if s.status == "completed"}
        return [s for s in plan.steps if s.status == "pending" and s.id not in running and set(s.depends_on) <= done]

    async def run(self, task: str) -> AsyncIterator[Event]:
        agent = self.agent
        agent.conv.add({"role": "user", "content": task})
        async for event in self._plan_with_model(agent.conv, f"Task: {task}\n\n{load('strict_task.md')}"):
            yield event
        if not agent.conv.board.active.steps:
            message = "strict mode: the model did not make a plan; try /mode plan, or rephrase the task"
            yield ErrorEvent(kind="no_plan", message=message)
            yield TurnFinished(answer="", reason="error")
            return
        for event in self._set([{"id": s.id, "status": "pending"} for s in agent.conv.board.active.steps if s.status == "in_progress"]):
            yield event
        results: dict[int, str] = {}
        replans = 0
        tasks: dict[int, asyncio.Task[Outcome]] = {}
        try:
            while True:
                plan = agent.conv.board.active
                if plan.is_empty:
                    break
                for step in self._ready(plan, set(tasks))[: self.max_parallel - len(tasks)]:
                    for event in self._set([{"id": step.id, "status": "in_progress"}]):
                        yield event
                    yield SubagentEvent(step_id=step.id, phase="started", detail=step.description)
                    tasks[step.id] = asyncio.create_task(self._run_step(agent.conv.board.active, step, results, task))
                if not tasks:
                    break  # nothing running and nothing ready: done, or blocked behind failed steps
                getter = asyncio.create_task(self.queue.get())
                done, _ = await asyncio.wait({getter, *tasks.values()}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    yield getter.result()
                else:
                    getter.cancel()
                while not self.queue.empty():
                    yield self.queue.get_nowait()
                for step_id, job in list(tasks.items()):
                    if not job.done():
                        continue
                    del tasks[step_id]
                    outcome = job.result()
                    if outcome.result is not None:
                        results[step_id] = outcome.result
                        yield SubagentEvent(step_id=step_id, phase="finished", detail=summary(outcome.result))
                        for event in self._set([{"id": step_id, "status": "completed", "result": summary(outcome.result)}]):
                            yield event
                        continue
                    assert outcome.error is not None
                    yield SubagentEvent(step_id=step_id, phase="failed", detail=outcome.error.message)
                    for event in self._set([{"id": step_id, "status": "pending"}]):
                        yield event
                    if replans >= self.max_replans:
                        for job in tasks.values():
                            job.cancel()
                        tasks.clear()
                        async for event in self._fail(results, step_id, outcome.error.message):
                            yield event
                        return
                    replans += 1
                    for job in tasks.values():
                        job.cancel()
                    tasks.clear()
                    async for event in self._replan(task, results, step_id, outcome.error.message):
                        yield event
                    break
        finally:
            for job in tasks.values():
                job.cancel()
        async for event in self._synthesize(task, results):
            yield event

    async def _replan(self, task: str, results: dict[int, str], failed: int, why: str) -> AsyncIterator[Event]:
        """Ask for a revised plan of the remaining work; completed steps are kept as they are."""
        plan = self.agent.conv.board.active
        kept = [s for s in plan.steps if s.status == "completed"]
        lines = [f"- done: {s.description} → {results.get(s.id, s.result)}" for s in kept]
        failed_step = plan.step(failed)
        instruction = (
            f"Task: {task}\n\nWhat succeeded:\n" + ("\n".join(lines) or "- nothing yet") +
            f"\n\nWhat failed: {failed_step.description if failed_step else failed} ({why})\n\n" + load("strict_replan.md")
        )
        scratch = Conversation()  # the model's proposal lands here, never on the live plan
        async for event in self._plan_with_model(scratch, instruction):
            if event.type != "plan_updated":
                yield event
        proposal = scratch.board.active.steps or scratch.board.latest.steps
        if not proposal:
            return
        offset = len(kept)
        steps = [{"description": s.description, "status": "completed", "result": s.result} for s in kept]
        steps += [{"description": s.description, "depends_on": [d + offset for d in s.depends_on]} for s in proposal]
        remapped = {new_id: results[s.id] for new_id, s in enumerate(kept, start=1) if s.id in results}
        results.clear()
        results.update(remapped)
        update = PlanUpdate.model_validate({"steps": steps, "explanation": f"replanned after step {failed} failed"})
        result = apply_update(self.agent.ctx, update, source="orchestrator")
        for event in result.events:
            yield event

    async def _fail(self, results: dict[int, str], step_id: int, why: str) -> AsyncIterator[Event]:
        plan = self.agent.conv.board.active
        done = [f"{s.id}" for s in plan.steps if s.status == "completed"]
        message = (
            f"strict mode gave up after {self.max_replans} replans: step {step_id} failed ({why}); "
            f"completed steps: {', '.join(done) or 'none'}"
        )
        yield ErrorEvent(kind="strict_failed", message=message)
        yield TurnFinished(answer="", reason="error")

    async def _synthesize(self, task: str, results: dict[int, str]) -> AsyncIterator[Event]:
        plan = self.agent.conv.board.latest
        parts = "\n\n".join(f"Step {s.id} ({s.description}):\n{results.get(s.id, s.result)}" for s in plan.steps if s.status == "completed")
        messages = [
            {"role": "system", "content": load("synthesis.md")},
            {"role": "user", "content": f"Task: {task}\n\nStep results:\n\n{parts}"},
        ]
        answer = ""
        try:
            async for item in self.agent.llm.stream(messages):
                if isinstance(item, Completion):
                    answer = item.content
                else:
                    yield item
        except LLMError as err:
            answer = parts  # the step results are the answer when synthesis fails
            yield ErrorEvent(kind=err.kind, message=f"synthesis failed ({err.message}); showing the step results", fatal=False)
        self.agent.conv.add({"role": "assistant", "content": answer})
        yield AssistantMessage(content=answer)
        yield TurnFinished(answer=answer)

