"""#28 point 3 through the Session: a new plan is reviewed once, before it runs; the findings reach the model in the
result of the update_plan call that made the plan, and a revised plan is not reviewed again in the same turn.

Model review (`plan_review = "model"`) against what servers do with a JSON-schema request: a clean object, the
object inside a fence or in the reasoning field, an answer that is not JSON, and a 400 for `response_format`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI

from liveplan_tui.agent.session import Session, fixed_approver
from liveplan_tui.config import load_settings, resolve_endpoint

VAGUE: dict[str, Any] = {
    "goal": "Fix the login bug",
    "steps": [{"description": "Fix it", "status": "in_progress"}, {"description": "Do the rest"}],
}
SOUND = {
    "goal": "Fix the login bug in auth.py",
    "steps": [
        {"description": "Fix the token check in auth.py", "status": "in_progress"},
        {"description": "Run the auth tests"},
    ],
}
REVIEW = "You review a plan before it runs"


def call(plan: dict[str, Any]) -> dict[str, Any]:
    return {"when": "tools", "tool_calls": [{"name": "update_plan", "arguments": plan}]}


def turn(fake: FakeOpenAI, workspace: Path, review: str, task: str = "Fix the login bug") -> list[Any]:
    settings = load_settings(
        base_url=fake.base_url, model="m", mode="plan", workspace=str(workspace), router_llm=False,
        plan_review=review,
    )  # fmt: skip
    session = Session(settings, resolve_endpoint(settings), approver=fixed_approver(True))

    async def go() -> list[Any]:
        return [e async for e in session.submit(task)]

    return asyncio.run(go())


def critiques(events: list[Any]) -> list[Any]:
    return [e for e in events if e.type == "plan_critique"]


def plan_results(events: list[Any]) -> list[str]:
    return [e.result for e in events if e.type == "tool_call_finished" and e.name == "update_plan"]


def test_lint_findings_reach_the_model_once_and_the_revision_is_not_reviewed_again(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script.extend([call(VAGUE), call({**VAGUE, "goal": "Fix the login bug, revised"}), {"text": "Done."}])
    events = turn(fake, tmp_path, "lint")
    (critique,) = critiques(events)
    assert critique.by == "lint" and critique.verdict == "revise"
    assert any("“Fix it” is vague" in f for f in critique.findings)
    assert any("no step runs" in f for f in critique.findings)
    first, second = plan_results(events)
    assert "Review of this plan before it runs (lint):" in first and "Review of this plan" not in second
    told = [m for m in fake.model_requests()[1]["messages"] if m["role"] == "tool"]
    assert "is vague" in told[-1]["content"]


def test_a_sound_plan_is_reviewed_and_nothing_is_told(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([call(SOUND), {"text": "Done."}])
    events = turn(fake, tmp_path, "lint")
    (critique,) = critiques(events)
    assert critique.verdict == "ok" and critique.findings == [] and "Review" not in plan_results(events)[0]


def test_off_reviews_nothing(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([call(VAGUE), {"text": "Done."}])
    events = turn(fake, tmp_path, "off")
    assert critiques(events) == [] and "Review" not in plan_results(events)[0]


def test_a_step_update_is_not_a_new_plan(fake: FakeOpenAI, tmp_path: Path) -> None:
    update = {"updates": [{"id": 1, "status": "completed", "result": "fixed"}, {"id": 2, "status": "in_progress"}]}
    fake.script.extend([call(SOUND), call(update), {"text": "Done."}])
    assert len(critiques(turn(fake, tmp_path, "lint"))) == 1


MODEL_REPLIES: dict[str, dict[str, Any]] = {
    "clean": {"json": {"verdict": "revise", "issues": [{"step": 2, "problem": "name the test file"}]}},
    "fenced": {"text": '```json\n{"verdict": "revise", "issues": [{"step": 2, "problem": "name the test file"}]}\n```'},
    "reasoning": {
        "reasoning": '{"verdict": "revise", "issues": [{"step": 2, "problem": "name the test file"}]}',
        "reasoning_field": "reasoning_content",
        "text": "",
    },
}


@pytest.mark.parametrize("shape", sorted(MODEL_REPLIES))
def test_model_review_is_one_fresh_call_that_sees_the_task_plan_and_files(
    fake: FakeOpenAI, tmp_path: Path, shape: str
) -> None:
    (tmp_path / "auth.py").write_text("x = 1\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("")
    fake.script.extend([call(SOUND), {"match": REVIEW, **MODEL_REPLIES[shape]}, {"text": "Done."}])
    events = turn(fake, tmp_path, "model")
    (critique,) = critiques(events)
    assert critique.by == "model" and critique.findings == ["step 2: name the test file"]
    review = next(r for r in fake.model_requests() if REVIEW in json.dumps(r["messages"]))
    assert [m["role"] for m in review["messages"]] == ["system", "user"]  # no conversation
    seen = review["messages"][1]["content"]
    assert "Fix the login bug" in seen and "[PLAN]" in seen and "auth.py" in seen and ".git" not in seen
    assert review["response_format"]["json_schema"]["name"] == "plan_review" and "tools" not in review


@pytest.mark.parametrize(
    "reply",
    [
        {"text": "Looks fine to me!"},
        {"status": 400, "body": {"error": {"message": "response_format json_schema is not supported"}}},
    ],
    ids=["not json", "400"],
)
def test_a_model_review_that_cannot_be_read_leaves_lints_findings(
    fake: FakeOpenAI, tmp_path: Path, reply: dict[str, Any]
) -> None:
    close = call({"updates": [{"id": 1, "status": "completed", "result": "x"}, {"id": 2, "status": "cancelled"}]})
    fake.script.extend([call(VAGUE), {"match": REVIEW, **reply}, close, {"text": "Done."}])
    events = turn(fake, tmp_path, "model")
    (critique,) = critiques(events)
    assert critique.by == "lint" and any("is vague" in f for f in critique.findings)
    assert events[-1].type == "turn_finished" and events[-1].reason == "done", events[-3:]
