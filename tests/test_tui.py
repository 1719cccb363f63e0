"""The TUI, driven with Pilot against the fake OpenAI server."""

from __future__ import annotations

import json
from pathlib import Path

from fake_openai import FakeOpenAI, system_prompt
from test_exec import three_step_script
from textual import events
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input
from tui_helpers import chat_text, make_app, started, submit, wait_for

from liveplan_tui.ui.messages import CoreEvent
from liveplan_tui.ui.widgets.approval import ApprovalScreen
from liveplan_tui.ui.widgets.chat import ErrorBlock, ToolBlock, UserBlock
from liveplan_tui.ui.widgets.reply import AssistantBlock


async def test_task_streams_reply_and_plan_goes_to_done(fake: FakeOpenAI) -> None:
    fake.script.append({"when": "classify", "json": {"strategy": "plan", "reason": "several steps"}})
    fake.script.extend(three_step_script())
    app = make_app(fake.base_url)
    seen: list[str] = []

    def observe(message: Message) -> None:
        if isinstance(message, CoreEvent) and message.event.type == "plan_updated":
            seen.append(message.event.new.progress())

    async with app.run_test(size=(120, 40), message_hook=observe) as pilot:
        await submit(pilot, "reverse a string")
        await wait_for(pilot, lambda: not app.turn_running and app.plan_panel.finished)
        assert seen == ["0/3 done", "1/3 done", "2/3 done", "3/3 done"]
        assert app.plan_panel.plan.progress() == "3/3 done"
        replies = [b for b in app.chat.children if isinstance(b, AssistantBlock)]
        assert replies[-1].text == "Here is `reverse(s) = s[::-1]`."
        assert app.status.route == "plan (llm)"
        assert "route: plan · llm: several steps" in chat_text(app)
        assert app.status.session_tokens > 0
        steps = app.plan_panel.query(".step")
        assert [s.has_class("status-completed") for s in steps] == [True, True, True]


async def test_in_progress_step_is_highlighted(fake: FakeOpenAI) -> None:
    fake.script.extend(three_step_script()[:2])
    fake.script.append({"text": "pausing " * 200, "chunk": 4, "delay": 0.02})
    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "go")
        await wait_for(pilot, lambda: app.plan_panel.plan.progress() == "1/3 done")
        rows = list(app.plan_panel.query(".step"))
        assert [r.has_class("status-in_progress") for r in rows] == [False, True, False]
        app.action_cancel_turn()


async def test_escape_cancels_mid_stream_and_next_message_works(fake: FakeOpenAI) -> None:
    fake.script.append({"text": "word " * 2000, "chunk": 5, "delay": 0.01})
    fake.script.append({"text": "fresh answer"})
    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "write a lot")
        await wait_for(pilot, lambda: any(isinstance(b, AssistantBlock) and b.text for b in app.chat.children))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.turn_running, timeout=5)  # a hang guard; bench/latency.py measures it
        assert "interrupted" in chat_text(app)
        await submit(pilot, "again")
        await wait_for(pilot, lambda: not app.turn_running and "fresh answer" in chat_text(app))
        sent = fake.model_requests()[-1]["messages"]
        assert sent[-1] == {"role": "user", "content": "again"}
        assert sent[-2]["content"].endswith("[interrupted by the user]")


def write_call(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


async def test_approve_once_and_deny_with_reason(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([write_call("a.txt", "A"), {"text": "wrote a"}, write_call("b.txt", "B"), {"text": "ok"}])
    app = make_app(fake.base_url, workspace=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "write a")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        assert isinstance(app.screen, ApprovalScreen)
        assert "create a.txt" in app.screen.request.preview and "+A" in app.screen.request.preview
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.turn_running)
        assert (tmp_path / "a.txt").read_text() == "A"
        await submit(pilot, "write b")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.click("#deny-reason")
        await pilot.press(*"not now")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.turn_running)
        assert not (tmp_path / "b.txt").exists()
        tool_msg = [m for m in fake.model_requests()[-1]["messages"] if m["role"] == "tool"][-1]
        assert tool_msg["content"].startswith("error: the user denied write_file: not now")
        blocks = [b for b in app.chat.children if isinstance(b, ToolBlock)]
        assert blocks[-1].has_class("failed") and not blocks[0].has_class("failed")


