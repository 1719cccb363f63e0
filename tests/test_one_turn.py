"""#25 point 1: one turn at a time, by contract.

The review's two reproduction scripts (`/compact` and `/resume B` while a reply streams) as tests through the
Session's public face, then the same two cases typed into the TUI and piped into the REPL.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from fake_openai import FakeOpenAI
from tui_helpers import chat_text, started, submit, wait_for

from liveplan_tui import commands
from liveplan_tui.agent.session import Session
from liveplan_tui.config import load_settings, resolve_endpoint
from liveplan_tui.errors import SessionBusy
from liveplan_tui.store import open_store
from liveplan_tui.ui.app import LivePlanApp
from liveplan_tui.ui.widgets.chat import NoticeBlock

PLAN = {
    "goal": "plan made in session A",
    "steps": [{"description": "a", "status": "in_progress"}, {"description": "b"}],
}


def streaming_plan_call(delay: float = 0.012) -> dict[str, Any]:
    """A reply that streams for a while (84 chunks), then calls update_plan: the turn is mid-flight."""
    return {
        "when": "tools",
        "text": "working on it " * 24,
        "chunk": 4,
        "delay": delay,
        "tool_calls": [{"name": "update_plan", "arguments": PLAN}],
    }


def new_session(fake: FakeOpenAI, workspace: Path) -> Session:
    settings = load_settings(base_url=fake.base_url, model="m", mode="plan", workspace=str(workspace), router_llm=False)
    return Session(settings, resolve_endpoint(settings))


async def drain(events: Any) -> list[Any]:
    return [e async for e in events]


def with_history(session: Session) -> None:
    """Older turns, so there is something for /compact to condense."""
    for i in range(6):
        session.conv.add({"role": "user", "content": f"old question {i} " + "x" * 400})
        session.conv.add({"role": "assistant", "content": f"old answer {i} " + "y" * 400})


def test_compact_mid_turn_keeps_the_turns_calls_results_and_answer(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend(
        [
            streaming_plan_call(),
            {"when": "no_tools", "text": "SUMMARY", "hang": 0.5},
            *[{"when": "tools", "text": "final answer"}] * 2,
            {"when": "tools", "text": "next answer"},
        ]
    )

    async def go() -> None:
        session = new_session(fake, tmp_path)
        with_history(session)
        turn = asyncio.create_task(drain(session.submit("do it")))
        await asyncio.sleep(0.2)
        assert session.busy
        compacting = asyncio.create_task(session.compact())  # what /compact does, typed mid-turn
        await asyncio.sleep(0.1)
        assert not compacting.done(), "/compact waits for the turn to end"
        await turn
        condensed = await compacting
        assert condensed is not None
        await drain(session.submit("and then?"))
        await session.close()

    asyncio.run(go())
    last = fake.main_requests()[-1]["messages"]
    assert any(m["role"] == "tool" for m in last), "the turn's update_plan result is still in the model's view"
    assert any(m.get("tool_calls") for m in last)
    assert any(m["role"] == "assistant" and m.get("content") == "final answer" for m in last)
    assert "SUMMARY" in json.dumps(last)


def test_the_condenser_alone_keeps_what_is_added_while_it_summarises(fake: FakeOpenAI, tmp_path: Path) -> None:
    """Even called straight through, condensing re-takes what it keeps after the summary call returns."""
    fake.script.append({"when": "no_tools", "text": "SUMMARY", "hang": 0.3})

    async def go() -> list[dict[str, Any]]:
        session = new_session(fake, tmp_path)
        with_history(session)
        condenser = session.condenser
        job = asyncio.create_task(condenser.condense(session.conv, lambda: "system", [], force=True))
        await asyncio.sleep(0.1)
        session.conv.add({"role": "user", "content": "added while summarising"})
        await job
        await session.close()
        return session.conv.messages

    messages = asyncio.run(go())
    assert messages[-1]["content"] == "added while summarising"


def test_resume_mid_turn_leaves_the_other_sessions_plan_alone(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([streaming_plan_call(), {"when": "tools", "text": "done"}])
    data = tmp_path / "data"
    data.mkdir()

    async def go() -> tuple[str, str]:
        store = open_store(data)
        other = new_session(fake, tmp_path)
        b = other.attach(store)
        other.conv.add({"role": "user", "content": "session B's only message"})
        await other.close()
        session = new_session(fake, tmp_path)
        a = session.attach(store)
        turn = asyncio.create_task(drain(session.submit("make a plan")))
        await asyncio.sleep(0.1)
        session.resume(b)  # the running turn keeps the objects it was given
        await turn
        assert session.view.session_id == b
        await session.close()
        return store.load(a).board.latest.goal, store.load(b).board.latest.goal

    goal_a, goal_b = asyncio.run(go())
    assert goal_b == ""
    assert goal_a == "plan made in session A"


def test_turns_run_one_at_a_time_and_busy_says_so(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([{"text": "first " * 30, "chunk": 4, "delay": 0.01}, {"text": "second"}])

    async def go() -> list[str]:
        session = new_session(fake, tmp_path)
        assert not session.busy
        order: list[str] = []

        async def one(text: str) -> None:
            async for event in session.submit(text):
                if event.type == "turn_finished":
                    order.append(event.answer.split()[0])

        first = asyncio.create_task(one("one"))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(one("two"))
        await asyncio.sleep(0.05)
        assert session.busy and len(fake.main_requests()) == 1, "the second turn waits for the first"
        await asyncio.gather(first, second)
        assert not session.busy
        await session.close()
        return order

    assert asyncio.run(go()) == ["first", "second"]


@pytest.mark.parametrize("call", ["undo", "rewind"])
def test_undo_and_rewind_mid_turn_are_refused_in_one_line(fake: FakeOpenAI, tmp_path: Path, call: str) -> None:
    fake.script.extend([{"text": "slow " * 30, "chunk": 4, "delay": 0.01}])

    async def go() -> str:
        session = new_session(fake, tmp_path)
        turn = asyncio.create_task(drain(session.submit("hello")))
        await asyncio.sleep(0.1)
        with pytest.raises(SessionBusy) as refused:
            session.undo() if call == "undo" else session.rewind(1)
        await turn
        await session.close()
        return str(refused.value)

    message = asyncio.run(go())
    assert "waits until the turn ends" in message and "\n" not in message


def test_every_command_declares_what_it_does_during_a_turn() -> None:
    policies = {name: cmd.during_turn for name, cmd in commands.REGISTRY.items()}
    assert {n for n, p in policies.items() if p == "wait"} == {"compact", "resume", "undo", "rewind", "init"}
    assert policies["new"] == "cancel"
    assert all(policies[n] == "run" for n in ("plan", "help", "work", "mode", "model", "export"))
    assert commands.during_turn("/compact focus on tests") == "wait" and commands.during_turn("/nope") == "run"


# -- typed into the TUI while a reply streams ---------------------------------


def app_with_store(fake: FakeOpenAI, workspace: Path, data: Path) -> LivePlanApp:
    """The TUI as `liveplan` opens it: its session saved in `data`, so /resume has sessions to reopen."""
    settings = load_settings(base_url=fake.base_url, model="m", mode="plan", workspace=str(workspace), router_llm=False)
    store = open_store(data)

    def build(approver: Any, reviewer: Any) -> Session:
        session = Session(settings, resolve_endpoint(settings), approver=approver, plan_reviewer=reviewer)
        session.attach(store)
        return session

    return LivePlanApp(build, keymap=settings.keymap)


@pytest.mark.parametrize("line", ["/compact", "/resume"])
def test_tui_holds_compact_and_resume_until_the_turn_ends(
    fake: FakeOpenAI, tmp_path: Path, line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("LIVEPLAN_DATA_DIR", str(data))
    fake.script.extend(
        [
            streaming_plan_call(delay=0.04),
            *[{"when": "tools", "text": "final answer"}] * 2,
            {"when": "no_tools", "text": "SUMMARY"},
            {"when": "tools", "text": "after"},
        ]
    )

    async def go() -> None:
        if line == "/resume":  # an older session B to resume
            store = open_store(data)
            other = new_session(fake, tmp_path)
            other.attach(store)
            other.conv.add({"role": "user", "content": "session B's only message"})
            await other.close()
            store.close()
        app = app_with_store(fake, tmp_path, data)
        async with app.run_test(size=(100, 40)) as pilot:
            await started(pilot)
            if line == "/compact":
                with_history(app.session)
            await submit(pilot, "make a plan")
            await wait_for(pilot, lambda: app.session.busy, timeout=5)
            await submit(pilot, line)
            await wait_for(
                pilot,
                lambda: any(
                    "waits for the current turn to end" in str(block.render()) for block in app.chat.query(NoticeBlock)
                ),
            )
            await wait_for(pilot, lambda: not app.turn_running and not app._queue, timeout=20)
            if line == "/resume":  # the held command runs once the turn has ended: wait for what it says
                await wait_for(pilot, lambda: "resumed session" in chat_text(app), timeout=20)
                board_goal = app.session.view.board.latest.goal
                assert board_goal == "", "the resumed session B shows its own (empty) plan"
            else:
                await submit(pilot, "and then?")
                await wait_for(pilot, lambda: "after" in chat_text(app), timeout=20)

    asyncio.run(go())
    if line == "/compact":
        last = fake.main_requests()[-1]["messages"]
        assert any(m["role"] == "tool" for m in last) and any(m.get("content") == "final answer" for m in last)
    else:
        store = open_store(data)
        goals = sorted(store.load(s.id).board.latest.goal for s in store.sessions(10))
        assert goals == ["", "plan made in session A"]


# -- piped into plain mode while a reply streams ------------------------------


@pytest.mark.slow
def test_plain_mode_runs_compact_after_the_turn(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend(
        [
            streaming_plan_call(),
            *[{"when": "tools", "text": "final answer"}] * 2,
            {"when": "no_tools", "text": "SUMMARY"},
            {"when": "tools", "text": "after"},
        ]
    )
    script = "make a plan\n/compact\nand then?\n"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "liveplan_tui.cli",
            "chat",
            "--plain",
            "--base-url",
            fake.base_url,
            "--model",
            "m",
            "--mode",
            "plan",
            "--workspace",
            str(tmp_path),
        ],
        input=script.encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    last = fake.main_requests()[-1]["messages"]
    assert any(m["role"] == "tool" for m in last) and any(m.get("content") == "final answer" for m in last)
