"""Behaviours 1, 2, 9 and 14 of real models: tool calls as text, thinking, plan shapes, no silent success."""

from __future__ import annotations

import json

import pytest
from quirks import MODES, answer, call, one_line, plan_create, plan_finish, run, tool_results

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)

READ = {"name": "read_file", "arguments": {"path": "notes.txt"}}
TEXT_CALLS = {
    "hermes": lambda c: f"<tool_call>\n{json.dumps(c)}\n</tool_call>",
    "bare": lambda c: json.dumps(c),
    "fenced": lambda c: f"```json\n{json.dumps(c)}\n```",
    "mistral": lambda c: f"[TOOL_CALLS][{json.dumps(c)}]",
    "qwen-after-think": lambda c: f"<think>I should read it</think><tool_call>{json.dumps(c)}</tool_call>",
}


@pytest.fixture
def notes(tmp_path):
    (tmp_path / "notes.txt").write_text("the secret number is 42\n")
    return tmp_path


@pytest.mark.parametrize("shape", TEXT_CALLS)
@pytest.mark.parametrize("mode", MODES)
def test_tool_calls_written_as_text_are_run(fake, notes, shape: str, mode: str) -> None:
    as_text = TEXT_CALLS[shape]
    plan = {"name": "update_plan", "arguments": plan_create()["tool_calls"][0]["arguments"]}
    done = {"name": "update_plan", "arguments": plan_finish()["tool_calls"][0]["arguments"]}
    script = ([{"text": as_text(plan)}] if mode == "plan" else []) + [{"text": as_text(READ)}]
    script += ([{"text": as_text(done)}] if mode == "plan" else []) + [{"text": "The number is 42."}]
    fake.script.extend(script)
    code, events, stderr = run(fake, "--mode", mode, workspace=notes)
    assert code == 0, stderr
    assert answer(events) == "The number is 42."
    assert any("the secret number is 42" in r for r in tool_results(fake))
    if mode == "plan":
        assert any(e["type"] == "plan_updated" and e["archived"] for e in events)


@pytest.mark.parametrize(
    "text",
    ['{"name": "frobnicate", "arguments": {"x": 1}}', '<tool_call>{"name": "nope", "arguments": {}}</tool_call>'],
)
def test_a_reply_that_is_only_a_call_is_never_the_answer(fake, text: str) -> None:
    fake.script.extend([{"text": text}, {"text": "Done properly."}])
    code, events, stderr = run(fake, "--mode", "direct")
    assert code == 0, stderr
    assert answer(events) == "Done properly."
    assert "unknown tool" in tool_results(fake)[0]


@pytest.mark.parametrize(
    "entry",
    [
        {"reasoning": "Let me think about 6*7 carefully.", "text": "42"},
        {"reasoning": "thinking here", "reasoning_field": "reasoning", "text": "42"},
        {"text": "<think>Let me think about 6*7.</think>\n\n42"},
        {"text": "Let me think about 6*7, step by step.</think>\n\n42"},
        {"text": "<think>\nmultiply\n</think>42", "chunk": 2},
    ],
    ids=["reasoning_content", "reasoning", "think-tags", "no-opening-tag", "tags-split-across-chunks"],
)
@pytest.mark.parametrize("mode", MODES)
def test_thinking_stays_out_of_the_answer(fake, entry: dict, mode: str) -> None:
    fake.script.append(entry)
    code, events, stderr = run(fake, "--mode", mode)
    assert code == 0, stderr
    assert answer(events) == "42"


def test_text_mode_prints_only_the_answer_not_the_thinking(fake) -> None:
    from conftest import run_cli

    fake.script.append({"text": "<think>secret chain of thought</think>The answer is 42."})
    proc = run_cli("exec", "--mode", "direct", "--base-url", fake.base_url, "--model", "m", "q")
    assert proc.returncode == 0 and proc.stdout == "The answer is 42.\n"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_an_answer_left_in_reasoning_is_asked_for_then_taken(fake, field: str) -> None:
    fake.script.extend([{"reasoning": "The answer is 42.", "reasoning_field": field, "text": ""}] * 2)
    code, events, stderr = run(fake, "--mode", "direct")
    assert code == 0, stderr
    assert answer(events) == "The answer is 42."
    assert len(fake.model_requests()) == 2
    assert "no answer text" in fake.model_requests()[1]["messages"][-1]["content"]