async def test_approve_always_covers_the_session(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([write_call("a.txt", "A"), write_call("b.txt", "B"), {"text": "done"}])
    app = make_app(fake.base_url, workspace=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "write both")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("a")
        await wait_for(pilot, lambda: not app.turn_running)
        assert (tmp_path / "a.txt").exists() and (tmp_path / "b.txt").exists()


async def test_slash_commands(fake: FakeOpenAI) -> None:
    fake.script.append({"text": "ok"})
    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "/help")
        assert "/plan add TEXT" in chat_text(app) and "/mode auto|direct|plan|strict" in chat_text(app)
        await submit(pilot, "/plan add Write docs")
        await submit(pilot, "/plan add Review")
        await submit(pilot, "/plan edit 2 Review the docs")
        await submit(pilot, "/plan done 1")
        assert app.plan_panel.plan.render().splitlines()[1:3] == [
            "1. [completed] Write docs",
            "2. [pending] Review the docs",
        ]
        await submit(pilot, "/plan cancel 7")
        assert "plan unchanged: unknown step id 7" in chat_text(app)
        await submit(pilot, "/plan")
        assert "1/2 done" in chat_text(app)
        await submit(pilot, "/mode strict")
        assert app.session.view.mode == "strict" and "strict" in app.status.route
        await submit(pilot, "/mode plan")
        assert app.status.route == "mode: plan"
        await submit(pilot, "/mode bogus")
        assert any(isinstance(b, ErrorBlock) and "choose one of" in str(b.render()) for b in app.chat.children)
        await submit(pilot, "/model other-model")
        assert app.session.endpoint.model == "other-model" and "other-model" in app.status.endpoint
        await submit(pilot, "hello")
        await wait_for(pilot, lambda: not app.turn_running and len(fake.model_requests()) == 1)
        assert fake.model_requests()[0]["model"] == "other-model"
        assert "2. [pending] Review the docs" in system_prompt(fake.model_requests()[0])
        await submit(pilot, "/plan cancel 2")
        assert app.plan_panel.finished  # every step done or cancelled: archived, shown as finished
        await submit(pilot, "/plan clear")
        await submit(pilot, "/nope")
        assert "unknown command /nope" in chat_text(app)
        await submit(pilot, "/new")
        assert app.session.conv.messages == [] and len(app.chat.children) == 1
        await submit(pilot, "/quit")
        await pilot.pause()
    assert app.return_code == 0


async def test_plan_add_reaches_the_next_request(fake: FakeOpenAI) -> None:
    # the third reply answers LivePlan's question about the step left in progress
    fake.script.extend(
        [
            three_step_script()[0],
            {"text": "thinking " * 100, "chunk": 3, "delay": 0.01},
            {"text": "step 1 is still open: waiting for you"},
            {"text": "next"},
        ]
    )
    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "start")
        await wait_for(pilot, lambda: app.plan_panel.plan.total == 3)
        await submit(pilot, "/plan add Write docs")  # while the reply is streaming
        await wait_for(pilot, lambda: not app.turn_running)
        await submit(pilot, "continue")
        await wait_for(pilot, lambda: not app.turn_running and len(fake.model_requests()) >= 4)
        assert "4. [pending] Write docs" in system_prompt(fake.model_requests()[3])


async def test_prompt_history_newline_and_completion(fake: FakeOpenAI) -> None:
    fake.default = {"text": "ok"}
    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "first")
        await wait_for(pilot, lambda: not app.turn_running)
        await submit(pilot, "second")
        await wait_for(pilot, lambda: not app.turn_running)
        await pilot.press("up")
        assert app.prompt.text == "second"
        await pilot.press("up")
        assert app.prompt.text == "first"
        await pilot.press("down", "down")
        assert app.prompt.text == ""
        await pilot.press("a", "ctrl+j", "b")
        assert app.prompt.text == "a\nb"
        app.prompt.clear()
        await pilot.press("/", "m", "o")
        assert app.query_one("#completions").has_class("-visible")
        assert "/mode" in str(app.query_one("#completions").render()) and "/model" in str(
            app.query_one("#completions").render()
        )
        await pilot.press("d", "e", "l", "tab")
        assert app.prompt.text == "/model "


async def test_messages_typed_while_streaming_are_queued(fake: FakeOpenAI) -> None:
    fake.script.extend([{"text": "slow " * 300, "chunk": 5, "delay": 0.02}, {"text": "second reply"}])
    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "one")
        await wait_for(pilot, lambda: app.turn_running)
        await submit(pilot, "two")
        assert app._queue == ["two"] and len(fake.model_requests()) == 1
        await wait_for(pilot, lambda: len(fake.model_requests()) == 2 and not app.turn_running, timeout=20)
        assert fake.model_requests()[1]["messages"][-1]["content"] == "two"


