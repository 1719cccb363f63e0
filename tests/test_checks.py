"""Steps that check their work: verified, failed and unverified checks, and turns that don't end with work open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI

from liveplan_tui.plan import LivePlan, NewStep, PlanBoard, PlanUpdate, apply
from liveplan_tui.present import plan_lines


def tc(name: str, **arguments) -> dict:
    return {"when": "tools", "tool_calls": [{"name": name, "arguments": arguments}]}


def exec_json(fake: FakeOpenAI, ws: Path, *flags: str) -> tuple[int, list[dict], str]:
    proc = run_cli(
        "exec",
        "--json",
        "--mode",
        "plan",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "--workspace",
        str(ws),
        *flags,
        "fix it",
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()], proc.stderr


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "check_calc.py").write_text("import calc\nassert calc.add(2, 3) == 5, 'add is wrong'\nprint('ok')\n")
    return tmp_path


def plan_with_check() -> dict:
    return tc(
        "update_plan",
        goal="Fix add",
        steps=[
            {"description": "Fix add", "status": "in_progress", "check": "python3 check_calc.py"},
            {"description": "Report"},
        ],
    )


def last_plan(events: list[dict]) -> dict:
    return [e for e in events if e["type"] == "plan_updated"][-1]["new"]


@pytest.mark.slow
def test_a_passing_check_completes_the_step_as_verified(fake, ws: Path) -> None:
    fake.script.extend(
        [
            plan_with_check(),
            tc("edit_file", path="calc.py", old="a - b", new="a + b"),
            tc(
                "update_plan",
                updates=[{"id": 1, "status": "completed", "result": "fixed"}, {"id": 2, "status": "in_progress"}],
            ),
            tc("update_plan", updates=[{"id": 2, "status": "completed"}]),
            {"text": "Fixed."},
        ]
    )
    code, events, stderr = exec_json(fake, ws, "--yes")
    assert code == 0, stderr
    step = last_plan(events)["steps"][0]
    assert step["status"] == "completed" and step["verified"] == "passed"
    assert "check passed: python3 check_calc.py" in step["result"]


@pytest.mark.slow
def test_a_failing_check_keeps_the_step_open_and_shows_the_output(fake, ws: Path) -> None:
    fake.script.extend(
        [
            plan_with_check(),
            tc("update_plan", updates=[{"id": 1, "status": "completed"}, {"id": 2, "status": "in_progress"}]),
            tc("edit_file", path="calc.py", old="a - b", new="a + b"),
            tc("update_plan", updates=[{"id": 1, "status": "completed"}, {"id": 2, "status": "in_progress"}]),
            tc("update_plan", updates=[{"id": 2, "status": "completed"}]),
            {"text": "Fixed after the check failed once."},
        ]
    )
    code, events, stderr = exec_json(fake, ws, "--yes")
    assert code == 0, stderr
    results = [e for e in events if e["type"] == "tool_call_finished" and e["name"] == "update_plan"]
    failed = results[1]
    assert failed["is_error"] and "check of step 1 failed" in failed["result"] and "add is wrong" in failed["result"]
    shown = [e for e in events if e["type"] == "plan_updated"]
    assert any(s["verified"] == "failed" and s["status"] == "in_progress" for e in shown for s in e["new"]["steps"])
    assert last_plan(events)["steps"][0]["verified"] == "passed"


@pytest.mark.slow
def test_a_check_that_cannot_be_approved_completes_as_unverified(fake, ws: Path) -> None:
    fake.script.extend(
        [
            plan_with_check(),
            tc("update_plan", updates=[{"id": 1, "status": "completed"}, {"id": 2, "status": "in_progress"}]),
            tc("update_plan", updates=[{"id": 2, "status": "completed"}]),
            {"text": "Done, unchecked."},
        ]
    )
    code, events, stderr = exec_json(fake, ws)  # no --yes: exec can't ask
    assert code == 0, stderr
    step = last_plan(events)["steps"][0]
    assert step["status"] == "completed" and step["verified"] == "unverified" and "unverified" in step["result"]


@pytest.mark.slow
def test_a_final_answer_with_work_open_gets_one_question_then_exits_1(fake, ws: Path) -> None:
    fake.script.extend([plan_with_check(), {"text": "I think it's done."}, {"text": "Still done."}])
    code, events, stderr = exec_json(fake, ws, "--yes")
    assert code == 1
    asked = fake.model_requests()[-1]["messages"][-1]["content"]
    assert "Step 1 (Fix add) is still in progress" in asked
    assert "step 1 (Fix add) still in progress" in stderr.strip().splitlines()[-1]
    assert events[-1]["answer"] == "Still done."


@pytest.mark.slow
def test_the_question_lets_the_model_finish_the_step(fake, ws: Path) -> None:
    fake.script.extend(
        [
            tc("update_plan", goal="g", steps=[{"description": "Only step", "status": "in_progress"}]),
            {"text": "Answer."},
            tc("update_plan", updates=[{"id": 1, "status": "completed"}]),
            {"text": "Answer, with the plan finished."},
        ]
    )
    code, events, stderr = exec_json(fake, ws)
    assert code == 0, stderr
    assert events[-1]["answer"] == "Answer, with the plan finished."


def test_badges_are_shown_in_the_repl_and_export() -> None:
    plan = apply(
        LivePlan(), PlanUpdate(goal="g", steps=[NewStep(description="a", status="completed"), NewStep(description="b")])
    )
    board = PlanBoard(active=plan).with_verdicts({1: ("passed", "check passed: true")})
    lines = "\n".join(plan_lines(board.latest, False))
    assert "1. a [verified] → check passed: true" in lines
    unverified = PlanBoard(active=plan).with_verdicts({1: ("unverified", "unverified: not approved")})
    assert "[unverified]" in "\n".join(plan_lines(unverified.latest, False))


def test_check_is_part_of_the_arguments() -> None:
    update = PlanUpdate.model_validate({"steps": [{"description": "x", "check": "pytest -q"}]})
    plan = apply(LivePlan(), update)
    assert plan.steps[0].check == "pytest -q"
    patched = apply(plan, PlanUpdate.model_validate({"updates": [{"id": 1, "check": "make test"}]}))
    assert patched.steps[0].check == "make test"
    assert "[PLAN]" in plan.render() and "pytest" not in plan.render()  # the [PLAN] format is unchanged
