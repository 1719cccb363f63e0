"""End-to-end: `liveplan exec` as a real process against the fake server."""

from __future__ import annotations

import json
import re

import pytest
from conftest import assert_clean_stderr, run_cli
from fake_openai import FakeOpenAI, system_prompt

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)

PLAN_RE = re.compile(r"^\[PLAN\]$(.*?)^\[/PLAN\]$", re.M | re.S)


def plan_in(request: dict) -> str | None:
    match = PLAN_RE.search(system_prompt(request))
    return match.group(1) if match else None


def create_plan(n: int = 3) -> dict:
    steps = [
        {"description": f"Step number {i}", **({"status": "in_progress"} if i == 1 else {})} for i in range(1, n + 1)
    ]
    return {"tool_calls": [{"name": "update_plan", "arguments": {"goal": "Reverse a string", "steps": steps}}]}


def advance(done: int, start: int | None) -> dict:
    updates = [{"id": done, "status": "completed", "result": f"result {done}"}]
    if start:
        updates.append({"id": start, "status": "in_progress"})
    return {
        "text": f"Finished step {done}. ",
        "tool_calls": [{"name": "update_plan", "arguments": {"updates": updates}}],
    }


def three_step_script() -> list[dict]:
    return [
        create_plan(),
        advance(1, 2),
        advance(2, 3),
        advance(3, None),
        {"text": "Here is `reverse(s) = s[::-1]`.", "chunk": 3},
    ]


def exec_json(fake: FakeOpenAI, *extra: str, task: str = "reverse a string") -> tuple[int, list[dict], str]:
    proc = run_cli("exec", "--json", "--base-url", fake.base_url, "--model", "fake-model", *extra, task)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, events, proc.stderr


def test_three_step_plan_is_injected_into_every_call_until_archived(fake: FakeOpenAI) -> None:
    fake.script.extend(three_step_script())
    code, events, stderr = exec_json(fake)
    assert code == 0, stderr
    assert_clean_stderr(stderr)
    assert events[-1]["type"] == "turn_finished"
    assert events[-1]["answer"] == "Here is `reverse(s) = s[::-1]`."
    requests = fake.main_requests()
    assert len(requests) == 5
    blocks = [plan_in(r) or "" for r in requests]
    assert blocks[0] == ""  # no plan yet
    assert "1. [in_progress] Step number 1" in blocks[1] and "0/3 done" in blocks[1]
    assert "1. [completed] Step number 1 → result 1" in blocks[2] and "2. [in_progress]" in blocks[2]
    assert "3. [in_progress]" in blocks[3] and "2/3 done" in blocks[3]
    assert blocks[4] == ""  # archived after step 3 completed
    for block in filter(None, blocks):
        assert block.count("[in_progress]") <= 1
    archived = [e for e in events if e["type"] == "plan_updated" and e["archived"]]
    assert len(archived) == 1 and archived[0]["new"]["steps"][2]["status"] == "completed"


def test_text_mode_prints_only_the_answer(fake: FakeOpenAI) -> None:
    fake.script.extend(three_step_script())
    proc = run_cli("exec", "--base-url", fake.base_url, "--model", "m", "reverse")
    assert proc.returncode == 0
    assert proc.stdout == "Here is `reverse(s) = s[::-1]`.\n"
    assert_clean_stderr(proc.stderr)


