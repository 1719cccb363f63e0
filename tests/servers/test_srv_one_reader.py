"""#24 point 3: strict mode (planner, subagents, synthesis) and structured mode read a reply as guided mode does.

A thinking model's answer left in the reasoning field (`reasoning_content` or `reasoning`, content empty), a tool
call written as text (Hermes, Mistral, fenced, bare), and arguments sent as an object instead of a string: each
engine takes them, and none of them ends "with an empty answer" or shows raw JSON as the answer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from quirks import answer, run

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)

PLANNER = "You are the planner"
SYNTH = "Combine the results"
STRICT = ("--mode", "strict")
FAST = {"LIVEPLAN_STEP_RETRY_DELAY": "0.01", "LIVEPLAN_MAX_ATTEMPTS": "1"}
STEPS = {"goal": "Tidy the project", "steps": [{"description": "Lint A"}, {"description": "Docs B"}]}
PLAN_CALL = {"name": "update_plan", "arguments": STEPS}
THINKING = [("reasoning_content", "reasoning_content"), ("reasoning", "reasoning")]


def in_reasoning(text: str, field: str, **entry: Any) -> dict[str, Any]:
    """A thinking model's reply whose answer a server's reasoning parser took whole: content empty."""
    return {"reasoning": text, "reasoning_field": field, "text": "", **entry}


def strict_script(*, planner: list[dict], steps: dict[str, list[dict]], synth: list[dict]) -> list[dict]:
    script = [{"match": PLANNER, **e} for e in planner] + [{"match": PLANNER, "text": "Plan set."}]
    for desc, entries in steps.items():
        script += [{"match": f"Your step: {desc}", **e} for e in entries]
    return script + [{"match": SYNTH, **e} for e in synth]


def strict(fake, script: list[dict]) -> tuple[int, list[dict], str]:
    fake.script.extend(script)
    return run(fake, *STRICT, env=FAST)


def final_steps(events: list[dict]) -> list[tuple[str, str]]:
    plans = [e for e in events if e["type"] == "plan_updated"]
    return [(s["status"], s["result"]) for s in plans[-1]["new"]["steps"]]


@pytest.mark.parametrize("field", [f for f, _ in THINKING])
def test_strict_synthesis_left_in_reasoning_is_the_answer(fake, field: str) -> None:
    done = {"text": "did it"}
    script = strict_script(
        planner=[{"tool_calls": [PLAN_CALL]}],
        steps={"Lint A": [done], "Docs B": [done]},
        synth=[in_reasoning("All tidy: A linted, B documented.", field)] * 2,
    )
    code, events, stderr = strict(fake, script)
    assert code == 0, stderr
    assert answer(events) == "All tidy: A linted, B documented."


def test_strict_synthesis_given_after_one_nudge(fake) -> None:
    script = strict_script(
        planner=[{"tool_calls": [PLAN_CALL]}],
        steps={"Lint A": [{"text": "ok"}], "Docs B": [{"text": "ok"}]},
        synth=[in_reasoning("hmm", "reasoning_content"), {"text": "Both done."}],
    )
    code, events, stderr = strict(fake, script)
    assert code == 0, stderr
    assert answer(events) == "Both done."
    last = fake.model_requests()[-1]["messages"]
    assert "no answer text" in last[-1]["content"]


def test_strict_synthesis_cut_at_the_limit_is_continued(fake) -> None:
    script = strict_script(
        planner=[{"tool_calls": [PLAN_CALL]}],
        steps={"Lint A": [{"text": "ok"}], "Docs B": [{"text": "ok"}]},
        synth=[{"text": "First half, ", "finish": "length"}, {"text": "second half."}],
    )
    code, events, stderr = strict(fake, script)
    assert code == 0, stderr
    assert answer(events) == "First half, second half."


@pytest.mark.parametrize(
    "synth",
    [{"text": ""}, {"text": "<think></think>"}, {"text": "  \n"}, {"text": '{"name": "read_file", "arguments": {}}'}],
    ids=["empty", "empty-think", "blank", "a-call"],
)
def test_strict_synthesis_that_says_nothing_shows_the_step_results(fake, synth: dict) -> None:
    script = strict_script(
        planner=[{"tool_calls": [PLAN_CALL]}],
        steps={"Lint A": [{"text": "linted A"}], "Docs B": [{"text": "documented B"}]},
        synth=[synth, synth],
    )
    code, events, stderr = strict(fake, script)
    assert code == 0, stderr
    assert "linted A" in answer(events) and "documented B" in answer(events)
    assert "synthesis" in stderr


@pytest.mark.parametrize("field", [f for f, _ in THINKING])
def test_strict_subagent_result_left_in_reasoning(fake, field: str) -> None:
    script = strict_script(
        planner=[{"tool_calls": [PLAN_CALL]}],
        steps={"Lint A": [in_reasoning("A has no lint errors", field)] * 2, "Docs B": [{"text": "wrote docs"}]},
        synth=[{"text": "Tidy."}],
    )
    code, events, stderr = strict(fake, script)
    assert code == 0, stderr
    assert final_steps(events)[0] == ("completed", "A has no lint errors")


TEXT_CALLS = {
    "hermes": lambda c: f"<tool_call>\n{json.dumps(c)}\n</tool_call>",
    "mistral": lambda c: f"[TOOL_CALLS][{json.dumps(c)}]",
    "fenced": lambda c: f"```json\n{json.dumps(c)}\n```",
    "bare": lambda c: json.dumps(c),
    "string-arguments": lambda c: json.dumps({"name": c["name"], "arguments": json.dumps(c["arguments"])}),
}


@pytest.mark.parametrize("shape", TEXT_CALLS)
def test_strict_planner_and_subagents_run_calls_written_as_text(fake, tmp_path, shape: str) -> None:
    (tmp_path / "a.txt").write_text("alpha is 7\n")
    as_text = TEXT_CALLS[shape]
    read = {"name": "read_file", "arguments": {"path": "a.txt"}}
    script = strict_script(
        planner=[{"text": as_text(PLAN_CALL)}],
        steps={"Lint A": [{"text": as_text(read)}, {"text": "alpha is 7"}], "Docs B": [{"text": "ok"}]},
        synth=[{"text": "Tidy."}],
    )
    fake.script.extend(script)
    code, events, stderr = run(fake, *STRICT, env=FAST, workspace=tmp_path)
    assert code == 0, stderr
    assert final_steps(events)[0] == ("completed", "alpha is 7")
    tool_results = [m["content"] for r in fake.model_requests() for m in r["messages"] if m["role"] == "tool"]
    assert any("alpha is 7" in t for t in tool_results)


@pytest.mark.parametrize("field", [f for f, _ in THINKING])
def test_strict_planner_call_written_in_reasoning(fake, field: str) -> None:
    script = strict_script(
        planner=[in_reasoning(f"<tool_call>{json.dumps(PLAN_CALL)}</tool_call>", field)],
        steps={"Lint A": [{"text": "ok"}], "Docs B": [{"text": "ok"}]},
        synth=[{"text": "Tidy."}],
    )
    code, events, stderr = strict(fake, script)
    assert code == 0, stderr
    assert [d for d, _ in final_steps(events)] == ["completed", "completed"]


def test_strict_object_arguments(fake) -> None:
    script = strict_script(
        planner=[{"tool_calls": [PLAN_CALL], "args_as_object": True}],
        steps={"Lint A": [{"text": "ok"}], "Docs B": [{"text": "ok"}]},
        synth=[{"text": "Tidy."}],
    )
    code, events, stderr = strict(fake, script)
    assert code == 0, stderr


# -- structured mode ----------------------------------------------------------

MOVE = {
    "action": "update_plan",
    "goal": "Reverse a string",
    "steps": [{"description": "Write it"}, {"description": "Show it"}],
}


def structured(fake, script: list[dict], *flags: str) -> tuple[int, list[dict], str]:
    fake.script.extend(script)
    return run(fake, "--tool-mode", "structured", "--mode", "plan", *flags, task="reverse a string")


@pytest.mark.parametrize("field", [f for f, _ in THINKING])
def test_structured_plan_and_answer_left_in_reasoning(fake, field: str) -> None:
    script = [in_reasoning(json.dumps(MOVE), field), *[in_reasoning("Use s[::-1] to reverse it.", field)] * 2]
    code, events, stderr = structured(fake, script)
    assert code == 0, stderr
    plan = next(e for e in events if e["type"] == "plan_updated")["new"]
    assert plan["goal"] == "Reverse a string"
    assert answer(events) == "Use s[::-1] to reverse it."


@pytest.mark.parametrize("shape", ["hermes", "mistral", "fenced", "string-arguments"])
def test_structured_plan_written_as_a_call(fake, shape: str) -> None:
    call = {"name": "update_plan", "arguments": {k: v for k, v in MOVE.items() if k != "action"}}
    code, events, stderr = structured(fake, [{"text": TEXT_CALLS[shape](call)}, {"text": "Use s[::-1]."}])
    assert code == 0, stderr
    assert next(e for e in events if e["type"] == "plan_updated")["new"]["goal"] == "Reverse a string"
    assert len(fake.model_requests()) == 2  # taken the first time, not retried into the harness's default plan


def test_structured_answer_cut_at_the_limit_is_continued(fake) -> None:
    script: list[dict] = [{"json": MOVE}, {"text": "Slice it ", "finish": "length"}, {"text": "with s[::-1]."}]
    code, events, stderr = structured(fake, script)
    assert code == 0, stderr
    assert answer(events) == "Slice it with s[::-1]."


@pytest.mark.parametrize(
    "reply",
    [
        '{"name": "write_file", "arguments": {"path": "r.py", "content": "x"}}',
        '<tool_call>{"name": "update_plan", "arguments": {"updates": []}}</tool_call>',
    ],
    ids=["bare-call", "hermes-call"],
)
def test_structured_answer_that_is_only_a_call_is_not_the_answer(fake, reply: str) -> None:
    code, events, stderr = structured(fake, [{"json": MOVE}, {"text": reply}, {"text": "Use s[::-1]."}])
    assert code == 0, stderr
    assert answer(events) == "Use s[::-1]."
    assert "plain text" in fake.model_requests()[-1]["messages"][-1]["content"]


def test_structured_empty_answers_fail_honestly(fake) -> None:
    code, events, stderr = structured(fake, [{"json": MOVE}, {"text": ""}, {"text": ""}])
    assert code == 1
    assert "empty reply" in stderr and "Traceback" not in stderr
