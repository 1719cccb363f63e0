"""Structured-action mode against the fake server, and the real local runtime when installed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import assert_clean_stderr, run_cli
from fake_openai import FakeOpenAI

from liveplan_tui.local.model import local_available

PLAN = {
    "action": "update_plan",
    "goal": "Reverse a string",
    "steps": [{"description": "Write reverse()"}, {"description": "Show an example"}],
}


def exec_structured(fake: FakeOpenAI, *extra: str) -> tuple[int, list[dict], str]:
    proc = run_cli(
        "exec",
        "--json",
        "--tool-mode",
        "structured",
        "--base-url",
        fake.base_url,
        "--model",
        "small",
        *extra,
        "reverse a string",
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


@pytest.mark.slow
def test_plan_then_answer(fake: FakeOpenAI) -> None:
    fake.script.extend([{"json": PLAN}, {"text": "```markdown\nUse `s[::-1]`.\n```"}])
    code, events, stderr = exec_structured(fake)
    assert code == 0, stderr
    plans = [e for e in events if e["type"] == "plan_updated"]
    assert [p["new"]["steps"][0]["status"] for p in plans] == ["in_progress", "completed"]
    assert plans[-1]["archived"] and plans[-1]["new"]["goal"] == "Reverse a string"
    calls = [e for e in events if e["type"] == "tool_call_started"]
    assert [c["name"] for c in calls] == ["update_plan", "update_plan"]
    assert events[-1] == {"type": "turn_finished", "answer": "Use `s[::-1]`.", "reason": "done"}
    first, second = fake.model_requests()
    assert first["response_format"]["type"] == "json_schema" and "tools" not in first
    assert first["response_format"]["json_schema"]["schema"]["properties"]["action"] == {"const": "update_plan"}
    assert second["max_tokens"] > 0 and "response_format" not in second
    assert (
        "[PLAN]" in second["messages"][0]["content"]
        and "1. [in_progress] Write reverse()" in second["messages"][0]["content"]
    )


@pytest.mark.slow
def test_step_by_step_records_each_result(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEPLAN_STRUCTURED_STYLE", "steps")
    fake.script.extend(
        [
            {"json": PLAN},
            {"text": "Slicing reverses it:\n```python\ndef reverse(s): return s[::-1]\n```"},
            {"text": "reverse('ab') gives 'ba'."},
        ]
    )
    code, events, _ = exec_structured(fake)
    assert code == 0
    final = [e for e in events if e["type"] == "plan_updated"][-1]["new"]["steps"]
    assert [(s["status"], s["result"]) for s in final] == [
        ("completed", "Slicing reverses it:"),
        ("completed", "reverse('ab') gives 'ba'."),
    ]
    for event in (e for e in events if e["type"] == "plan_updated"):
        assert sum(s["status"] == "in_progress" for s in event["new"]["steps"]) <= 1
    assert "**1. Write reverse()**" in events[-1]["answer"] and "**2. Show an example**" in events[-1]["answer"]
    assert "do only step 2" in fake.model_requests()[2]["messages"][-1]["content"].lower()


@pytest.mark.slow
def test_invalid_move_is_retried_once_then_the_harness_decides(fake: FakeOpenAI) -> None:
    fake.script.extend(
        [{"text": "I think we should start."}, {"json": {"action": "final", "answer": "x"}}, {"text": "Answer."}]
    )
    code, events, _ = exec_structured(fake)
    assert code == 0
    plan = next(e for e in events if e["type"] == "plan_updated")["new"]
    assert [s["description"] for s in plan["steps"]] == ["Work out the approach", "Write the answer"]
    assert len(fake.model_requests()) == 3


@pytest.mark.slow
def test_retry_succeeds_with_fenced_json(fake: FakeOpenAI) -> None:
    fake.script.extend([{"text": "oops"}, {"text": "```json\n" + json.dumps(PLAN) + "\n```"}, {"text": "Done."}])
    code, events, _ = exec_structured(fake)
    assert code == 0
    assert next(e for e in events if e["type"] == "plan_updated")["new"]["goal"] == "Reverse a string"


def test_native_mode_runs_tool_calls_written_in_text_for_local_endpoints(fake: FakeOpenAI) -> None:
    from liveplan_tui.agent.engines.react import react  # noqa: F401  (the path exercised below)

    fake.script.extend(
        [
            {
                "text": '```json\n{"name": "update_plan", "arguments": {"goal": "g", "steps": '
                '[{"description": "a", "status": "in_progress"}]}}\n```'
            },
            {"text": "ok"},
        ]
    )
    import asyncio

    from liveplan_tui.agent.session import Session as Agent
    from liveplan_tui.config import Endpoint, load_settings

    async def go() -> list:
        settings = load_settings(tool_mode="native")
        agent = Agent(settings, Endpoint(base_url=fake.base_url, model="m", api_key=None, local=True))
        events = [e async for e in agent.submit("x")]
        await agent.close()
        return events

    events = asyncio.run(go())
    assert any(e.type == "plan_updated" and e.new.goal == "g" for e in events)


needs_local = pytest.mark.skipif(
    not local_available(), reason="the [local] extra (xllamacpp + model parts) is not installed"
)


@pytest.mark.slow
@needs_local
def test_real_local_model_plans_and_answers(tmp_path: Path) -> None:
    proc = run_cli(
        "exec",
        "--local",
        "--json",
        "Plan and write a Python function that reverses a string, then show it",
        env={"LIVEPLAN_CACHE_DIR": str(Path.home() / ".cache" / "liveplan-test")},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert_clean_stderr(proc.stderr)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    plans = [e for e in events if e["type"] == "plan_updated"]
    assert plans and len(plans[0]["new"]["steps"]) >= 2
    assert any(e["type"] == "tool_call_started" and e["name"] == "update_plan" for e in events)
    for event in plans:
        assert sum(s["status"] == "in_progress" for s in event["new"]["steps"]) <= 1
    assert plans[-1]["archived"]
    assert events[-1]["type"] == "turn_finished" and events[-1]["reason"] == "done" and events[-1]["answer"].strip()


CHILD_SCRIPT = """
import sys, time
from pathlib import Path
from liveplan_tui.local.model import default_model
from liveplan_tui.local.runtime import LocalRuntime
rt = LocalRuntime(default_model())
rt.start()
print(rt.proc.pid, flush=True)
if sys.argv[1] == "exit":
    sys.exit(0)
