"""#28 points 1, 2 and 4 through the Session against the fake server: sub-steps made and updated by the model, the
rules' errors as tool results it can act on, checks on sub-steps, strict mode's subagents that own their step's
sub-steps (two at once), and a plan revised after a step's check fails twice."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fake_openai import FakeOpenAI

from liveplan_tui.agent.session import Session, fixed_approver
from liveplan_tui.config import load_settings, resolve_endpoint

PLAN: dict[str, Any] = {
    "goal": "Add the --json flag",
    "steps": [
        {"description": "Read cli.py", "status": "completed", "result": "argparse"},
        {
            "description": "Add the flag",
            "status": "in_progress",
            "substeps": [{"description": "Parse the flag"}, {"description": "Print JSON"}],
        },
    ],
}


def call(arguments: dict[str, Any], **entry: Any) -> dict[str, Any]:
    return {"when": "tools", "tool_calls": [{"name": "update_plan", "arguments": arguments}], **entry}


def session(fake: FakeOpenAI, workspace: Path, mode: str = "plan", **settings: Any) -> Session:
    s = load_settings(
        base_url=fake.base_url, model="m", mode=mode, workspace=str(workspace), router_llm=False,
        plan_review="off", **settings,
    )  # fmt: skip
    return Session(s, resolve_endpoint(s), approver=fixed_approver(True))


def run(agent: Session, text: str) -> list[Any]:
    async def go() -> list[Any]:
        return [e async for e in agent.submit(text)]

    return asyncio.run(go())


def results(events: list[Any]) -> list[str]:
    return [e.result for e in events if e.type == "tool_call_finished" and e.name == "update_plan"]


def final(events: list[Any]) -> Any:
    return [e for e in events if e.type == "plan_updated"][-1].new


def test_the_model_makes_and_walks_sub_steps(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend(
        [
            call(PLAN),
            call({"updates": [{"id": "2.1", "status": "completed", "result": "store_true"}]}),
            call({"updates": [{"id": "2.2", "status": "in_progress"}]}),
            call({"updates": [{"id": "2.2", "status": "completed", "result": "json.dumps"}]}),
            {"text": "Done: --json prints JSON."},
        ]
    )
    events = run(session(fake, tmp_path), "add a --json flag")
    first = results(events)[0]
    assert "2. [in_progress] Add the flag\n  2.1 [in_progress] Parse the flag\n  2.2 [pending] Print JSON" in first
    assert "1/3 done" in first
    plan = final(events)
    assert plan.is_finished and [c.result for c in plan.step(2).substeps] == ["store_true", "json.dumps"]
    assert events[-1].type == "turn_finished" and events[-1].reason == "done"


def test_the_rules_come_back_as_errors_the_model_fixes(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend(
        [
            call(PLAN),
            call({"updates": [{"id": 2, "status": "completed"}]}),
            call({"updates": [{"id": "2.7", "status": "completed"}]}),
            call({"updates": [{"id": "2.1", "status": "completed"}, {"id": "2.2", "status": "cancelled"}]}),
            {"text": "Done."},
        ]
    )
    events = run(session(fake, tmp_path), "add a --json flag")
    _, parent, unknown, fixed = results(events)
    assert parent.startswith("error:") and "step 2 has open sub-steps (2.1, 2.2)" in parent
    assert "unknown sub-step id 2.7; known sub-steps of step 2 are 2.1, 2.2" in unknown
    assert "2. [completed] Add the flag" in fixed


def test_a_check_on_a_sub_step_runs_and_goes_on_its_record(fake: FakeOpenAI, tmp_path: Path) -> None:
    checked = {**PLAN, "steps": [PLAN["steps"][0], {**PLAN["steps"][1], "substeps": [
        {"description": "Parse the flag", "check": "test -f flag.txt"}, {"description": "Print JSON"}]}]}  # fmt: skip
    fake.script.extend(
        [
            call(checked),
            call({"updates": [{"id": "2.1", "status": "completed"}]}),
            {"when": "tools", "tool_calls": [{"name": "write_file", "arguments": {"path": "flag.txt", "content": ""}}]},
            call({"updates": [{"id": "2.1", "status": "completed"}, {"id": "2.2", "status": "cancelled"}]}),
            {"text": "Done."},
        ]
    )
    events = run(session(fake, tmp_path), "add a --json flag")
    assert "the check of step 2.1 failed" in results(events)[1]
    sub = final(events).step("2.1")
    assert sub.verified == "passed" and [e.kind for e in sub.evidence] == ["check", "file", "check"]
    assert final(events).step(2).evidence == ()  # the work is the sub-step's


def test_a_step_whose_check_fails_twice_is_revised_not_retried(fake: FakeOpenAI, tmp_path: Path) -> None:
    plan = {"goal": "g", "steps": [{"description": "Build it", "status": "in_progress", "check": "false"},
                                   {"description": "Ship it"}]}  # fmt: skip
    revised = {"goal": "g", "steps": [{"description": "Find out why the build fails", "status": "in_progress"},
                                      {"description": "Ship it"}]}  # fmt: skip
    done = {"updates": [{"id": 1, "status": "completed", "result": "x"}, {"id": 2, "status": "cancelled"}]}
    fake.script.extend(
        [
            call(plan),
            call({"updates": [{"id": 1, "status": "completed"}]}),
            call({"updates": [{"id": 1, "status": "completed"}]}),
            call(revised),
            call(done),
            {"text": "Done."},
        ]
    )
    events = run(session(fake, tmp_path), "build and ship")
    once, twice = results(events)[1:3]
    assert "mark the step completed again" in once and "Do not try the same step again" not in once
    assert "has now failed 2 times. Do not try the same step again: revise the remaining steps" in twice
    assert any(e.type == "plan_updated" and e.new.steps[0].description.startswith("Find out") for e in events)


PLANNER = "You are the planner"
STRICT_PLAN: dict[str, Any] = {
    "goal": "Two modules",
    "steps": [
        {"description": "Module A", "substeps": [{"description": "A one"}, {"description": "A two"}]},
        {"description": "Module B", "substeps": [{"description": "B one"}, {"description": "B two"}]},
    ],
}


def test_strict_subagents_own_their_steps_sub_steps_two_at_once(fake: FakeOpenAI, tmp_path: Path) -> None:
    a, b = "Your step: Module A", "Your step: Module B"
    fake.script.extend(
        [
            call(STRICT_PLAN, match=PLANNER),
            {"match": PLANNER, "text": "Plan set."},
            call({"updates": [{"id": "2.1", "status": "completed"}]}, match=a),  # not A's: refused
            call({"updates": [{"id": "1.1", "status": "completed", "result": "a1"}]}, match=a),
            call({"updates": [{"id": "2.1", "status": "completed", "result": "b1"}]}, match=b),
            call({"updates": [{"id": "2.2", "status": "in_progress"}]}, match=b),
            {"match": a, "text": "A is done."},
            {"match": b, "text": "B is done."},
            {"match": "Combine", "text": "Both modules are done."},
        ]
    )
    agent = session(fake, tmp_path, mode="strict", max_parallel=2)
    events = run(agent, "write two modules")
    told = [m["content"] for r in fake.model_requests() for m in r["messages"] if m["role"] == "tool"]
    refused = [t for t in told if "is not yours" in t]
    assert refused and "update only the sub-steps of step 1" in refused[0]
    plan = agent.view.board.latest
    assert [s.status for s in plan.steps] == ["completed", "completed"]
    assert plan.step("1.1").result == "a1" and plan.step("2.1").result == "b1"  # type: ignore[union-attr]
    assert plan.step("1.2").result == "closed when step 1 ended"  # type: ignore[union-attr]
    assert plan.step(1).result == "A is done." and plan.step(2).result == "B is done."  # type: ignore[union-attr]
    assert events[-1].type == "turn_finished" and events[-1].answer == "Both modules are done."
    brief = next(r for r in fake.model_requests() if a in str(r["messages"]))
    assert "- 1.1 [in_progress] A one\n- 1.2 [pending] A two" in brief["messages"][-1]["content"]
    assert [t["function"]["name"] for t in brief["tools"] if "plan" in t["function"]["name"]] == ["update_plan"]
