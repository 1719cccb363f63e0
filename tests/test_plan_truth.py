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


def run(
    fake: FakeOpenAI, workspace: Path, *extra: str, env_after: int | None = None
) -> tuple[int, list[dict[str, Any]], str]:
    env = {"LIVEPLAN_PLAN_REMINDER_AFTER": str(env_after)} if env_after is not None else None
    proc = run_cli(
        "exec", "--json", "--yes", "--mode", "plan", "--base-url", fake.base_url, "--model", "m",
        "--workspace", str(workspace), *extra, "change the code", env=env,
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


# -- point 3: staleness caught from the work ------------------------------------

REMINDER = "Reminder:"


def plan_blocks(fake: FakeOpenAI) -> list[str]:
    """The [PLAN] block of every main-loop request, in order ("" where there was none)."""
    out = []
    for request in fake.main_requests():
        system = request["messages"][0]["content"]
        out.append(system[system.index("[PLAN]") : system.index("[/PLAN]") + 7] if "[PLAN]" in system else "")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("after", [6, 3])
def test_a_step_left_in_progress_gets_one_reminder_line(fake: FakeOpenAI, tmp_path: Path, after: int) -> None:
    (tmp_path / "log.txt").write_text("x\n")
    reads = [call("read_file", path="log.txt") for _ in range(after + 1)]
    fake.script.extend([call("update_plan", goal="Ship", steps=STEPS), *reads, done(1), done(2), {"text": "Done."}])
    code, events, stderr = run(fake, tmp_path, env_after=None if after == 6 else after)
    assert code == 0, stderr
    blocks = plan_blocks(fake)
    reminded = [i for i, b in enumerate(blocks) if REMINDER in b]
    assert reminded, blocks
    first = reminded[0]
    assert first == 1 + after  # the plan call, then `after` calls with step 1 in progress and no update
    block = blocks[first]
    assert block.count(REMINDER) == 1 and "step 1 (Change the code)" in block and block.endswith("[/PLAN]")
    assert block.splitlines()[-2].startswith(REMINDER)
    assert not any(REMINDER in b for b in blocks[:first])
    assert REMINDER not in blocks[-1]  # the update that followed cleared it


@pytest.mark.slow
def test_work_with_no_step_in_progress_is_reminded_to_start_one(fake: FakeOpenAI, tmp_path: Path) -> None:
    pending = [{"description": "Change the code"}, {"description": "Report"}]
    fake.script.extend(
        [
            call("update_plan", goal="Ship", steps=pending),
            call("write_file", path="a.py", content="x = 1\n"),
            call("update_plan", updates=[{"id": 1, "status": "in_progress"}]),
            done(1),
            done(2),
            {"text": "Done."},
        ]
    )
    code, events, stderr = run(fake, tmp_path)
    assert code == 0, stderr
    blocks = plan_blocks(fake)
    assert REMINDER not in blocks[1]  # a plan with nothing started, and no work yet: no reminder
    assert REMINDER in blocks[2] and "no step is in progress" in blocks[2]
    assert REMINDER not in blocks[3]


@pytest.mark.slow
def test_a_plan_kept_up_to_date_is_never_reminded(fake: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "log.txt").write_text("x\n")
    fake.script.extend(
        [
            call("update_plan", goal="Ship", steps=STEPS),
            call("read_file", path="log.txt"),
            call("write_file", path="a.py", content="x = 1\n"),
            done(1),
            call("update_plan", updates=[{"id": 2, "status": "in_progress"}]),
            call("run_shell", command="true"),
            done(2),
            {"text": "Done."},
        ]
    )
    code, events, stderr = run(fake, tmp_path)
    assert code == 0, stderr
    assert not any(REMINDER in b for b in plan_blocks(fake))


def test_the_reminder_counts_calls_and_resets_on_a_plan_update() -> None:
    from liveplan_tui.plan.staleness import Staleness, with_reminder

    plan = LivePlan(goal="g", steps=(Step(id=1, description="a", status=StepStatus.IN_PROGRESS),))
    staleness = Staleness()
    for _ in range(5):
        staleness.after_call(plan, "read_file", did_work=False)
    assert staleness.reminder(plan, 6) is None
    staleness.after_call(plan, "run_shell", did_work=True)
    line = staleness.reminder(plan, 6)
    assert line is not None and line.startswith("Reminder: step 1 (a)")
    assert staleness.reminder(plan, 0) is None  # 0 turns reminders off
    assert with_reminder(plan.render(), line).splitlines()[-2] == line
    staleness.after_call(plan, "update_plan", did_work=False)
    assert staleness.reminder(plan, 6) is None
    finished = LivePlan(goal="g", steps=(Step(id=1, description="a", status=StepStatus.COMPLETED),))
    staleness.after_call(finished, "write_file", did_work=True)
    assert staleness.reminder(finished, 6) is None  # nothing left to start: work after the plan is not off it


@pytest.mark.slow
def test_strict_mode_records_what_each_subagent_did_on_its_step(fake: FakeOpenAI, tmp_path: Path) -> None:
    plan = call("update_plan", goal="Two files", steps=[{"description": "Write A"}, {"description": "Write B"}])
    fake.script.extend(
        [
            {"match": "You are the planner", **plan},
            {"match": "Your step: Write A", **call("write_file", path="a.txt", content="a\n")},
            {"match": "Your step: Write A", "text": "wrote a.txt"},
            {"match": "Your step: Write B", **call("run_shell", command="echo b > b.txt")},
            {"match": "Your step: Write B", "text": "wrote b.txt"},
            {"match": "Combine the results", "text": "Both written."},
        ]
    )
    proc = run_cli(
        "exec", "--json", "--yes", "--mode", "strict", "--base-url", fake.base_url, "--model", "m",
        "--workspace", str(tmp_path), "write two files",
        env={"LIVEPLAN_STEP_RETRY_DELAY": "0.01", "LIVEPLAN_MAX_ATTEMPTS": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    first, second = last_plan(events)["steps"]
    assert [(e["kind"], e["what"]) for e in first["evidence"]] == [("file", "a.txt")]
    assert [(e["kind"], e["ok"]) for e in second["evidence"]] == [("command", True)]
