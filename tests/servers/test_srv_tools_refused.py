"""#24 point 4: a server that refuses the `tools` field gets the text tool protocol, and the plan works as before.

Each server says it in its own words (vLLM without --enable-auto-tool-choice, llama-server without --jinja, Ollama
and LM Studio models without a tool template, a gateway, an error inside the stream). LivePlan switches that
endpoint and model to tools described in the prompt and calls written as `<tool_call>` JSON, says so once, and the
switch lasts for the session, a resumed one included.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from quirks import answer, run

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import run_cli  # noqa: E402
from fake_openai import NO_TOOLS, FakeOpenAI  # noqa: E402

PROTOCOL = "does not take tool definitions"


def written(name: str, **arguments: Any) -> dict[str, Any]:
    """A reply that calls a tool the way the text protocol asks."""
    return {"text": f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"}


PLAN = written(
    "update_plan",
    goal="Answer from the notes",
    steps=[{"description": "Read the notes", "status": "in_progress"}, {"description": "Answer"}],
)
DONE = written(
    "update_plan",
    updates=[
        {"id": 1, "status": "completed", "result": "read"},
        {"id": 2, "status": "completed", "result": "answered"},
    ],
)
READ = written("read_file", path="notes.txt")


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_text("the secret number is 42\n")
    return tmp_path


def sent_after_switch(fake: FakeOpenAI) -> list[dict[str, Any]]:
    return [r for r in fake.model_requests() if "tools" not in r]


@pytest.mark.slow
@pytest.mark.parametrize("server", sorted(NO_TOOLS))
@pytest.mark.parametrize("mode", ["direct", "plan"])
def test_refused_tools_switch_to_the_text_protocol(notes: Path, server: str, mode: str) -> None:
    script = ([PLAN] if mode == "plan" else []) + [READ] + ([DONE] if mode == "plan" else []) + [{"text": "It is 42."}]
    with FakeOpenAI(script, no_tools=server) as fake:
        code, events, stderr = run(fake, "--mode", mode, workspace=notes)
        requests = fake.model_requests()
        after = sent_after_switch(fake)
    assert code == 0, stderr
    assert answer(events) == "It is 42."
    assert sum("tools" in r for r in requests) == 1  # refused once; never asked again this session
    assert len(after) == len(script)
    for request in after:
        system = request["messages"][0]
        assert system["role"] == "system" and PROTOCOL in system["content"] and "- read_file:" in system["content"]
        assert "tool_choice" not in request
        roles = [m["role"] for m in request["messages"]]
        assert "tool" not in roles and not any(m.get("tool_calls") for m in request["messages"])
        assert all(a != b or a == "assistant" for a, b in zip(roles, roles[1:], strict=False)), (
            roles
        )  # user turns merged
    last = after[-1]["messages"]
    assert any(
        m["role"] == "user" and "Tool result (read_file)" in m["content"] and "secret number is 42" in m["content"]
        for m in last
    )
    assert any(m["role"] == "assistant" and "<tool_call>" in m["content"] for m in last)
    notices = [e["message"] for e in events if e["type"] == "notice"]
    assert len(notices) == 1 and "describes its tools in the prompt" in notices[0]
    if mode == "plan":
        plans = [e for e in events if e["type"] == "plan_updated"]
        assert plans[-1]["archived"] and [s["status"] for s in plans[-1]["new"]["steps"]] == ["completed", "completed"]
        assert "[PLAN]" in after[-1]["messages"][0]["content"] or plans[-1]["archived"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("server", "fix"),
    [("vllm", "--enable-auto-tool-choice"), ("llama.cpp", "--jinja"), ("ollama", "chat template supports tools")],
)
def test_the_notice_names_the_fix_for_native_calls(server: str, fix: str) -> None:
    with FakeOpenAI([{"text": "Hello."}], no_tools=server) as fake:
        code, events, stderr = run(fake, "--mode", "plan")
    assert code == 0, stderr
    (notice,) = [e["message"] for e in events if e["type"] == "notice"]
    assert fix in notice


@pytest.mark.slow
def test_the_notice_is_shown_once_in_text_mode(notes: Path) -> None:
    with FakeOpenAI([READ, {"text": "It is 42."}], no_tools="ollama") as fake:
        proc = run_cli(
            "exec",
            "--mode",
            "direct",
            "--base-url",
            fake.base_url,
            "--model",
            "gemma3:4b",
            "--workspace",
            str(notes),
            "what is the number?",
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "It is 42.\n"
    assert proc.stderr.count("describes its tools in the prompt") == 1 and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_strict_mode_plans_and_runs_steps_over_the_text_protocol(notes: Path) -> None:
    plan = written("update_plan", goal="Report the number", steps=[{"description": "Read notes"}])
    script = [
        {"match": "You are the planner", **plan},
        {"match": "You are the planner", "text": "Planned."},
        {"match": "Your step: Read notes", **READ},
        {"match": "Your step: Read notes", "text": "the number is 42"},
        {"match": "Combine the results", "text": "The number is 42."},
    ]
    with FakeOpenAI(script, no_tools="vllm") as fake:
        code, events, stderr = run(
            fake,
            "--mode",
            "strict",
            workspace=notes,
            env={"LIVEPLAN_STEP_RETRY_DELAY": "0.01", "LIVEPLAN_MAX_ATTEMPTS": "1"},
        )
    assert code == 0, stderr
    assert answer(events) == "The number is 42."
    final = [e for e in events if e["type"] == "plan_updated"][-1]["new"]["steps"]
    assert [(s["status"], s["result"]) for s in final] == [("completed", "the number is 42")]


@pytest.mark.slow
@pytest.mark.parametrize(
    "body",
    [
        {
            "error": {
                "message": "Invalid 'tools[0].function.name': string does not match pattern",
                "type": "invalid_request_error",
            }
        },
        {"error": {"message": "tools: schema keyword 'oneOf' is not allowed", "type": "invalid_request_error"}},
    ],
    ids=["bad-tool-name", "bad-schema"],
)
def test_a_request_error_about_a_tool_is_not_taken_for_a_refusal(body: dict) -> None:
    with FakeOpenAI([{"status": 400, "body": body}]) as fake:
        code, events, stderr = run(fake, "--mode", "plan")
        requests = fake.model_requests()
    assert code == 1
    assert not [e for e in events if e["type"] == "notice"]
    assert len(requests) == 1 and "Traceback" not in stderr


@pytest.mark.slow
def test_the_switch_is_recorded_with_the_session_and_lasts_when_resumed(notes: Path, tmp_path: Path) -> None:
    data = {"LIVEPLAN_DATA_DIR": str(tmp_path / "data")}
    with FakeOpenAI([READ, {"text": "It is 42."}, {"text": "Still 42."}], no_tools="llama.cpp") as fake:
        code, _, stderr = run(fake, "--mode", "direct", workspace=notes, env=data)
        assert code == 0, stderr
        first = len(fake.model_requests())
        code, events, stderr = run(fake, "--mode", "direct", "--continue", workspace=notes, env=data, task="and now?")
        resumed = fake.model_requests()[first:]
    assert code == 0, stderr
    assert answer(events) == "Still 42."
    assert len(resumed) == 1 and "tools" not in resumed[0] and PROTOCOL in resumed[0]["messages"][0]["content"]
    assert not [e for e in events if e["type"] == "notice"]  # said when it happened, not again


def test_another_model_is_asked_with_tools_again(tmp_path: Path) -> None:
    """The switch is for that endpoint and model: the client forgets it when the model changes."""
    import asyncio

    from liveplan_tui.agent.session import Session
    from liveplan_tui.config import Endpoint, load_settings

    async def go(fake: FakeOpenAI) -> list[dict[str, Any]]:
        session = Session(
            load_settings(mode="direct", workspace=tmp_path), Endpoint(base_url=fake.base_url, model="a", api_key=None)
        )
        try:
            [e async for e in session.submit("hello")]
            fake.no_tools = None
            session.set_model("b")
            [e async for e in session.submit("hello again")]
        finally:
            await session.close()
        return fake.model_requests()

    with FakeOpenAI([{"text": "Hi."}, {"text": "Hi again."}], no_tools="ollama") as fake:
        requests = asyncio.run(go(fake))
    assert [("tools" in r, r["model"]) for r in requests] == [(True, "a"), (False, "a"), (True, "b")]
