"""Events are a contract: one naming rule, a pinned `exec --json` schema, and every front-end handles every kind."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from tui_helpers import make_app

from liveplan_tui.events import (
    EVENT_TYPES,
    AssistantMessage,
    Condensed,
    Error,
    Event,
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
    event_adapter,
    tag_of,
)
from liveplan_tui.llm.base import RETRYABLE_KINDS, ErrorKind, LLMError
from liveplan_tui.plan import LivePlan, NewStep, PlanUpdate, apply
from liveplan_tui.plan.model import NewSubStep
from liveplan_tui.present import describe
from liveplan_tui.repl import Repl

GOLDEN = Path(__file__).parent / "golden" / "exec_events.schema.json"
PLAN = apply(
    LivePlan(),
    PlanUpdate(
        goal="g",
        steps=[
            NewStep(description="a", status="in_progress"),
            NewStep(description="b", substeps=[NewSubStep(description="b one")]),
        ],
    ),
)

SAMPLES: list[Event] = [
    TextDelta(text="hi"),
    StreamReset(reason="cut"),
    AssistantMessage(content="answer"),
    ToolCallStarted(call_id="1", name="read_file", arguments="{}", summary="read_file x"),
    ToolCallFinished(call_id="1", name="read_file", result="error: nope", is_error=True),
    PlanUpdated(old=LivePlan(), new=PLAN),
    PlanProposed(plan=PLAN),
    PlanReviewed(verdict="approve", changes=['reworded step 2: "b" -> "c"']),
    PlanCritique(by="lint", verdict="revise", findings=["step 2: “Fix it” is vague: say what is done to what"]),
    Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2),
    Retrying(attempt=1, delay=0.5, reason="429"),
    Route(strategy="plan", level="keyword", reason="several steps"),
    Subagent(step_id=1, phase="started", detail="a"),
    ToolProgress(call_id="c1", name="run_shell", detail="running for 2s"),
    GoalStarted(goal="make it pass", until="pytest -q", max_turns=10, max_calls=100),
    GoalChecked(passed=False, by="until", detail="`pytest -q` failed: 1 failed", turns=1, calls=3),
    GoalFinished(reason="met", why="`pytest -q` exited 0", turns=2, calls=6, tokens=900, done=["a"], left=[]),
    Condensed(replaced_messages=3, tokens_before=900, tokens_after=300, method="summary"),
    Error(kind="server", message="boom", retryable=True),
    Notice(message="the server cut the prompt"),
    TurnFinished(answer="answer"),
]


def pascal(tag: str) -> str:
    return "".join(part.capitalize() for part in tag.split("_"))


def test_every_kind_has_a_sample() -> None:
    assert {type(s) for s in SAMPLES} == set(EVENT_TYPES)


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda c: c.__name__)
def test_class_is_named_by_its_wire_tag(cls: type) -> None:
    assert cls.__name__ == pascal(tag_of(cls))


def test_exec_json_schema_is_pinned() -> None:
    """A change here is a change to a stable contract: add fields and kinds, never rename or remove."""
    schema = event_adapter().json_schema()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    assert schema == json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_every_event_round_trips_through_json(event) -> None:
    assert event_adapter().validate_json(event.model_dump_json()) == event


@pytest.mark.parametrize("verbose", [False, True])
def test_the_text_presenter_handles_every_kind(verbose: bool) -> None:
    for event in SAMPLES:
        line = describe(event, verbose=verbose)
        assert line is None or isinstance(line, str)


def test_the_repl_renders_every_kind() -> None:
    out = io.StringIO()
    repl = Repl(None, None, out)
    for event in SAMPLES:
        repl.render(event)
    assert "boom" in out.getvalue() and "┌ plan: g" in out.getvalue()


async def test_the_tui_handles_every_kind(fake) -> None:
    app = make_app(fake.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        for event in SAMPLES:
            await app.handle_event(event)
        await pilot.pause()
        assert app.plan_panel.plan == PLAN


def test_error_kinds_are_one_closed_set_with_retryability() -> None:
    from typing import get_args

    kinds = set(get_args(ErrorKind))
    assert RETRYABLE_KINDS <= kinds
    assert set(get_args(Error.model_fields["kind"].annotation)) == kinds
    assert LLMError("server", "x").retryable and not LLMError("auth", "x").retryable
    with pytest.raises(ValueError):
        Error(kind="not-a-kind", message="x")  # type: ignore[arg-type]
