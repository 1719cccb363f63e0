"""Long scripted tasks in a tiny context window: every request fits, and the plan survives."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import assert_clean_stderr, run_cli
from fake_openai import FakeOpenAI, system_prompt

from liveplan_tui.tokens import count_message, count_tools, counter_for

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)

SUMMARIZER = "You condense"


def request_tokens(request: dict) -> int:
    counter = counter_for(request.get("model", "m"))
    return (
        sum(count_message(counter, m) for m in request["messages"])
        + count_tools(counter, request.get("tools") or [])
        + 3
    )


def tc(name: str, **args) -> dict:
    return {"when": "tools", "tool_calls": [{"name": name, "arguments": args}]}


def long_task(calls: int = 30) -> tuple[list[dict], dict[int, str]]:
    """A plan created at call 1 and advanced at calls 10, 20 and calls-1; reads in between."""
    script: list[dict] = [
        tc(
            "update_plan",
            goal="Audit the logs",
            steps=[
                {"description": "Read part A", "status": "in_progress"},
                {"description": "Read part B"},
                {"description": "Read part C"},
            ],
        )
    ]
    expected: dict[int, str] = {}
    state = "1. [in_progress] Read part A"
    for n in range(2, calls):
        expected[n] = state
        if n == 10:
            script.append(
                tc(
                    "update_plan",
                    updates=[{"id": 1, "status": "completed", "result": "A ok"}, {"id": 2, "status": "in_progress"}],
                )
            )
            state = "2. [in_progress] Read part B"
        elif n == 20:
            script.append(
                tc(
                    "update_plan",
                    updates=[{"id": 2, "status": "completed", "result": "B ok"}, {"id": 3, "status": "in_progress"}],
                )
            )
            state = "3. [in_progress] Read part C"
        elif n == calls - 1:
            open_steps = [2, 3] if calls <= 20 else [3]  # a short task finishes every step it started
            script.append(
                tc("update_plan", updates=[{"id": i, "status": "completed", "result": "ok"} for i in open_steps])
            )
            state = "archived"
        else:
            script.append(tc("read_file", path="log.txt", start_line=(n * 37) % 300 + 1, end_line=(n * 37) % 300 + 60))
    script.append({"when": "tools", "text": "Audit finished: nothing alarming."})
    expected[calls] = "archived"
    return script, expected


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "log.txt").write_text(
        "".join(f"{i:04d} INFO request handled in {i % 97} ms by worker {i % 7}\n" for i in range(400))
    )
    return tmp_path


def summarizer(request: dict) -> dict | None:
    if request.get("tools") or not system_prompt(request).startswith(SUMMARIZER):
        return None
    return {
        "text": "Goal: audit the logs.\nFacts found: log lines are INFO request timings.\nWhat was "
        "done: read several ranges of log.txt."
    }


def run_long(fake: FakeOpenAI, workspace: Path, window: int, *extra: str) -> tuple[list[dict], str, int]:
    proc = run_cli(
        "exec",
        "--json",
        "--mode",
        "plan",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "--max-iterations",
        "60",
        "--context-window",
        str(window),
        "--workspace",
        str(workspace),
        *extra,
        "audit the logs",
    )
    return [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr, proc.returncode


def test_thirty_calls_in_a_3000_token_window(fake: FakeOpenAI, workspace: Path) -> None:
    script, expected = long_task(30)
    fake.script.extend(script)
    fake.default = summarizer
    events, stderr, code = run_long(fake, workspace, 3000)
    assert code == 0, stderr
    assert_clean_stderr(stderr)
    assert events[-1]["answer"] == "Audit finished: nothing alarming."
    condensed = [e for e in events if e["type"] == "condensed"]
    assert condensed and all(e["tokens_after"] < e["tokens_before"] for e in condensed)
    for request in fake.requests:
        assert request_tokens(request) < 3000
    assert any(system_prompt(r).startswith(SUMMARIZER) for r in fake.requests), "no summary request was made"
    main = fake.main_requests()
    assert len(main) == 30
    for n, request in enumerate(main, start=1):
        text = system_prompt(request)
        if n == 1:
            assert "[PLAN]" not in text
        elif expected[n] == "archived":
            assert not re.search(r"^\[PLAN\]$", text, re.M)
        else:
            assert expected[n] in text and text.count("[in_progress]") == 1, (n, text)


def test_context_length_exceeded_is_recovered_once(fake: FakeOpenAI, workspace: Path) -> None:
    script, _ = long_task(12)
    overflow = {
        "when": "tools",
        "status": 400,
        "body": {
            "error": {
                "message": "This model's maximum context length is 4000 tokens.",
                "code": "context_length_exceeded",
                "type": "invalid_request_error",
            }
        },
    }
    script.insert(6, overflow)
    fake.script.extend(script)
    fake.default = summarizer
    events, stderr, code = run_long(fake, workspace, 4000)
    assert code == 0, stderr
    main = fake.main_requests()
    refused = main[6]
    retried = main[7] if not system_prompt(main[7]).startswith(SUMMARIZER) else main[8]
    assert request_tokens(retried) < request_tokens(refused)
    assert "[PLAN]" in system_prompt(retried)
    assert any(e["type"] == "condensed" for e in events)


def test_repeated_overflow_fails_clearly(fake: FakeOpenAI, workspace: Path) -> None:
    overflow = {
        "when": "tools",
        "status": 400,
        "body": {"error": {"message": "maximum context length exceeded", "code": "context_length_exceeded"}},
    }
    fake.script.extend([overflow, overflow])
    proc = run_cli(
        "exec",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "--workspace",
        str(workspace),
        "hi there friend, a long question",
    )
    assert proc.returncode == 1
    assert_clean_stderr(proc.stderr)
    assert (
        "does not fit the model's context window" in proc.stderr
        or "larger than the model's context window" in proc.stderr
    )
