"""One text presenter for the line front-ends (REPL and `exec`): an event as a line, or nothing.

Both read the same words, so a new event kind is described once; the match ends
in `assert_never`, so the type checker names any kind left out.
"""

from __future__ import annotations

from typing import assert_never

from .events import (
    AnyEvent,
    AssistantMessage,
    Condensed,
    Error,
    GoalChecked,
    GoalFinished,
    GoalStarted,
    Notice,
    PlanCritique,
    PlanProposed,
    PlanReviewed,
    PlanUpdated,
    Retrying,
    Route,
    StreamReset,
    Subagent,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolProgress,
    TurnFinished,
    Usage,
)
from .plan import LivePlan, glyph


def plan_lines(plan: LivePlan, finished: bool) -> list[str]:
    head = f"┌ plan: {plan.goal or '(no goal)'} ({plan.progress()}{', finished' if finished else ''})"
    rows = [head]
    for depth, s in plan.rows():
        result = f" → {s.result}" if s.result else ""
        badge = f" [{s.badge}]" if s.badge else ""
        record = f" ({s.shown_evidence})" if s.shown_evidence else ""
        number = f"{s.key}." if not depth else s.key
        rows.append(f"│ {'  ' * depth}{glyph(s.status)} {number} {s.description}{badge}{record}{result}")
    return rows if plan.steps or plan.goal else ["┌ plan cleared"]


def progress_line(event: PlanUpdated) -> str:
    plan = event.new
    now = f" · now: {plan.now}" if plan.current else ""
    return f"plan {plan.progress()}{now}{' · finished' if event.archived else ''}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def goal_status(event: GoalStarted | GoalChecked | GoalFinished, shown: str) -> str:
    """The status bar's goal: what it is and the budget used, kept up to date by the goal's events."""
    match event:
        case GoalStarted():
            return f"goal: 0/{event.max_turns} turns"
        case GoalChecked():
            limit = shown.partition("/")[2].split(" ", 1)[0] or "?"
            return f"goal: {event.turns}/{limit} turns · {event.calls} calls"
        case GoalFinished():
            return f"goal {event.reason}"
    return shown


def goal_summary(event: GoalFinished) -> str:
    """The one summary a goal loop ends with: why it stopped, what it spent, what is done and what is left."""
    spent = f"{plural(event.turns, 'turn')}, {plural(event.calls, 'model call')}, {plural(event.tokens, 'token')}"
    done = f"done: {'; '.join(event.done)}" if event.done else "done: nothing recorded"
    left = f"left: {'; '.join(event.left)}" if event.left else "left: nothing"
    return f"goal {event.reason}: {event.why} · {spent} · {done} · {left}"


def critique_text(event: PlanCritique) -> str:
    """`plan review (lint): 2 findings` and one line each; the chat, the REPL and exec's progress share it."""
    if not event.findings:
        return f"plan review ({event.by}): no findings"
    head = f"plan review ({event.by}): {plural(len(event.findings), 'finding')}"
    return "\n".join([head, *(f"  - {finding}" for finding in event.findings)])


def describe(event: AnyEvent, *, verbose: bool = False) -> str | None:
    """A short line for `event`, or None when a line front-end shows nothing for it.

    `verbose` (the REPL) adds what `exec`'s progress leaves out: tool results and subagent steps.
    """
    match event:
        case TextDelta() | AssistantMessage() | Usage() | TurnFinished():
            return None
        case StreamReset():
            return "(the stream was cut; retrying)"
        case Route():
            return f"route: {event.strategy} ({event.level}: {event.reason})"
        case ToolCallStarted():
            return f"⚙ {event.name}" if verbose else f"→ {event.name}"
        case ToolCallFinished():
            return f"  {event.result.splitlines()[0][:200]}" if event.is_error and event.result else None
        case PlanUpdated():
            return "\n".join(plan_lines(event.new, event.archived)) if verbose else progress_line(event)
        case PlanProposed():
            return "\n".join([*plan_lines(event.plan, False), "└ plan proposed: waiting for your approval"])
        case PlanCritique():
            return critique_text(event)
        case PlanReviewed():
            if event.verdict == "reject":
                return f"plan rejected{': ' + event.reason if event.reason else ''}"
            edits = len(event.changes)
            return f"plan approved{f' with {edits} change' + ('s' if edits != 1 else '') if edits else ''}"
        case Retrying():
            return f"retrying in {event.delay:.1f}s: {event.reason}"
        case Condensed():
            return (
                f"condensed {event.replaced_messages} messages, {event.tokens_before:,} → {event.tokens_after:,} tokens"
            )
        case ToolProgress():
            return f"{event.name}: {event.detail}" if verbose else None
        case GoalStarted():
            return f"goal: {event.goal}" + (f" (until `{event.until}` exits 0)" if event.until else "")
        case GoalChecked():
            verdict = "met" if event.passed else "not met"
            return f"goal {verdict} ({event.by})" + (f": {event.detail}" if event.detail and not event.passed else "")
        case GoalFinished():
            return goal_summary(event)
        case Subagent():
            return f"step {event.step_id}: {event.phase} {event.detail}".rstrip() if verbose else None
        case Error():
            return f"✘ {event.message}"
        case Notice():
            return f"note: {event.message}"
        case _:
            assert_never(event)


def start_notices(approval: str, key_withheld: bool) -> list[str]:
    """What the user should know before the first message."""
    notices = []
    if approval == "never-ask":
        notices.append("Approval is never-ask: writes and shell commands run without asking.")
    if key_withheld:
        notices.append("OPENAI_API_KEY is not sent to this endpoint; pass --api-key if it needs one.")
    return notices
