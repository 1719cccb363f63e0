"""Secrets stay out of what is shown and stored, not only out of tool results.

A model that read `.env` (with the user's approval) may repeat a value in its answer, a plan step, or a notice; a
hook or an MCP server may print one on stderr. Every event that leaves a Session, every message and plan the store
keeps, and what the watch page serves are masked here, the same way tool output is (`redact`).
"""

from __future__ import annotations

import json
from typing import Any

from .. import jsonsafe
from ..events import (
    AssistantMessage,
    Event,
    Notice,
    PlanUpdated,
    Route,
    Subagent,
    TextDelta,
    ToolCallStarted,
    ToolProgress,
    TurnFinished,
)
from ..plan import LivePlan, PlanBoard, Step
from ..redact import redact


def _mask_step(s: Step, secrets: tuple[str, ...]) -> Step:
    return s.model_copy(
        update={
            "description": redact(s.description, secrets),
            "result": redact(s.result, secrets),
            "check": redact(s.check, secrets),
            "evidence": tuple(e.model_copy(update={"what": redact(e.what, secrets)}) for e in s.evidence),
            "substeps": tuple(_mask_step(c, secrets) for c in s.substeps),
        }
    )


def mask_plan(plan: LivePlan, secrets: tuple[str, ...]) -> LivePlan:
    steps = tuple(_mask_step(s, secrets) for s in plan.steps)
    return plan.model_copy(
        update={"goal": redact(plan.goal, secrets), "notes": redact(plan.notes, secrets), "steps": steps}
    )


def mask_board(board: PlanBoard, secrets: tuple[str, ...]) -> PlanBoard:
    return board.model_copy(
        update={
            "active": mask_plan(board.active, secrets),
            "archived": tuple(mask_plan(p, secrets) for p in board.archived),
        }
    )


def mask_event(event: Event, secrets: tuple[str, ...]) -> Event:
    """The event as a front-end may show it (tool results and errors are masked where they are made)."""
    match event:
        case TextDelta():
            return event.model_copy(update={"text": redact(event.text, secrets)})
        case AssistantMessage():
            return event.model_copy(update={"content": redact(event.content, secrets)})
        case Notice():
            return event.model_copy(update={"message": redact(event.message, secrets)})
        case Route():
            return event.model_copy(update={"reason": redact(event.reason, secrets)})
        case TurnFinished():
            return event.model_copy(update={"answer": redact(event.answer, secrets)})
        case PlanUpdated():
            return event.model_copy(update={"old": mask_plan(event.old, secrets), "new": mask_plan(event.new, secrets)})
        case ToolCallStarted():
            masked = {"arguments": _mask_arguments(event.arguments, secrets), "summary": redact(event.summary, secrets)}
            return event.model_copy(update=masked)
        case ToolProgress() | Subagent():
            return event.model_copy(update={"detail": redact(event.detail, secrets)})
    return event


def _mask_json(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [_mask_json(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _mask_json(v, secrets) for k, v in value.items()}
    return value


def _mask_arguments(arguments: Any, secrets: tuple[str, ...]) -> Any:
    """Tool-call arguments masked value by value, so they stay the JSON they were."""
    if not isinstance(arguments, str):
        return arguments
    try:
        return json.dumps(_mask_json(jsonsafe.loads(arguments), secrets), ensure_ascii=False)
    except ValueError:
        return redact(arguments, secrets)


def mask_message(message: dict[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
    """A chat message as the store keeps it: its text and its tool calls' arguments masked."""
    masked = dict(message)
    if isinstance(masked.get("content"), str):
        masked["content"] = redact(masked["content"], secrets)
    calls = masked.get("tool_calls")
    if isinstance(calls, list):
        masked["tool_calls"] = [
            {
                **call,
                "function": {
                    **call["function"],
                    "arguments": _mask_arguments(call["function"].get("arguments"), secrets),
                },
            }
            if isinstance(call, dict) and isinstance(call.get("function"), dict)
            else call
            for call in calls
        ]
    return masked
