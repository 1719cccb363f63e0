"""Goals that always end: turn after turn until the goal is met, and then stop.

Met is judged outside the model's prose: the `--until` command exits 0 (run through the approval path like any
command), or, without one, an independent verifier (a fresh model call that sees the goal, the plan with its
evidence and the latest tool results, never the model's claims) says so in a JSON schema. What it finds missing
is the next turn's message. A budget is always in force (turns, model calls, and optionally tokens and minutes),
and two turns in a row with no file change, no new command and no plan progress end the loop as stuck.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

from .. import jsonsafe
from ..events import Event, GoalChecked, GoalFinished, GoalStarted
from ..llm.base import LLMError
from ..llm.json_actions import json_objects
from ..plan import StepStatus
from ..prompts import load
from .session import Session

STUCK_AFTER = 2
RESULTS_SHOWN = 6
VERDICT = {
    "type": "object",
    "properties": {"done": {"type": "boolean"}, "missing": {"type": "string"}},
    "required": ["done", "missing"],
}


@dataclass(frozen=True)
class Budget:
    max_turns: int = 10
    max_calls: int = 100
    max_tokens: int | None = None
    max_minutes: float | None = None


@dataclass
class Spent:
    turns: int = 0
    calls: int = 0
    tokens: int = 0
    started: float = field(default_factory=time.monotonic)
    idle_turns: int = 0  # turns in a row with no work and no plan progress
    commands: set[str] = field(default_factory=set)

    def over(self, budget: Budget) -> str:
        """Which limit is reached, in words, or "" while within the budget."""
        minutes = (time.monotonic() - self.started) / 60
        for reached, what in (
            (self.turns >= budget.max_turns, f"--max-turns {budget.max_turns}"),
            (self.calls >= budget.max_calls, f"--max-calls {budget.max_calls}"),
            (budget.max_tokens is not None and self.tokens >= budget.max_tokens, f"--max-tokens {budget.max_tokens}"),
            (budget.max_minutes is not None and minutes >= budget.max_minutes, f"--max-minutes {budget.max_minutes}"),
        ):
            if reached:
                return f"the budget ran out ({what})"
        return ""


def _command_of(arguments: str) -> str:
    try:
        parsed = jsonsafe.loads(arguments)
    except ValueError:
        return arguments
    return str(parsed.get("command", "")) if isinstance(parsed, dict) else arguments


def _worked(events: list[Event], spent: Spent) -> bool:
    """A file changed, a command not run before, or a step finished during the turn."""
    worked = False
    for event in events:
        if event.type == "tool_call_started" and event.name == "run_shell":
            command = _command_of(event.arguments)
            worked |= command not in spent.commands
            spent.commands.add(command)
        elif event.type == "tool_call_finished" and event.name in ("write_file", "edit_file") and not event.is_error:
            worked = True
        elif event.type == "plan_updated" and (event.archived or event.new.done > event.old.done):
            worked = True
    return worked


async def _until(session: Session, command: str) -> tuple[bool, str]:
    result = await session.call_tool("run_shell", {"command": command})
    if result.denied:
        return False, f"`{command}` was not approved, so it did not run"
    tail = result.text.strip().splitlines()[-3:]
    return not result.is_error, f"`{command}` " + ("exited 0" if not result.is_error else "failed: " + " ".join(tail))


async def _verify(session: Session, goal: str) -> tuple[bool, str]:
    """A fresh model call that sees the goal, the plan with its evidence and the latest tool results."""
    board = session.view.board
    plan = "\n".join(
        f"{s.id}. [{s.status}] {s.description} — evidence: {s.shown_evidence or 'none'}" for s in board.latest.steps
    )
    results = [m["content"][-800:] for m in session.view.record if m.get("role") == "tool"][-RESULTS_SHOWN:]
    text = f"Goal: {goal}\n\nPlan:\n{plan or '(no plan)'}\n\nLatest tool results:\n" + "\n---\n".join(results)
    messages = [{"role": "system", "content": load("goal_verifier.md")}, {"role": "user", "content": text}]
    fmt = {"type": "json_schema", "json_schema": {"name": "verdict", "schema": VERDICT, "strict": True}}
    try:
        completion = await session.llm.complete(messages, response_format=fmt, timeout=120)
    except LLMError as exc:
        return False, f"the verifier gave no verdict ({exc.message})"
    found = json_objects(completion.content or completion.reasoning)
    verdict = found[0] if found else None
    if verdict is None or not isinstance(verdict.get("done"), bool):
        return False, "the verifier gave no readable verdict"
    return verdict.get("done") is True, str(verdict.get("missing") or "")


def _standing(session: Session) -> tuple[list[str], list[str]]:
    steps = session.view.board.latest.steps
    done = [s.description for s in steps if s.status == StepStatus.COMPLETED]
    return done, [s.description for s in steps if s.status not in (StepStatus.COMPLETED, StepStatus.CANCELLED)]


async def pursue(session: Session, goal: str, until: str, budget: Budget) -> AsyncIterator[Event]:
    """Turns toward `goal` until it is met, the budget runs out, the work is stuck, or a turn fails."""
    yield GoalStarted(goal=goal, until=until, **budget.__dict__)
    spent, first_call = Spent(), session.llm.calls
    session.llm.call_limit = first_call + budget.max_calls  # a hard limit, even inside a turn
    try:
        async for event in _turns(session, goal, until, budget, spent, first_call):
            yield event
    finally:
        session.llm.call_limit = None


async def _turns(
    session: Session, goal: str, until: str, budget: Budget, spent: Spent, first_call: int
) -> AsyncIterator[Event]:
    message = goal
    reason: Literal["met", "budget", "stuck", "failed"] = "failed"
    why = ""
    while True:
        events: list[Event] = []
        async for event in session.submit(message):
            events.append(event)
            spent.tokens += event.total_tokens if event.type == "usage" else 0
            yield event
        spent.turns += 1
        finished = next((e for e in reversed(events) if e.type == "turn_finished"), None)
        if finished is None or finished.reason not in ("done",):
            spent.calls = session.llm.calls - first_call
            reason, why = "failed", f"the turn ended with {finished.reason if finished else 'no answer'}"
            if over := spent.over(budget):  # the call limit stopped the turn itself
                reason, why = "budget", over
            break
        passed, detail = await (_until(session, until) if until else _verify(session, goal))
        spent.calls = session.llm.calls - first_call
        by: Literal["until", "verifier"] = "until" if until else "verifier"
        yield GoalChecked(passed=passed, by=by, detail=detail, turns=spent.turns, calls=spent.calls)
        if passed:
            reason, why = "met", detail or "the verifier found nothing missing"
            break
        spent.idle_turns = 0 if _worked(events, spent) else spent.idle_turns + 1
        if spent.idle_turns >= STUCK_AFTER:
            reason, why = "stuck", f"{STUCK_AFTER} turns in a row with no file change, new command or plan progress"
            break
        if over := spent.over(budget):
            reason, why = "budget", over
            break
        message = f"The goal is not met yet: {detail or 'the check did not pass'}. Keep working toward it: {goal}"
    spent.calls = session.llm.calls - first_call
    done, left = _standing(session)
    yield GoalFinished(
        reason=reason, why=why, turns=spent.turns, calls=spent.calls, tokens=spent.tokens, done=done, left=left
    )