async def test_core_errors_show_and_app_survives(fake: FakeOpenAI) -> None:
    fake.script.extend([{"status": 401}, {"text": "back"}])
    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "hi")
        await wait_for(
            pilot, lambda: not app.turn_running and any(isinstance(b, ErrorBlock) for b in app.chat.children)
        )
        assert "authentication failed" in chat_text(app)
        assert any("authentication failed" in n.message for n in app._notifications)
        await submit(pilot, "again")
        await wait_for(pilot, lambda: not app.turn_running and "back" in chat_text(app))


async def test_bindings_are_remappable(fake: FakeOpenAI) -> None:
    app = make_app(fake.base_url, keymap={"toggle-plan": "f3"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        assert not app.plan_panel.has_class("-collapsed")
        await pilot.press("f3")
        assert app.plan_panel.has_class("-collapsed")


async def test_narrow_terminal_puts_plan_below_chat(fake: FakeOpenAI) -> None:
    app = make_app(fake.base_url)
    async with app.run_test(size=(70, 40)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-narrow")
        chat, plan = app.chat.region, app.plan_panel.region
        assert plan.y >= chat.bottom and plan.width > 60


async def test_ctrl_c_twice_quits(fake: FakeOpenAI) -> None:
    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+c")
        assert app.is_running
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 0


async def test_tool_block_expands_to_arguments_and_result(fake: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("print(1)\n")
    fake.script.extend([{"tool_calls": [{"name": "read_file", "arguments": {"path": "x.py"}}]}, {"text": "read it"}])
    app = make_app(fake.base_url, workspace=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "read x")
        await wait_for(pilot, lambda: not app.turn_running)
        block = next(b for b in app.chat.children if isinstance(b, ToolBlock))
        assert block.collapsed and block.title.startswith("✔ read_file x.py")
        block.collapsed = False
        await pilot.pause()
        detail = str(block.detail.render())
        assert json.loads(detail.splitlines()[0].removeprefix("arguments: ")) == {"path": "x.py"}
        assert "1  print(1)" in detail


async def test_long_sessions_keep_only_recent_blocks_mounted(fake: FakeOpenAI) -> None:
    from liveplan_tui.ui.widgets.chat import MAX_BLOCKS, UserBlock

    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        for i in range(500):
            await app.chat.add(UserBlock(f"message {i}"))
        await pilot.pause()
        assert len(app.chat.children) == MAX_BLOCKS
        assert str(app.chat.children[-1].render()) == "message 499"
        assert app.chat.is_vertical_scroll_end or app.chat.max_scroll_y == 0


async def test_compact_resume_and_export_commands(fake: FakeOpenAI, tmp_path: Path) -> None:
    from liveplan_tui.config import data_dir
    from liveplan_tui.store import open_store

    fake.default = {"text": "Goal: testing.\nWhat was done: chatted."}
    fake.script.extend(
        [{"when": "tools", "text": "first answer " * 50}, {"when": "tools", "text": "second answer " * 50}]
    )
    app = make_app(fake.base_url)
    store = open_store(data_dir())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        first = app.session.attach(store)
        await submit(pilot, "first question about the parser")
        await wait_for(pilot, lambda: not app.turn_running)
        await submit(pilot, "second question about the lexer")
        await wait_for(pilot, lambda: not app.turn_running)
        await submit(pilot, "/compact parser")
        await wait_for(pilot, lambda: "condensed" in chat_text(app))
        assert "Focus on: parser" in json.dumps(fake.requests[-1]["messages"])
        assert app.session.conv.summary and len(app.session.conv.record) == 4
        out = tmp_path / "t.md"
        await submit(pilot, f"/export {out}")
        assert out.read_text().startswith("# first question about the parser")
        await submit(pilot, "/new")
        assert app.session.session_id != first
        await submit(pilot, "/resume")
        await wait_for(pilot, lambda: app.session.session_id == first)
        assert "first question about the parser" in chat_text(app) and "resumed session" in chat_text(app)
        assert app.session.conv.summary  # the condensed context came back too


async def test_plan_panel_recomposes_only_when_the_plan_changes(fake: FakeOpenAI) -> None:
    from snapshot_states import plan_at

    from liveplan_tui.events import PlanUpdated, TextDelta

    app = make_app(fake.base_url)
    step_rows: list[object] = []

    def observe(message: Message) -> None:
        """Each recompose of the panel mounts its step rows afresh."""
        sender = getattr(message, "_sender", None)
        if isinstance(message, events.Mount) and isinstance(sender, Widget) and sender.has_class("step"):
            step_rows.append(sender)

    async with app.run_test(size=(120, 40), message_hook=observe) as pilot:
        await app.handle_event(PlanUpdated(old=plan_at(0), new=plan_at(1)))
        await pilot.pause()
        assert len(step_rows) == 3
        for _ in range(200):
            await app.handle_event(TextDelta(text="token "))
        await app.handle_event(PlanUpdated(old=plan_at(1), new=plan_at(1)))  # same plan again: no work
        await pilot.pause()
        assert len(step_rows) == 3
        await app.handle_event(PlanUpdated(old=plan_at(1), new=plan_at(2)))
        await pilot.pause()
        assert len(step_rows) == 6


async def test_progress_line_is_pinned_in_every_layout(fake: FakeOpenAI) -> None:
    from snapshot_states import plan_at

    from liveplan_tui.events import PlanUpdated

    for size in ((60, 20), (70, 24), (120, 40)):
        app = make_app(fake.base_url)
        async with app.run_test(size=size) as pilot:
            await app.handle_event(PlanUpdated(old=plan_at(0), new=plan_at(1)))
            await pilot.pause()
            line = app.plan_panel.query_one("#plan-headline")
            assert str(line.render()) == "1/3 · Add a --verbose flag"
            region = line.region
            assert region.height == 1 and 0 <= region.y < size[1] - 3, (size, region)  # on screen, above the prompt
            body = app.plan_panel.query_one("#plan-body")
            body.scroll_end(animate=False)
            await pilot.pause()
            assert line.region == region  # the body scrolls; the line stays


async def test_f2_collapses_the_panel_to_its_progress_line(fake: FakeOpenAI) -> None:
    from snapshot_states import plan_at

    from liveplan_tui.events import PlanUpdated

    app = make_app(fake.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.handle_event(PlanUpdated(old=plan_at(2), new=plan_at(3), archived=True))
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause()
        panel = app.plan_panel
        assert panel.collapsed and panel.display
        assert str(panel.query_one("#plan-headline").render()) == "3/3 · finished"
        assert not panel.query_one("#plan-body").display
        assert panel.region.height <= 3
        await pilot.press("f2")
        await pilot.pause()
        assert not panel.collapsed and panel.query_one("#plan-body").display


async def test_plan_review_edit_in_place_then_enter_approves(fake: FakeOpenAI) -> None:
    """F3 turns plan approval on; the review view edits step 2 by typing; the model's next call names it."""
    from fake_openai import system_prompt

    steps = [{"description": f"Step {i}", **({"status": "in_progress"} if i == 1 else {})} for i in (1, 2, 3)]
    fake.script.extend(
        [
            {"tool_calls": [{"name": "update_plan", "arguments": {"goal": "Do it", "steps": steps}}]},
            {"text": "Working on it."},
        ]
    )
    app = make_app(fake.base_url, mode="plan")
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await pilot.press("f3")
        assert app.session.view.plan_approval == "ask" and "plans: ask" in str(app.status.render())
        await submit(pilot, "do it in three steps")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "PlanReviewScreen")
        await pilot.pause(0.2)
        step_two = list(app.screen.query(".plan-review-step").results(Input))[1]
        step_two.focus()
        step_two.value = ""
        await pilot.press(*"withtests")  # typed as a user would
        await pilot.press("ctrl+down")  # move it below step 3
        await pilot.pause(0.1)
        assert "moved step 2 to position 3" in str(app.screen.query_one("#plan-review-changes").render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.turn_running, timeout=15)
        follow = fake.main_requests()[1]
        tool_result = [m for m in follow["messages"] if m["role"] == "tool"][-1]["content"]
        assert 'reworded step 2: "Step 2" -> "withtests"' in tool_result
        assert "moved step 2 to position 3" in tool_result
        assert "3. [pending] withtests" in system_prompt(follow)


async def test_plan_review_reject_with_a_reason(fake: FakeOpenAI) -> None:
    steps = [{"description": "Only step", "status": "in_progress"}]
    fake.script.extend(
        [
            {"tool_calls": [{"name": "update_plan", "arguments": {"goal": "Do it", "steps": steps}}]},
            {"text": "Alright, no plan."},
        ]
    )
    app = make_app(fake.base_url, mode="plan", plan_approval="ask")
    async with app.run_test(size=(100, 30)) as pilot:
        await submit(pilot, "do it")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "PlanReviewScreen")
        await pilot.press("ctrl+r")
        await pilot.press(*"nope")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.turn_running, timeout=15)
        tool_result = [m for m in fake.main_requests()[1]["messages"] if m["role"] == "tool"][-1]["content"]
        assert "rejected this plan: nope" in tool_result
        assert app.session.view.board.active.is_empty


async def test_a_running_tool_shows_its_progress_then_its_result(fake: FakeOpenAI) -> None:
    from liveplan_tui.events import ToolCallFinished, ToolCallStarted, ToolProgress

    app = make_app(fake.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        await app.handle_event(ToolCallStarted(call_id="c1", name="run_shell", arguments="{}", summary="$ make"))
        await app.handle_event(ToolProgress(call_id="c1", name="run_shell", detail="running for 4s"))
        await app.handle_event(ToolProgress(call_id="other", name="run_shell", detail="not this one"))
        block = app.chat.query(ToolBlock).last()
        assert "$ make · running for 4s" in str(block.title)
        await app.handle_event(ToolCallFinished(call_id="c1", name="run_shell", result="exit code: 0", is_error=False))
        await pilot.pause()
        assert str(block.title) == "✔ $ make"


async def test_the_plan_shows_each_steps_evidence(fake: FakeOpenAI, tmp_path: Path) -> None:
    """The panel and /plan show what the tools did for each step, and a step done with nothing behind it."""
    steps = [{"description": "Write the code", "status": "in_progress"}, {"description": "Decide the name"}]
    fake.script.extend(
        [
            {"tool_calls": [{"name": "update_plan", "arguments": {"goal": "Ship", "steps": steps}}]},
            {"tool_calls": [{"name": "write_file", "arguments": {"path": "a.py", "content": "x = 1\n"}}]},
            {"tool_calls": [{"name": "run_shell", "arguments": {"command": "python3 a.py"}}]},
            {"tool_calls": [{"name": "update_plan", "arguments": {"updates": [
                {"id": 1, "status": "completed"}, {"id": 2, "status": "completed"}]}}]},
            {"text": "Shipped."},
        ]
    )  # fmt: skip
    app = make_app(fake.base_url, tmp_path, approval="never-ask", mode="plan")
    async with app.run_test(size=(140, 40)) as pilot:
        await started(pilot)
        await submit(pilot, "ship it")
        await wait_for(pilot, lambda: not app.turn_running, timeout=20)
        panel = " ".join(str(s.render()) for s in app.plan_panel.query(".step-line"))
        assert "1 file · 1 command ✔" in panel and "no recorded work" in panel
        await submit(pilot, "/plan")
        assert "step 1: 1 file · 1 command ✔" in chat_text(app) and "step 2: no recorded work" in chat_text(app)


async def test_page_keys_page_the_chat_while_the_prompt_keeps_its_text(fake: FakeOpenAI) -> None:
    app = make_app(fake.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        for i in range(30):
            await app.chat.add(UserBlock(f"message {i}\nsecond line\nthird line"))
        await pilot.pause(0.2)
        await pilot.press(*"draft")
        bottom = app.chat.max_scroll_y
        assert bottom > 0 and app.chat.scroll_y == bottom
        await pilot.press("pageup")
        await pilot.pause(0.2)
        assert app.chat.scroll_y < bottom
        await pilot.press("pageup")
        await pilot.pause(0.2)
        assert app.chat.scroll_y <= max(0, bottom - 2 * (app.chat.size.height - 1))  # a page each time
        await pilot.press("pagedown", "pagedown", "pagedown")
        await pilot.pause(0.2)
        assert app.chat.scroll_y == bottom
        assert app.prompt.text == "draft" and app.prompt.has_focus


async def test_page_keys_can_be_remapped_by_their_ids(fake: FakeOpenAI) -> None:
    app = make_app(fake.base_url, keymap={"chat-page-up": "ctrl+b"})
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        for i in range(30):
            await app.chat.add(UserBlock(f"message {i}\nsecond line\nthird line"))
        await pilot.pause(0.2)
        bottom = app.chat.max_scroll_y
        await pilot.press("ctrl+b")
        await pilot.pause(0.2)
        assert app.chat.scroll_y < bottom