def test_an_answer_given_after_one_nudge(fake) -> None:
    fake.script.extend([{"reasoning": "hmm", "text": ""}, {"text": "42"}])
    code, events, _ = run(fake, "--mode", "direct")
    assert code == 0 and answer(events) == "42"


def test_empty_replies_fail_honestly(fake) -> None:
    fake.script.extend([{"text": ""}, {"text": ""}])
    code, events, stderr = run(fake, "--mode", "direct")
    assert code == 1
    assert "empty reply" in one_line(stderr)


def test_length_with_nothing_said_asks_again_briefly(fake) -> None:
    fake.script.extend([{"reasoning": "long thoughts", "text": "", "finish": "length"}, {"text": "42"}])
    code, events, _ = run(fake, "--mode", "direct")
    assert code == 0 and answer(events) == "42"
    assert "cut off" in fake.model_requests()[1]["messages"][-1]["content"]


def test_a_cut_answer_is_continued_not_accepted(fake) -> None:
    fake.script.extend([{"text": "The first half, ", "finish": "length"}, {"text": "and the second half."}])
    code, events, _ = run(fake, "--mode", "direct")
    assert code == 0
    assert answer(events) == "The first half, and the second half."
    continued = fake.model_requests()[1]["messages"]
    assert (
        continued[-2] == {"role": "assistant", "content": "The first half, "} and "Continue" in continued[-1]["content"]
    )


def test_a_reply_cut_every_time_fails_honestly(fake) -> None:
    fake.script.extend([{"text": "part ", "finish": "length"}] * 3)
    code, _, stderr = run(fake, "--mode", "direct")
    assert code == 1 and "token limit" in one_line(stderr)


@pytest.mark.parametrize("mode", ["plan", "direct"])
def test_a_final_answer_with_a_step_in_progress_is_not_success(fake, mode: str) -> None:
    fake.script.extend([plan_create(), {"text": "All done!"}, {"text": "All done!"}])
    code, events, stderr = run(fake, "--mode", mode)
    assert code == 1
    line = [ln for ln in stderr.splitlines() if ln.strip()][-1]
    assert "step 1 (Look at the file)" in line and "in progress" in line


@pytest.mark.parametrize(
    "arguments",
    [
        {
            "plan": [{"step": "Look at the file", "status": "in-progress"}, {"step": "Answer", "status": "todo"}],
            "explanation": "codex",
        },
        {"goal": "g", "steps": ["Look at the file", "Answer"]},
        {
            "goal": "g",
            "steps": [{"title": "Look at the file", "status": "doing"}, {"title": "Answer", "status": "not started"}],
        },
    ],
    ids=["codex", "bare-strings", "titles-and-synonyms"],
)
def test_plan_shapes_models_send_are_accepted_first_time(fake, arguments: dict) -> None:
    finish = {"updates": [{"id": "1", "status": "done"}, {"id": "step 2", "status": "Complete"}]}
    fake.script.extend([call("update_plan", **arguments), call("update_plan", **finish), {"text": "ok"}])
    code, events, stderr = run(fake, "--mode", "plan")
    assert code == 0, stderr
    assert not any("error" in r for r in tool_results(fake))
    assert any(e["type"] == "plan_updated" and e["archived"] for e in events)


def test_unclear_plan_arguments_say_what_is_valid(fake) -> None:
    fake.script.extend([call("update_plan", tasks=[{"what": "x"}]), {"text": "ok"}])
    run(fake, "--mode", "plan")
    assert "valid arguments: goal, steps" in tool_results(fake)[0]


def test_several_plan_calls_in_one_reply_are_one_change(fake) -> None:
    both = {
        "tool_calls": [
            {"name": "update_plan", "arguments": {"updates": [{"id": 2, "status": "in_progress"}]}},
            {"name": "update_plan", "arguments": {"updates": [{"id": 1, "status": "completed", "result": "ok"}]}},
        ]
    }
    fake.script.extend(
        [plan_create(), both, call("update_plan", updates=[{"id": 2, "status": "completed"}]), {"text": "ok"}]
    )
    code, events, stderr = run(fake, "--mode", "plan")
    assert code == 0, stderr
    results = tool_results(fake)
    assert not any(r.startswith("error") for r in results)
    assert sum(1 for e in events if e["type"] == "plan_updated") == 3
