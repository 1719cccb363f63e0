"""The Textual app: renders core events and sends the user's intents to the agent.

Turns run in an async worker on the app's loop (the model call and tools are
async I/O), so the UI stays live; failures of that worker come back through
one `on_worker_state_changed` handler.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import assert_never

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from .. import commands
from ..agent.session import ApprovalRequest, Approver, Decision, Session
from ..events import (
    AssistantMessage,
    Condensed,
    Error,
    Event,
    Notice,
    PlanUpdated,
    Retrying,
    Route,
    StreamReset,
    Subagent,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    Usage,
)
from ..present import describe
from ..store import StoreError
from .messages import CoreEvent, TurnEnded, TurnStarted
from .palette import SlashCommandProvider
from .widgets.approval import ApprovalScreen
from .widgets.chat import (
    MAX_BLOCKS,
    AssistantBlock,
    ChatLog,
    ErrorBlock,
    HistoryReply,
    NoticeBlock,
    ToolBlock,
    UserBlock,
)
from .widgets.plan_panel import PlanPanel
from .widgets.prompt import PromptInput
from .widgets.status import StatusBar

QUIT_WINDOW = 2.0
WELCOME = (
    "LivePlan · give a task and watch its live plan in the Plan panel.\n"
    "Esc cancels a turn · /help lists commands · Ctrl+P opens the palette · Ctrl+C twice quits."
)


class LivePlanApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "LivePlan"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    COMMANDS = App.COMMANDS | {SlashCommandProvider}
    BINDINGS = [
        Binding("escape", "cancel_turn", "Cancel", id="cancel-turn"),
        Binding("ctrl+c", "interrupt", "Quit", id="quit", priority=True),
        Binding("f2", "toggle_plan", "Plan", id="toggle-plan"),
        Binding("ctrl+n", "new_chat", "New chat", id="new-chat"),
        Binding("ctrl+p", "command_palette", "Commands", id="command-palette"),
    ]

    def __init__(
        self,
        make_session: Callable[[Approver], Session],
        *,
        keymap: dict[str, str] | None = None,
        theme: str | None = None,
        notices: list[str] | None = None,
    ):
        super().__init__()
        self.session = make_session(self.ask_approval)
        self._keymap = keymap or {}
        self._theme_name = theme
        self._notices = notices or []
        self._reply: AssistantBlock | None = None
        self._tools: dict[str, ToolBlock] = {}
        self._queue: list[str] = []
        self._turn: Worker[None] | None = None
        self._last_ctrl_c = 0.0

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield ChatLog(id="chat")
            yield PlanPanel(id="plan")
        yield Static(id="completions")
        yield PromptInput(id="prompt")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        if self._theme_name:
            if self._theme_name in self.available_themes:
                self.theme = self._theme_name
            else:
                self.notify(f"unknown theme {self._theme_name!r}; using the default", severity="warning")
        self.refresh_status()
        for notice in self._notices:
            self.notify(notice, severity="warning", timeout=10)
        try:  # SIGTERM: leave the terminal clean; exiting cancels the turn, and each command's supervisor
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: self.exit(return_code=143))
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        self.chat.mount(NoticeBlock(WELCOME))
        if self.session.view.record:
            self.call_after_refresh(self.show_history)
        self.prompt.focus()

    def refresh_status(self, *, route: bool = True) -> None:
        """The status bar from the session's view: after start-up and after every command.

        The route shows the last decision until the mode changes (`route=False` keeps it).
        """
        view = self.session.view
        self.status.endpoint = view.endpoint_label
        self.status.context_limit = view.context_window
        if route:
            self.status.route = f"mode: {view.mode}"
        self.status.sandbox = view.sandbox

    async def show_history(self) -> None:
        """Render a resumed session: its latest messages (capped) and its plan."""
        view = self.session.view
        await self.chat.remove_children()
        await self.chat.add(NoticeBlock(f"resumed session {view.session_id}"))
        blocks: list[Static | HistoryReply | ToolBlock] = []
        calls: dict[str, ToolBlock] = {}
        for msg in view.record:
            raw = msg.get("content")
            content = raw if isinstance(raw, str) else ""
            if msg.get("role") == "user":
                blocks.append(UserBlock(content))
            elif msg.get("role") == "assistant":
                if content:
                    blocks.append(HistoryReply(content))
                for call in msg.get("tool_calls") or ():
                    name, arguments = call["function"]["name"], call["function"].get("arguments", "")
                    tool_block = ToolBlock(call["id"], name, arguments, self.session.describe_call(name, arguments))
                    calls[call["id"]] = tool_block
                    blocks.append(tool_block)
            elif msg.get("role") == "tool" and msg.get("tool_call_id") in calls:
                calls[msg["tool_call_id"]].pending_result = (content, content.startswith("error:"))
        for block in blocks[-MAX_BLOCKS + 1 :]:
            await self.chat.add(block)
            if isinstance(block, ToolBlock) and block.pending_result:
                block.finish(*block.pending_result)
        board = view.board
        self.plan_panel.show(board.latest, finished=board.active.is_empty and not board.latest.is_empty)

    @property
    def chat(self) -> ChatLog:
        return self.query_one("#chat", ChatLog)

    @property
    def plan_panel(self) -> PlanPanel:
        return self.query_one("#plan", PlanPanel)

    @property
    def status(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one("#prompt", PromptInput)

    @property
    def turn_running(self) -> bool:
        return self._turn is not None and self._turn.state in (WorkerState.PENDING, WorkerState.RUNNING)

    # -- user intents ---------------------------------------------------

    @on(PromptInput.Submitted)
    async def _submitted(self, message: PromptInput.Submitted) -> None:
        self.query_one("#completions").remove_class("-visible")
        if message.text.startswith("/"):
            await self.run_command(message.text)
            return
        await self.chat.add(UserBlock(message.text))
        if self.turn_running:
            self._queue.append(message.text)
            self.notify("Queued; it runs when the current turn ends (Esc cancels the turn).", timeout=3)
        else:
            self.start_turn(message.text)

    @on(PromptInput.Changed)
    def _prompt_changed(self, event: PromptInput.Changed) -> None:
        box = self.query_one("#completions", Static)
        text = event.text_area.text
        matches = commands.completions(text) if "\n" not in text else []
        if matches:
            rows = [f"{u}  — {h}" for c in matches for u, h in c.rows()]
            box.update(Content("\n".join(rows[:8])))
        box.set_class(bool(matches), "-visible")

    def insert_command(self, usage: str) -> None:
        """Put a command from the palette into the prompt, ready for its arguments."""
        words = []
        for word in usage.split(" "):
            if word.isupper() or word == "N" or "|" in word:
                break
            words.append(word)
        self.prompt.load_text(" ".join(words) + (" " if len(words) < len(usage.split(" ")) else ""))
        self.prompt.move_cursor(self.prompt.document.end)
        self.prompt.focus()

    async def run_command(self, line: str) -> None:
        mode_before = self.session.view.mode
        result = await commands.run(self.session, line)
        for event in result.events:
            await self.handle_event(event)
        if result.action == "quit":
            self.exit(0)
            return
        if result.action == "resume":
            await self.show_history()
        if result.action == "new":
            if self._turn is not None:
                self._turn.cancel()
            self._queue.clear()
            await self.chat.remove_children()
            self.plan_panel.show(self.session.view.board.latest, finished=False)
            self.status.session_tokens = 0
            self.status.context_used = 0
        if result.message:
            await self.chat.add(ErrorBlock(result.message) if result.error else NoticeBlock(result.message))
        self.refresh_status(route=self.session.view.mode != mode_before or result.action == "new")

    def start_turn(self, text: str) -> None:
        self._turn = self._run_turn(text)

    def action_cancel_turn(self) -> None:
        if self.turn_running and self._turn is not None:
            self._queue.clear()
            self._turn.cancel()

    def action_interrupt(self) -> None:
        now = time.monotonic()
        if now - self._last_ctrl_c < QUIT_WINDOW:
            self.exit(0)
            return
        self._last_ctrl_c = now
        if self.turn_running:
            self.action_cancel_turn()
        self.notify("Press Ctrl+C again to quit.", timeout=QUIT_WINDOW)

    def action_toggle_plan(self) -> None:
        """F2: collapse the panel to its pinned progress line, or open it again; never hide progress."""
        self.plan_panel.toggle_class("-collapsed")

    async def action_new_chat(self) -> None:
        await self.run_command("/new")

    async def ask_approval(self, request: ApprovalRequest) -> Decision:
        """Called from the turn worker; the modal's answer goes back to the gate."""
        return await self.push_screen_wait(ApprovalScreen(request))

    # -- core events ----------------------------------------------------

    @work(group="turn", exit_on_error=False, description="one turn of the agent")
    async def _run_turn(self, text: str) -> None:
        """Posts the turn's events as messages; the handlers below render them in order."""
        self.post_message(TurnStarted())
        try:
            async for event in self.session.submit(text):
                self.post_message(CoreEvent(event))
        finally:
            self.post_message(TurnEnded())

    @on(TurnStarted)
    def _turn_started(self) -> None:
        self.status.busy = True

    @on(CoreEvent)
    async def _core_event(self, message: CoreEvent) -> None:
        try:
            await self.handle_event(message.event)
        except NoMatches:  # the app is closing: its widgets are gone, and so is the need to show this
            pass

    @on(TurnEnded)
    async def _turn_ended(self) -> None:
        try:
            await self._end_reply()
            for block in self._tools.values():
                block.finish("cancelled", True)
            self._tools.clear()
            self.status.busy = False
        except NoMatches:
            pass

    async def _end_reply(self) -> None:
        if self._reply is not None:
            reply, self._reply = self._reply, None
            await reply.finish()

    async def handle_event(self, event: Event) -> None:
        """The one place core events become widgets; a kind left out fails `assert_never`."""
        chat = self.chat
        match event:
            case Route():
                self.status.route = f"{event.strategy} ({event.level})"
                await chat.add(NoticeBlock(f"route: {event.strategy} · {event.level}: {event.reason}"))
            case TextDelta():
                if self._reply is None:
                    self._reply = AssistantBlock()
                    await chat.add(self._reply)
                await self._reply.write(event.text)
            case StreamReset():
                if self._reply is not None:
                    reply, self._reply = self._reply, None
                    await reply.finish()
                    await reply.remove()
                await chat.add(NoticeBlock("the stream was cut; retrying", "warning"))
            case AssistantMessage() | TurnFinished():
                await self._end_reply()
            case ToolCallStarted():
                block = ToolBlock(event.call_id, event.name, event.arguments, event.summary)
                self._tools[event.call_id] = block
                await chat.add(block)
            case ToolCallFinished():
                if (done := self._tools.pop(event.call_id, None)) is not None:
                    done.finish(event.result, event.is_error)
            case PlanUpdated():
                self.plan_panel.show(event.new, finished=event.archived)
                if event.explanation:
                    await chat.add(NoticeBlock(f"plan: {event.explanation}"))
            case Usage():
                self.status.context_used = event.prompt_tokens
                self.status.context_limit = event.context_window
                self.status.estimated = event.estimated
                self.status.session_tokens += event.total_tokens
            case Retrying() | Condensed() | Subagent():
                kind = "warning" if isinstance(event, Retrying) else "info"
                await chat.add(NoticeBlock(describe(event, verbose=True) or "", kind))
            case Notice():
                await chat.add(NoticeBlock(event.message, "warning"))
                self.notify(event.message, severity="warning", timeout=10)
            case Error():
                await chat.add(ErrorBlock(event.message))
                self.notify(event.message, title="Error", severity="error", timeout=10)
            case _:
                assert_never(event)

    async def _report_end(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.CANCELLED:
            await self.chat.add(NoticeBlock("interrupted", "warning"))
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            message = (
                str(error) if isinstance(error, StoreError) else f"internal error: {type(error).__name__}: {error}"
            )
            await self.chat.add(ErrorBlock(message))
            self.notify(message, title="Error", severity="error", timeout=10)

    async def on_unmount(self) -> None:
        await self.session.close()

    @on(Worker.StateChanged)
    async def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The one handler for how a turn ended; quiet once the app is closing."""
        if event.worker is not self._turn or not self.screen_stack:
            return
        try:
            await self._report_end(event)
        except NoMatches:
            return
        if event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED, WorkerState.ERROR) and self._queue:
            self.start_turn(self._queue.pop(0))