def test_faults_and_bad_calls_are_survived(fake: FakeOpenAI) -> None:
    two_in_progress = {"updates": [{"id": 2, "status": "in_progress"}]}
    fake.script.extend(
        [
            create_plan(),
            {"tool_calls": [{"name": "update_plan", "arguments": two_in_progress}]},
            {"tool_calls": [{"name": "update_plan", "arguments": '{"updates": [{"id": 1, "status": '}]},
            {"tool_calls": [{"name": "update_plan", "arguments": {"updates": [{"id": 42, "status": "completed"}]}}]},
            {"tool_calls": [{"name": "delete_everything", "arguments": {}}]},
            {"tool_calls": [{"name": "update_plan", "arguments": {"steps": "not a list"}}]},
            {"status": 429, "headers": {"retry-after": "0"}},
            advance(1, 2),
            {"status": 500},
            {"text": "this partial text must be discarded", "cut_after": 3},
            advance(2, 3),
            advance(3, None),
            {"text": "Done despite everything."},
        ]
    )
    code, events, stderr = exec_json(fake)
    assert code == 0, stderr
    assert "Traceback" not in stderr and stderr == ""
    errors = [e["result"] for e in events if e["type"] == "tool_call_finished" and e["is_error"]]
    assert len(errors) == 5
    assert all(r.startswith("error: ") for r in errors)
    assert "at most one step may be in_progress" in errors[0]
    assert "not valid JSON" in errors[1]
    assert "unknown step id 42" in errors[2]
    assert "unknown tool 'delete_everything'" in errors[3]
    assert "invalid arguments for update_plan" in errors[4]
    assert [e["type"] for e in events].count("retrying") == 3
    assert [e["type"] for e in events].count("stream_reset") == 1
    # the plan was never corrupted: every request shows at most one in_progress step
    for request in fake.main_requests():
        block = plan_in(request)
        assert block is None or block.count("[in_progress]") <= 1
    assert events[-1] == {"type": "turn_finished", "answer": "Done despite everything.", "reason": "done"}
    # the rejected calls were answered in order with tool results the API accepts
    last = fake.main_requests()[-1]["messages"]
    call_ids = [c["id"] for m in last if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    result_ids = [m["tool_call_id"] for m in last if m["role"] == "tool"]
    assert call_ids == result_ids
    assert all(
        json.loads(c["function"]["arguments"]) is not None
        for m in last
        if m["role"] == "assistant"
        for c in m.get("tool_calls") or []
    )
    assert "this partial text must be discarded" not in json.dumps(last)


def test_unreachable_endpoint_fails_with_one_line() -> None:
    proc = run_cli("exec", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "hello", timeout=30)
    assert proc.returncode == 1
    assert_clean_stderr(proc.stderr)
    assert "cannot reach http://127.0.0.1:9/v1" in proc.stderr


def test_bad_key_gives_one_clear_line(fake: FakeOpenAI) -> None:
    fake.script.append({"status": 401, "body": {"error": {"message": "Incorrect API key", "code": "invalid_api_key"}}})
    proc = run_cli("exec", "--base-url", fake.base_url, "--model", "m", "--api-key", "sk-wrong-123", "hi")
    assert proc.returncode == 1
    assert_clean_stderr(proc.stderr)
    assert "authentication failed" in proc.stderr and "--api-key" in proc.stderr
    assert "sk-wrong-123" not in proc.stderr + proc.stdout
    assert len(fake.model_requests()) == 1  # 401 is not retried


def test_unknown_model_names_the_flag(fake: FakeOpenAI) -> None:
    fake.script.append({"status": 404, "body": {"error": {"message": "model not found", "code": "model_not_found"}}})
    proc = run_cli("exec", "--base-url", fake.base_url, "--model", "nope", "hi")
    assert proc.returncode == 1
    assert_clean_stderr(proc.stderr)
    assert "model 'nope' not found" in proc.stderr and "--model" in proc.stderr


def test_no_key_and_no_base_url_says_what_to_set() -> None:
    proc = run_cli("exec", "hello", env={"LIVEPLAN_LOCAL": "false"})
    assert proc.returncode == 2
    assert_clean_stderr(proc.stderr)
    assert "OPENAI_API_KEY" in proc.stderr and "--base-url" in proc.stderr


def test_max_iterations_stops_with_clear_message(fake: FakeOpenAI) -> None:
    fake.default = create_plan()
    proc = run_cli("exec", "--base-url", fake.base_url, "--model", "m", "--max-iterations", "2", "loop forever")
    assert proc.returncode == 3
    assert "stopped after 2 model calls" in proc.stderr and "--max-iterations" in proc.stderr
    assert len(fake.model_requests()) == 2


def test_bad_flag_value_is_one_usage_error() -> None:
    proc = run_cli("exec", "--max-iterations", "zero", "task")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "--max-iterations: expected a whole number" in proc.stderr


def test_usage_errors_are_one_line() -> None:
    for args in (
        ["exec", "--max-parallel", "0", "x"],
        ["route"],
        ["--frob"],
        ["exec", "--base-url", "notaurl", "--model", "m", "x"],
    ):
        proc = run_cli(*args)
        assert proc.returncode == 2, args
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "is not an http(s) URL" in run_cli("exec", "--base-url", "notaurl", "--model", "m", "x").stderr
