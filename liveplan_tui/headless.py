"""`liveplan exec`: one task, run to completion without a human.

Text mode prints only the final answer on stdout (progress goes to stderr when
it is a terminal); `--json` prints every event as one JSON line, ending with
the `turn_finished` event that holds the answer.
"""

from __future__ import annotations

import sys
from typing import TextIO

from .agent.agent import Agent
from .events import Event
from .textsafe import terminal_safe

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_MAX_ITERATIONS = 3


def _progress_line(event: Event) -> str | None:
    match event.type:
        case "route":
            return f"route: {event.strategy} ({event.level}: {event.reason})"
        case "tool_call_started":
            return f"→ {event.name}"
        case "tool_call_finished" if event.is_error:
            return f"  {event.result.splitlines()[0]}"
        case "plan_updated":
            plan = event.new
            current = next((s for s in plan.steps if s.status == "in_progress"), None)
            now = f" · now: {current.description}" if current else ""
            done = " · finished" if event.archived else ""
            return f"plan {plan.progress()}{now}{done}"
        case "retrying":
            return f"retrying in {event.delay:.1f}s: {event.reason}"
        case "condensed":
            return f"condensed {event.replaced_messages} messages, {event.tokens_before} → {event.tokens_after} tokens"
    return None


async def run_exec(agent: Agent, task: str, *, json_mode: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    show_progress = not json_mode and err.isatty()
    code = EXIT_FAILED
    async for event in agent.run_turn(task):
        if json_mode:
            out.write(event.model_dump_json() + "\n")
            out.flush()
        elif show_progress and (line := _progress_line(event)):
            err.write(terminal_safe(line) + "\n")
        if event.type == "error":
            err.write(f"liveplan: error: {terminal_safe(event.message)}\n")
        elif event.type == "turn_finished":
            if event.reason == "done":
                if not json_mode:
                    out.write(terminal_safe(event.answer.rstrip("\n")) + "\n")
                code = EXIT_OK
            elif event.reason == "max_iterations":
                code = EXIT_MAX_ITERATIONS
    out.flush()
    return code
