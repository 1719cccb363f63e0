"""`liveplan exec`: one task, run to completion without a human.

Text mode prints only the final answer on stdout (progress goes to stderr when
it is a terminal); `--json` prints every event as one JSON line, ending with
the `turn_finished` event that holds the answer.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from .agent.goals import Budget, pursue
from .agent.session import Session
from .choices import ConfigError
from .events import Event
from .present import describe, goal_summary
from .textsafe import terminal_safe

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_MAX_ITERATIONS = 3
EXIT_AWAITING_APPROVAL = 4
EXIT_GOAL = {"met": 0, "budget": 5, "stuck": 6, "failed": 1}
AWAITING = (
    'liveplan: the plan awaits your approval: run it with `liveplan exec --continue --approve-plan "go"`, '
    'or reply with `liveplan exec --continue "what to change"`'
)


def _open_step(agent: Session) -> str | None:
    """The step a finished turn left in progress, named, or None."""
    current = agent.view.board.active.current
    return f"step {current.id} ({current.description})" if current is not None else None


async def run_exec(
    agent: Session, task: str, *, json_mode: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Exit 0 only for a non-empty answer with no step left in progress; otherwise one line says why."""
    code = EXIT_FAILED
    async for event in agent.submit(task):
        _show(event, json_mode, out, err)
        if event.type == "turn_finished":
            code = _finished(agent, event.reason, event.answer, json_mode, out, err)
    out.flush()
    return code


def _show(event: Event, json_mode: bool, out: TextIO, err: TextIO) -> None:
    """One event as exec shows it: a JSON line with --json, else progress on a terminal's stderr; errors always,
    and notices without --json, as one `liveplan:` line on stderr."""
    if json_mode:
        out.write(event.model_dump_json() + "\n")
        out.flush()
    elif err.isatty() and event.type not in ("error", "notice") and (line := describe(event)):
        err.write(terminal_safe(line) + "\n")
    if event.type == "error":
        err.write(f"liveplan: error: {terminal_safe(event.message)}\n")
    elif event.type == "notice" and not json_mode:
        err.write(f"liveplan: note: {terminal_safe(event.message)}\n")


def _finished(agent: Session, reason: str, answer: str, json_mode: bool, out: TextIO, err: TextIO) -> int:
    if reason == "awaiting_approval":
        if not json_mode:
            out.write(terminal_safe(agent.view.board.active.render()) + "\n")
        err.write(AWAITING + ("" if agent.view.saving else " (sessions are not saved: set save_sessions)") + "\n")
        return EXIT_AWAITING_APPROVAL
    if reason == "max_iterations":
        return EXIT_MAX_ITERATIONS
    if reason != "done":
        return EXIT_FAILED
    if not json_mode and answer.strip():
        out.write(terminal_safe(answer.rstrip("\n")) + "\n")
    if not answer.strip():
        err.write("liveplan: error: the model finished with an empty answer\n")
        return EXIT_FAILED
    if (step := _open_step(agent)) is not None:
        err.write(f"liveplan: error: the turn ended with {step} still in progress\n")
        return EXIT_FAILED
    return EXIT_OK


async def run_goal(
    agent: Session, goal: str, until: str, budget: Budget, *, json_mode: bool, out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:  # fmt: skip
    """`exec --goal`: turns until the goal is met (0), the budget runs out (5), the work is stuck (6), or it fails
    (1); one summary line at the end (stdout), or the `goal_*` events with --json."""
    code = EXIT_FAILED
    async for event in pursue(agent, goal, until, budget):
        _show(event, json_mode, out, err)
        if event.type == "goal_finished":
            code = EXIT_GOAL[event.reason]
            if not json_mode:
                out.write(terminal_safe(goal_summary(event)) + "\n")
    out.flush()
    return code


def goal_of(args: Any) -> tuple[str, str, Budget] | None:
    """(goal, until, budget) from `exec`'s flags, or None without --goal; a ConfigError (exit 2, before any model
    call) when they cannot run unattended or make no sense."""
    if not args.goal:
        return None
    if args.task:
        raise ConfigError("give either TASK or --goal TEXT, not both")
    if args.until and not args.yes:
        raise ConfigError("--until runs a shell command, which exec can only do with --yes")
    limits = {"--max-turns": args.max_turns, "--max-calls": args.max_calls, "--max-tokens": args.max_tokens}
    for flag, value in [*limits.items(), ("--max-minutes", args.max_minutes)]:
        if value is not None and value <= 0:
            raise ConfigError(f"{flag} must be positive, got {value}")
    budget = Budget(args.max_turns, args.max_calls, args.max_tokens, args.max_minutes)
    return args.goal.strip(), (args.until or "").strip(), budget
