"""Plan approval gates everything: with `plan_approval = "ask"` no tool and no step check runs before the plan is
approved, however the plan arrives (steps already completed, checks attached, commands beside it in the same reply)
and however the user answers (`--continue` with a reply instead of `--approve-plan`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from attack import call, calls, exec_attack, make_workspace  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402

from liveplan_tui.agent.reviews import PlanReview  # noqa: E402
from liveplan_tui.agent.session import Session  # noqa: E402
from liveplan_tui.config import load_settings, resolve_endpoint  # noqa: E402


def plan_args(shape: str) -> dict:
    """New plans of several shapes, each with a check that would leave a mark if it ran."""
    check = "touch check-ran.txt"
    if shape == "completed-with-check":
        steps = [
            {"description": "Set up", "status": "completed", "result": "done", "check": check},
            {"description": "Then", "status": "in_progress"},
        ]
    elif shape == "all-completed":
        steps = [{"description": "Everything", "status": "completed", "result": "done", "check": check}]
    else:  # checks attached to steps still to do
        steps = [{"description": "First", "status": "in_progress", "check": check}, {"description": "Second"}]
    return {"goal": f"Goal ({shape})", "steps": steps}


SHAPES = ["completed-with-check", "all-completed", "checks-attached"]
SIDE = ("run_shell", {"command": "touch side-effect.txt"})


@pytest.mark.slow
@pytest.mark.parametrize(
    ("shape", "order"),
    [
        ("completed-with-check", "command-first"),
        ("all-completed", "plan-first"),
        ("checks-attached", "plan-alone"),
        ("checks-attached", "command-first"),
        ("completed-with-check", "plan-alone"),
    ],
)
def test_exec_runs_nothing_before_the_plan_is_approved(
    fake: FakeOpenAI, tmp_path: Path, shape: str, order: str
) -> None:
    ws = make_workspace(tmp_path / "ws")
    plan = ("update_plan", plan_args(shape))
    reply = {"plan-first": calls(plan, SIDE), "command-first": calls(SIDE, plan), "plan-alone": calls(plan)}[order]
    fake.script.append(reply)
    proc = exec_attack(fake, ws, "--yes", "--plan-approval", "ask", "--mode", "plan")
    assert proc.returncode == 4, proc.stderr
    assert not (ws / "check-ran.txt").exists() and not (ws / "side-effect.txt").exists()


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES)
def test_a_reply_instead_of_approval_runs_nothing_either(fake: FakeOpenAI, tmp_path: Path, shape: str) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.append(call("update_plan", **plan_args("checks-attached")))
    assert exec_attack(fake, ws, "--yes", "--plan-approval", "ask", "--mode", "plan").returncode == 4
    fake.script.append(calls(SIDE, ("update_plan", plan_args(shape) | {"goal": "Another goal"})))
    proc = exec_attack(
        fake, ws, "--yes", "--plan-approval", "ask", "--mode", "plan", "--continue", task="yes but faster"
    )
    assert proc.returncode == 4, proc.stderr
    assert not (ws / "check-ran.txt").exists() and not (ws / "side-effect.txt").exists()
    told = (
        [m["content"] for m in fake.model_requests()[-1]["messages"] if m["role"] == "tool"]
        if len(fake.model_requests()) > 2
        else []
    )
    assert all("touch" not in t for t in told)


async def test_the_held_call_is_named_and_runs_once_the_plan_is_approved(fake: FakeOpenAI, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.extend(
        [
            calls(SIDE, ("update_plan", plan_args("checks-attached"))),
            calls(
                SIDE,
                (
                    "update_plan",
                    {"updates": [{"id": 1, "status": "completed", "result": "ok"}, {"id": 2, "status": "in_progress"}]},
                ),
            ),
            call("update_plan", updates=[{"id": 2, "status": "completed", "result": "ok"}]),
            {"text": "All done."},
        ]
    )
    reviewed: list[str] = []

    async def approve(plan) -> PlanReview:
        reviewed.append(plan.goal)
        assert not (ws / "side-effect.txt").exists() and not (ws / "check-ran.txt").exists()
        return PlanReview("approve")

    settings = load_settings(
        base_url=fake.base_url, model="m", mode="plan", plan_approval="ask", workspace=str(ws), approval="never-ask"
    )
    agent = Session(settings, resolve_endpoint(settings), plan_reviewer=approve)
    events = [e async for e in agent.submit("go")]
    await agent.close()
    results = [e.result for e in events if e.type == "tool_call_finished" and e.name == "run_shell"]
    assert "approval" in results[0] and "not run" in results[0]
    assert (ws / "side-effect.txt").exists() and (ws / "check-ran.txt").exists()  # after approval, they ran
    assert reviewed == ["Goal (checks-attached)"]


async def test_checks_of_a_completed_step_in_a_new_plan_are_not_run_before_review(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.extend([call("update_plan", **plan_args("completed-with-check")), {"text": "waiting"}])
    seen: list[bool] = []

    async def reject(plan) -> PlanReview:
        seen.append((ws / "check-ran.txt").exists())
        return PlanReview("reject", reason="no")

    settings = load_settings(
        base_url=fake.base_url, model="m", mode="plan", plan_approval="ask", workspace=str(ws), approval="never-ask"
    )
    agent = Session(settings, resolve_endpoint(settings), plan_reviewer=reject)
    events = [json.loads(e.model_dump_json()) async for e in agent.submit("go")]
    await agent.close()
    assert seen == [False] and not (ws / "check-ran.txt").exists()
    assert any(e["type"] == "plan_reviewed" for e in events)