time.sleep(300)
"""


def gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
@needs_local
@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_child_server_never_outlives_the_app(how: str) -> None:
    env = {**os.environ, "LIVEPLAN_CACHE_DIR": str(Path.home() / ".cache" / "liveplan-test")}
    app = subprocess.Popen([sys.executable, "-c", CHILD_SCRIPT, how], stdout=subprocess.PIPE, text=True, env=env)
    assert app.stdout is not None
    child = int(app.stdout.readline())
    if how == "sigkill":
        assert not gone(child, within=0.2)
        app.send_signal(signal.SIGKILL)
    app.wait(30)
    assert gone(child), f"local server {child} outlived the app ({how})"


@pytest.mark.slow
def test_small_talk_gets_no_plan_but_small_tasks_do(fake: FakeOpenAI) -> None:
    fake.script.append({"text": "Hello! What shall we build?"})
    proc = run_cli(
        "exec", "--json", "--tool-mode", "structured", "--base-url", fake.base_url, "--model", "small", "hi there"
    )
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0 and not any(e["type"] == "plan_updated" for e in events)
    assert events[-1]["answer"] == "Hello! What shall we build?"
    fake.script.extend([{"json": PLAN}, {"text": "def rev(s): return s[::-1]"}])
    proc = run_cli(
        "exec",
        "--json",
        "--tool-mode",
        "structured",
        "--base-url",
        fake.base_url,
        "--model",
        "small",
        "How do I reverse a string?",
    )
    assert any(json.loads(line)["type"] == "plan_updated" for line in proc.stdout.splitlines())
