"""#26 points 1 and 2: every step carries its evidence, and a claim that contradicts the record is refused once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI

from liveplan_tui.plan import LivePlan, PlanBoard, Step, StepStatus
from liveplan_tui.plan.evidence import DESPITE_FAILURE, NO_WORK, Evidence, summary
from liveplan_tui.present import plan_lines

STEPS = [{"description": "Change the code", "status": "in_progress"}, {"description": "Report"}]


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def done(step: int, result: str = "done") -> dict[str, Any]:
    return call("update_plan", updates=[{"id": step, "status": "completed", "result": result}])


def run(fake: FakeOpenAI, workspace: Path, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    proc = run_cli(
        "exec", "--json", "--yes", "--mode", "plan", "--base-url", fake.base_url, "--model", "m",
        "--workspace", str(workspace), *extra, "change the code",
    )  # fmt: skip
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


def last_plan(events: list[dict[str, Any]]) -> dict[str, Any]:
    return [e for e in events if e["type"] == "plan_updated"][-1]["new"]


def tool_results(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "tool_call_finished"]


@pytest.mark.slow
def test_a_step_keeps_what_its_tools_did(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend(
        [
            call("update_plan", goal="Ship", steps=STEPS),
            call("write_file", path="a.py", content="x = 1\n"),
            call("read_file", path="a.py"),  # reading is not work to record
            call("run_shell", command="python3 a.py"),
            done(1),
            call("update_plan", updates=[{"id": 2, "status": "in_progress"}]),
            done(2, "said so"),
            {"text": "Shipped."},
        ]
    )
    code, events, stderr = run(fake, tmp_path)
    assert code == 0, stderr
    first, second = last_plan(events)["steps"]
    assert first["evidence"] == [
        {"kind": "file", "what": "a.py", "ok": True, "detail": ""},
        {"kind": "command", "what": "python3 a.py", "ok": True, "detail": "exit code 0"},
    ]
    assert second["evidence"] == []  # a step done with no tool at all is recorded as such, not refused
    during = [e for e in events if e["type"] == "plan_updated" and e["new"]["steps"][0]["status"] == "in_progress"]
    assert [len(e["new"]["steps"][0]["evidence"]) for e in during][-2:] == [1, 2]  # shown as the work happens


@pytest.mark.slow
@pytest.mark.parametrize(
    "failing", ["exit 3", "python3 -c 'import sys; sys.exit(7)'", "false && true"], ids=["exit", "python", "chain"]
)
def test_completing_a_step_after_a_failing_command_is_refused_once(
    fake: FakeOpenAI, tmp_path: Path, failing: str
) -> None:
    fake.script.extend(
        [
            call("update_plan", goal="Ship", steps=STEPS),
            call("run_shell", command=failing),
            done(1, "all good"),  # the claim contradicts the record: refused
            done(1, "all good, really"),  # claimed again: taken, and shown for what it is
            call("update_plan", updates=[{"id": 2, "status": "completed"}]),
            {"text": "Done."},
        ]
    )
    code, events, stderr = run(fake, tmp_path)
    assert code == 0, stderr
    refused = [r for r in tool_results(events) if r["name"] == "update_plan" and r["is_error"]]
    assert len(refused) == 1
    assert refused[0]["result"].startswith("error:") and failing in refused[0]["result"]
    assert "exit code" in refused[0]["result"]
    step = last_plan(events)["steps"][0]
    assert step["status"] == "completed" and step["challenged"] and step["verified"] != "passed"
    assert step["evidence"][-1]["ok"] is False


@pytest.mark.slow
def test_a_failure_fixed_before_the_claim_is_no_contradiction(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend(
        [
            call("update_plan", goal="Ship", steps=STEPS),
            call("run_shell", command="exit 1"),
            call("run_shell", command="true"),
            done(1),
            call("update_plan", updates=[{"id": 2, "status": "in_progress"}]),
            done(2),
            {"text": "Done."},
        ]
    )
    code, events, stderr = run(fake, tmp_path)
    assert code == 0, stderr
    assert not [r for r in tool_results(events) if r["name"] == "update_plan" and r["is_error"]]


@pytest.mark.slow
def test_a_recorded_command_is_masked_like_everything_else(fake: FakeOpenAI, tmp_path: Path) -> None:
    secret = "sk-test-EVIDENCEsecret123456"
    fake.script.extend(
        [
            call("update_plan", goal="Ship", steps=STEPS),
            call("run_shell", command=f"echo {secret} > /dev/null"),
            done(1),
            done(2),
            {"text": "Done."},
        ]
    )
    code, events, stderr = run(fake, tmp_path, "--api-key", secret)
    assert code == 0, stderr
    assert secret not in json.dumps(events)
    assert last_plan(events)["steps"][0]["evidence"][0]["kind"] == "command"


def test_the_record_is_shown_compactly_with_its_claim() -> None:
    work = (
        Evidence(kind="file", what="a.py", ok=True),
        Evidence(kind="file", what="a.py", ok=True),
        Evidence(kind="file", what="b.py", ok=True),
        Evidence(kind="command", what="make", ok=True, detail="exit code 0"),
    )
    assert summary(work) == "2 files · 1 command ✔"
    failed = (*work, Evidence(kind="check", what="pytest", ok=False))
    assert summary(failed) == "2 files · 1 command · 1 check ✘"
    plan = LivePlan(
        goal="g",
        steps=(
            Step(id=1, description="Decide", status=StepStatus.COMPLETED),
            Step(id=2, description="Build", status=StepStatus.COMPLETED, evidence=failed, challenged=True),
            Step(id=3, description="Ship", status=StepStatus.IN_PROGRESS, evidence=work),
        ),
    )
    lines = plan_lines(plan, finished=False)
    assert f"({NO_WORK})" in lines[1]
    assert f"(2 files · 1 command · 1 check ✘ · {DESPITE_FAILURE})" in lines[2]
    assert "(2 files · 1 command ✔)" in lines[3]
    assert "[PLAN]" in plan.render() and "evidence" not in plan.render()  # the [PLAN] contract is unchanged


def test_a_rewind_clears_the_record_of_the_steps_it_reopens() -> None:
    work = (Evidence(kind="file", what="a.py", ok=True),)
    plan = LivePlan(
        goal="g",
        steps=(
            Step(id=1, description="a", status=StepStatus.COMPLETED, evidence=work),
            Step(id=2, description="b", status=StepStatus.COMPLETED, evidence=work, challenged=True),
        ),
    )
    board = PlanBoard(archived=(plan,)).reopened(2)
    assert board.active.steps[0].evidence == work
    assert board.active.steps[1].evidence == () and not board.active.steps[1].challenged


def test_a_whole_new_step_list_keeps_the_record_of_the_steps_it_repeats() -> None:
    from liveplan_tui.plan import NewStep, PlanUpdate

    work = (Evidence(kind="command", what="make", ok=False, detail="exit code 2"),)
    board = PlanBoard(
        active=LivePlan(
            goal="g", steps=(Step(id=1, description="Build", status=StepStatus.IN_PROGRESS, evidence=work),)
        )
    )
    update = PlanUpdate(steps=[NewStep(description="Build", status="in_progress"), NewStep(description="Test")])
    new, _ = board.apply(update)
    assert new.active.steps[0].evidence == work and new.active.steps[1].evidence == ()
