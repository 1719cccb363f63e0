"""The agent in-process: cancellation, key handling and user plan edits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI

from liveplan_tui.agent.engines.react import CANCELLED_RESULT
from liveplan_tui.agent.session import ApprovalRequest, Decision
from liveplan_tui.agent.session import Session as Agent
from liveplan_tui.config import ConfigError, load_settings, resolve_endpoint
from liveplan_tui.plan import NewStep, PlanError, PlanUpdate, StepPatch


def make_agent(fake: FakeOpenAI, **kw) -> Agent:
    settings = load_settings(base_url=fake.base_url, model="m", **kw)
    return Agent(settings, resolve_endpoint(settings))


async def collect(agent: Agent, text: str) -> list:
    return [e async for e in agent.submit(text)]


async def test_cancel_mid_stream_keeps_history_consistent(fake: FakeOpenAI) -> None:
    fake.script.append({"text": "word " * 200, "chunk": 5, "delay": 0.02})
    fake.script.append({"text": "second answer"})
    agent = make_agent(fake)
    seen = asyncio.Event()

    async def consume() -> None:
        async for event in agent.submit("write a lot"):
            if event.type == "text_delta":
                seen.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(seen.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    last = agent.conv.messages[-1]
    assert last["role"] == "assistant" and last["content"].endswith("[interrupted by the user]")
    events = await collect(agent, "next")
    assert events[-1].type == "turn_finished" and events[-1].answer == "second answer"
    await agent.close()


async def test_cancel_during_tool_call_answers_every_call(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.append(
        {
            "tool_calls": [
                {"name": "write_file", "arguments": {"path": "a.txt", "content": "a"}},
                {"name": "write_file", "arguments": {"path": "b.txt", "content": "b"}},
            ]
        }
    )
    fake.script.append({"text": "fine"})
    entered = asyncio.Event()

    async def slow_approver(request: ApprovalRequest) -> Decision:
        entered.set()
        await asyncio.sleep(30)
        return Decision(action="deny")

    settings = load_settings(base_url=fake.base_url, model="m", workspace=str(tmp_path))
    agent = Agent(settings, resolve_endpoint(settings), approver=slow_approver)
    task = asyncio.create_task(collect(agent, "plan"))
    await asyncio.wait_for(entered.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert agent.conv.dangling_tool_calls() == []
    tool_results = [m for m in agent.conv.messages if m["role"] == "tool"]
    assert [m["content"] for m in tool_results] == [CANCELLED_RESULT, CANCELLED_RESULT]
    events = await collect(agent, "go on")
    assert events[-1].answer == "fine"
    sent = fake.model_requests()[-1]["messages"]
    assert [m["role"] for m in sent[1:]] == ["user", "assistant", "tool", "tool", "user"]
    await agent.close()


async def test_user_plan_edit_reaches_the_next_request(fake: FakeOpenAI) -> None:
    fake.script.append({"text": "ok"})
    agent = make_agent(fake)
    agent.edit_plan(PlanUpdate(goal="Docs", steps=[NewStep(description="Write intro", status="in_progress")]))
    event = agent.edit_plan(
        PlanUpdate(
            steps=[
                *[NewStep(description=s.description, status=s.status) for s in agent.conv.board.active.steps],
                NewStep(description="Write docs"),
            ]
        )
    )
    assert event.source == "user" and event.new.total == 2
    with pytest.raises(PlanError, match="unknown step id 5"):
        agent.edit_plan(PlanUpdate(updates=[StepPatch(id=5, status="completed")]))
    await collect(agent, "continue")
    assert "2. [pending] Write docs" in fake.model_requests()[0]["messages"][0]["content"]
    await agent.close()


def auth_header(fake: FakeOpenAI) -> str:
    return fake.headers[-1].get("authorization", "")


async def test_openai_key_is_not_sent_to_another_host(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-user-secret-openai-key")
    fake.script.append({"text": "hi"})
    agent = make_agent(fake)
    assert agent.endpoint.key_withheld
    await collect(agent, "hello")
    assert "sk-user-secret-openai-key" not in auth_header(fake)
    await agent.close()


async def test_openai_key_goes_where_openai_base_url_points(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-paired-key")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    fake.script.append({"text": "hi"})
    settings = load_settings(model="m")
    agent = Agent(settings, resolve_endpoint(settings))
    await collect(agent, "hello")
    assert auth_header(fake) == "Bearer sk-paired-key"
    await agent.close()


async def test_explicit_key_goes_to_its_endpoint(fake: FakeOpenAI) -> None:
    fake.script.append({"text": "hi"})
    agent = make_agent(fake, api_key="sk-for-this-server")
    await collect(agent, "hello")
    assert auth_header(fake) == "Bearer sk-for-this-server"
    assert "sk-for-this-server" not in repr(agent.settings) + repr(agent.endpoint)
    await agent.close()


def test_custom_base_url_without_model_asks_for_one() -> None:
    with pytest.raises(ConfigError, match="pass --model NAME or set LIVEPLAN_MODEL"):
        resolve_endpoint(load_settings(base_url="http://localhost:11434/v1"))


def test_openai_key_alone_uses_openai_with_default_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    endpoint = resolve_endpoint(load_settings())
    assert endpoint.base_url is None and endpoint.model and not endpoint.key_withheld


def test_env_and_cli_precedence(monkeypatch: pytest.MonkeyPatch, isolated_env) -> None:
    (isolated_env / "config.toml").write_text('model = "from-file"\nmax_iterations = 7\n')
    assert load_settings().model == "from-file"
    monkeypatch.setenv("LIVEPLAN_MODEL", "from-env")
    settings = load_settings()
    assert settings.model == "from-env" and settings.max_iterations == 7
    assert load_settings(model="from-cli").model == "from-cli"


def test_broken_config_file_names_file_and_line(isolated_env) -> None:
    (isolated_env / "config.toml").write_text('model = "x"\nmax_iterations = = 3\n')
    with pytest.raises(ConfigError, match=r"config\.toml.*line 2"):
        load_settings()


def test_the_reply_reader_never_takes_a_call_for_an_answer() -> None:
    """Pure: a call written in the content or left in the reasoning is asked about, then failed, never answered."""
    from liveplan_tui.agent.engines.replies import ReplyState, calls_in, said
    from liveplan_tui.llm.base import Completion

    call = '<tool_call>{"name": "read_file", "arguments": {"path": "a"}}</tool_call>'
    in_reasoning = Completion(content="", reasoning=call, tool_calls=[], finish_reason="stop")
    assert said(in_reasoning) == call and [c.name for c in calls_in(in_reasoning, {"read_file"})] == ["read_file"]
    for reply in (Completion(content=call, tool_calls=[], finish_reason="stop"), in_reasoning):
        state = ReplyState()
        assert state.judge(reply).action == "ask"
        assert state.judge(reply).action == "fail"
    plain = Completion(content="", reasoning="The answer is 4.", tool_calls=[], finish_reason="stop")
    state = ReplyState()
    assert state.judge(plain).action == "ask" and state.judge(plain).answer == "The answer is 4."
