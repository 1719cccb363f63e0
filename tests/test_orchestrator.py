"""Strict mode through `liveplan exec` and the fake server."""

from __future__ import annotations

import json

import pytest
from conftest import assert_clean_stderr, run_cli
from fake_openai import FakeOpenAI

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)

PLANNER = "You are the planner"
REPLANNER = "A step failed after its retries"
SYNTH = "Combine the results"
FAST = {"LIVEPLAN_STEP_RETRY_DELAY": "0.01", "LIVEPLAN_MAX_ATTEMPTS": "1"}


def plan(*steps: tuple[str, list[int]]) -> dict:
    args = {
        "goal": "Tidy the project",
        "steps": [{"description": d, **({"depends_on": deps} if deps else {})} for d, deps in steps],
    }
    return {"match": PLANNER, "tool_calls": [{"name": "update_plan", "arguments": args}]}


def step(desc: str, **entry) -> dict:
    return {"match": f"Your step: {desc}", **({"text": f"did {desc}"} | entry)}


def run(fake: FakeOpenAI, *extra: str, env: dict | None = None) -> tuple[int, list[dict], str]:
    proc = run_cli(
        "exec",
        "--json",
        "--mode",
        "strict",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        *extra,
        "tidy everything",
        env={**FAST, **(env or {})},
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


def subagent_order(fake: FakeOpenAI) -> list[str]:
    out = []
    for r in fake.model_requests():
        text = json.dumps(r["messages"])
        if "Your step: " in text:
            out.append(text.split("Your step: ", 1)[1].split("\\n", 1)[0])
    return out


def test_dependency_order_and_synthesis(fake: FakeOpenAI) -> None:
    fake.script.extend(
        [
            plan(("Lint A", []), ("Fix B", [1]), ("Docs C", [])),
            {"match": PLANNER, "text": "Plan set."},
            step("Lint A"),
            step("Fix B"),
            step("Docs C"),
            {"match": SYNTH, "text": "All tidy."},
        ]
    )
    code, events, stderr = run(fake)
    assert code == 0, stderr
    assert_clean_stderr(stderr)
    order = subagent_order(fake)
    assert sorted(order) == ["Docs C", "Fix B", "Lint A"] and order.index("Lint A") < order.index("Fix B")
    fix_b = next(r for r in fake.model_requests() if "Your step: Fix B" in json.dumps(r["messages"]))
    brief = fix_b["messages"][1]["content"]
    assert "did Lint A" in brief and "Docs C" not in brief and "[PLAN]" not in json.dumps(fix_b["messages"])
    assert "update_plan" not in [t["function"]["name"] for t in fix_b["tools"]]
    for e in events:
        if e["type"] == "plan_updated":
            assert sum(s["status"] == "in_progress" for s in e["new"]["steps"]) <= 1
    assert events[-1] == {"type": "turn_finished", "answer": "All tidy.", "reason": "done"}
    phases = [(e["step_id"], e["phase"]) for e in events if e["type"] == "subagent"]
    assert (
        (1, "started") in phases and (1, "finished") in phases and len([p for p in phases if p[1] == "finished"]) == 3
    )


def test_parallel_steps_overlap(fake: FakeOpenAI) -> None:
    fake.script.extend(
        [
            plan(("Part one", []), ("Part two", [])),
            {"match": PLANNER, "text": "ok"},
            step("Part one", hang=1.0),
            step("Part two", hang=1.0),
            {"match": SYNTH, "text": "both"},
        ]
    )
    code, events, _ = run(fake, "--max-parallel", "2")
    assert code == 0
    assert fake.max_active == 2
    assert any(
        sum(s["status"] == "in_progress" for s in e["new"]["steps"]) == 2 for e in events if e["type"] == "plan_updated"
    )


def test_retry_then_success(fake: FakeOpenAI) -> None:
    fake.script.extend(
        [
            plan(
                ("Flaky", []),
            ),
            {"match": PLANNER, "text": "ok"},
            step("Flaky", status=500),
            step("Flaky"),
            {"match": SYNTH, "text": "done"},
        ]
    )
    code, events, _ = run(fake)
    assert code == 0
    phases = [e["phase"] for e in events if e["type"] == "subagent"]
    assert phases == ["started", "retrying", "finished"]


def test_retries_exhausted_then_replan(fake: FakeOpenAI) -> None:
    fake.script.extend(
        [
            plan(("Good", []), ("Broken", [1])),
            {"match": PLANNER, "text": "ok"},
            step("Good"),
            *[step("Broken", status=500) for _ in range(3)],
            {
                "match": REPLANNER,
                "tool_calls": [{"name": "update_plan", "arguments": {"steps": [{"description": "Fixed approach"}]}}],
            },
            {"match": REPLANNER, "text": "revised"},
            step("Fixed approach"),
            {"match": SYNTH, "text": "recovered"},
        ]
    )
    code, events, stderr = run(fake)
    assert code == 0, stderr
    final = [e for e in events if e["type"] == "plan_updated"][-1]["new"]
    assert [(s["description"], s["status"]) for s in final["steps"]] == [
        ("Good", "completed"),
        ("Fixed approach", "completed"),
    ]
    replan = next(r for r in fake.model_requests() if REPLANNER in json.dumps(r["messages"]))
    assert "did Good" in replan["messages"][1]["content"] and "Broken" in replan["messages"][1]["content"]
    assert events[-1]["answer"] == "recovered"


def test_replans_exhausted_is_a_clean_failure(fake: FakeOpenAI) -> None:
    fake.script.extend(
        [
            plan(("Good", []), ("Broken", [])),
            {"match": PLANNER, "text": "ok"},
            step("Good"),
            *[step("Broken", status=500) for _ in range(3)],
        ]
    )
    code, events, stderr = run(fake, env={"LIVEPLAN_MAX_REPLANS": "0"})
    assert code == 1
    assert_clean_stderr(stderr)
    assert "gave up after 0 replans: step 2 failed" in stderr and "completed steps: 1" in stderr
    assert events[-1] == {"type": "turn_finished", "answer": "", "reason": "error"}


def test_non_retryable_errors_skip_retries(fake: FakeOpenAI) -> None:
    fake.script.extend(
        [
            plan(
                ("Denied", []),
            ),
            {"match": PLANNER, "text": "ok"},
            step("Denied", status=401),
        ]
    )
    code, events, _ = run(fake, env={"LIVEPLAN_MAX_REPLANS": "0"})
    assert code == 1
    assert [e["phase"] for e in events if e["type"] == "subagent"] == ["started", "failed"]


def test_cycle_is_rejected_and_the_model_fixes_it(fake: FakeOpenAI) -> None:
    fake.script.extend(
        [
            plan(("A", [2]), ("B", [1])),
            plan(("A", []), ("B", [1])),
            {"match": PLANNER, "text": "fixed"},
            step("A"),
            step("B"),
            {"match": SYNTH, "text": "ok"},
        ]
    )
    code, events, _ = run(fake)
    assert code == 0
    first = next(e for e in events if e["type"] == "tool_call_finished")
    assert first["is_error"] and "dependency cycle" in first["result"]


def test_acceptance_classifier_routes_to_strict(fake: FakeOpenAI) -> None:
    fake.script.extend(
        [
            {"when": "classify", "json": {"strategy": "plan_and_subagent", "reason": "many independent parts"}},
            plan(("Scan modules", []), ("Annotate modules", [1]), ("Summarise", [])),
            {"match": PLANNER, "text": "ok"},
            step("Scan modules"),
            step("Annotate modules"),
            step("Summarise"),
            {"match": SYNTH, "text": "Synthesised answer."},
        ]
    )
    proc = run_cli("exec", "--json", "--base-url", fake.base_url, "--model", "m", "add type hints to the code")
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0, proc.stderr
    assert events[0] == {
        "type": "route",
        "strategy": "plan_and_subagent",
        "level": "llm",
        "reason": "many independent parts",
    }
    order = subagent_order(fake)
    assert len(order) == 3 and order.index("Scan modules") < order.index("Annotate modules")
    assert events[-1]["answer"] == "Synthesised answer."


def test_garbage_classifier_falls_to_keyword_and_says_so(fake: FakeOpenAI) -> None:
    fake.script.extend([{"when": "classify", "text": "definitely a plan!!"}, {"text": "hello back"}])
    proc = run_cli("exec", "--json", "--base-url", fake.base_url, "--model", "m", "please tidy up this module for me")
    route = json.loads(proc.stdout.splitlines()[0])
    assert route["level"] == "keyword" and "LLM classifier gave an invalid answer" in route["reason"]
