"""The Textual app: renders core events and sends the user's intents to the agent.

Turns (and goals) run in an async worker on the app's loop, so the UI stays live; failures of that worker come
back through one `on_worker_state_changed` handler. The app draws first: the session (its settings, client, store
and the `openai` SDK) is built in a thread worker after the first frame, and a message typed before it is ready waits
in the queue.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from .. import commands
from ..errors import LivePlanError
from ..textsafe import terminal_safe
from .goal_control import goal_command
from .idle_gc import IdleCollector
from .messages import CoreEvent, TurnEnded, TurnStarted
from .palette import SlashCommandProvider
from .relay import relay
from .widgets.approval import ApprovalScreen
from .widgets.chat import (
    MAX_BLOCKS,
    WELCOME,
    ChatLog,
    ErrorBlock,
    NoticeBlock,
    UserBlock,
)
from .widgets.plan_panel import PlanPanel
from .widgets.prompt import PromptInput
from .widgets.status import StatusBar

if TYPE_CHECKING:  # the core, pydantic and Markdown load after the first frame, not before it
    from ..agent.session import ApprovalRequest, Approver, Decision, PlanReview, PlanReviewer, Session
    from ..choices import PlanApproval
    from ..events import Event
    from ..plan import LivePlan
    from .render import EventRenderer

QUIT_WINDOW = 2.0


class LivePlanApp(App[int]):
    CSS_PATH = "app.tcss"
    AUTO_FOCUS = "#prompt"
    TITLE = "LivePlan"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    COMMANDS = App.COMMANDS | {SlashCommandProvider}
    BINDINGS = [
        Binding("escape", "cancel_turn", "Cancel", id="cancel-turn"),
        Binding("ctrl+c", "interrupt", "Quit", id="quit", priority=True),
        Binding("f2", "toggle_plan", "Plan", id="toggle-plan"),
        Binding("f3", "toggle_plan_approval", "Plan approval", id="toggle-plan-approval"),
        Binding("ctrl+n", "new_chat", "New chat", id="new-chat"),
        Binding("ctrl+p", "command_palette", "Commands", id="command-palette"),
    ]

    def notify(self, message: str, *, title: str = "", markup: bool = True, **options: Any) -> None:
        """Every toast is plain terminal-safe text: a notice may be a hook's or an MCP server's words."""
        super().notify(terminal_safe(message), title=terminal_safe(title), markup=False, **options)

    def __init__(
        self,
        make_session: Callable[[Approver, PlanReviewer], Session],
        *,
        keymap: dict[str, str] | None = None,
        theme: str | None = None,
        notices: list[str] | None = None,
    ):
        super().__init__()
        self._make_session = make_session
        self._session: Session | None = None
        self.start_error: Exception | None = None  # why the session could not be built; re-raised after exit
        self._keymap = keymap or {}
        self._theme_name = theme
        self._notices = notices or []
        self._renderer: EventRenderer | None = None
        self._queue: list[str] = []
        self._turn: Worker[None] | None = None
        self._last_ctrl_c = 0.0
        self.idle_gc = IdleCollector()

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield ChatLog(NoticeBlock(WELCOME), id="chat")
            yield PlanPanel(id="plan")
        yield Static(id="completions")
        yield PromptInput(id="prompt")
        yield StatusBar(id="status")
        yield Footer(show_command_palette=False)  # our own Ctrl+P binding is listed (and remappable)

    def on_mount(self) -> None:
        try:  # SIGTERM: leave the terminal clean; exiting cancels the turn, and each command's supervisor
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: self.exit(return_code=143))
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        self.status.endpoint = "starting…"
        self.call_after_refresh(lambda: self.run_worker(self._build_session, thread=True, group="start"))

    def _build_session(self) -> None:
        """In a thread, after the first frame: settings, client, store; then back on the loop."""
        try:
            session = self._make_session(self.ask_approval, self.review_plan)
        except Exception as exc:  # a bad config or a locked session: one line after the app closes
            self.call_from_thread(self._failed_to_start, exc)
            return
        self.call_from_thread(self._session_ready, session)

    def _failed_to_start(self, exc: Exception) -> None:
        self.start_error = exc
        self.exit(return_code=2)

    def _session_ready(self, session: Session) -> None:
        self._session = session
        settings = session.settings
        if keymap := self._keymap or settings.keymap:
            self.set_keymap(keymap)
        theme = self._theme_name or settings.theme
        if theme and theme in self.available_themes:
            self.theme = theme
        elif theme:
            self.notify(f"unknown theme {theme!r}; using the default", severity="warning")
        from ..present import start_notices

        for notice in [*self._notices, *start_notices(settings.approval, session.view.key_withheld)]:
            self.notify(notice, severity="warning", timeout=10)
        self.refresh_status()
        self.idle_gc.start(self)
        self.call_later(self._catch_up)

    async def _catch_up(self) -> None:
        """A resumed session's history, then whatever was typed while starting, in order."""
        if self.session.view.record:
            typed = [child for child in self.chat.children if isinstance(child, UserBlock)]
            await self.show_history()
            for block in typed:
                await self.chat.add(UserBlock(block.text))
        await self._drain_queue()

    async def _drain_queue(self) -> None:
        """What was typed while LivePlan was busy, in order: commands run, and the next message starts a turn."""
        while self._queue and not self.turn_running:
            line = self._queue.pop(0)
            if line.startswith("/"):
                await self.run_command(line)
            else:
                self.start_turn(line)

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the session is still starting")
        return self._session

    @property
    def renderer(self) -> EventRenderer:
        if self._renderer is None:
            from .render import EventRenderer

            self._renderer = EventRenderer(self)
        return self._renderer

    @property
    def ready(self) -> bool:
        return self._session is not None

    def refresh_status(self, *, route: bool = True) -> None:
        """The status bar from the session's view, after start-up and every command (`route=False` keeps the route)."""
        view = self.session.view
        self.status.endpoint = view.endpoint_label
        self.status.context_limit = view.context_window
        if route:
            self.status.route = f"mode: {view.mode}"
        self.status.sandbox = view.sandbox
        self.status.plan_approval = view.plan_approval
        self.status.instructions = view.instructions

    async def show_history(self) -> None:
        """Render a resumed session: its latest messages (capped) and its plan."""
        view = self.session.view
        await self.chat.remove_children()
        await self.chat.add(NoticeBlock(f"resumed session {view.session_id}"))
        board = view.board  # the plan first, then the latest messages: what the first screen shows
        self.plan_panel.show(board.latest, finished=board.active.is_empty and not board.latest.is_empty)
        from .history import history_blocks

        await self.chat.add_history(history_blocks(view.record, self.session.describe_call, MAX_BLOCKS - 1))

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
        if not self.ready:
            self._queue.append(message.text)
            self.notify("Starting up; your message is sent as soon as LivePlan is ready.", timeout=3)
        elif self.turn_running:
            self._queue.append(message.text)
            self.notify("Queued; it runs when the current turn ends (Esc cancels the turn).", timeout=3)
        else:
            self.start_turn(message.text)

    @on(PromptInput.PageChat)
    def _page_chat(self, event: PromptInput.PageChat) -> None:
        self.chat.scroll_page_up() if event.direction < 0 else self.chat.scroll_page_down()

    @on(PromptInput.Changed)
    def _prompt_changed(self, event: PromptInput.Changed) -> None:
        self.idle_gc.typed()
        box = self.query_one("#completions", Static)
        text = event.text_area.text
        matches = commands.completions(text) if "\n" not in text else []
        if matches:
            rows = [f"{u}  — {h}" for c in matches for u, h in c.rows()]
            box.update(Content("\n".join(rows[:8])))
        box.set_class(bool(matches), "-visible")

    async def run_command(self, line: str) -> None:
        if not self.ready:
            self._queue.append(line)
            return
        policy = commands.during_turn(line)
        if policy != "run" and (self.turn_running or self.session.busy):
            if policy == "cancel":
                self.action_cancel_turn()
            self._queue.append(line)  # run by `_drain_queue` when the turn has ended
            await self.chat.add(NoticeBlock(f"{line.split()[0]} waits for the current turn to end"))
            return
        mode_before = self.session.view.mode
        result = await commands.run(self.session, line)
        for event in result.events:
            await self.handle_event(event)
        if result.action == "quit":
            self.exit(0)
            return
        if result.action == "resume":
            await self.show_history()
        if result.action == "goal":
            await goal_command(self, result.argument)
        if result.action == "new":  # a running turn was cancelled first (its policy), so only its queue is left
            self._queue.clear()
            await self.chat.remove_children()
            self.plan_panel.show(self.session.view.board.latest, finished=False)
            self.status.session_tokens = 0
            self.status.context_used = 0
        if result.message:
            await self.chat.add(ErrorBlock(result.message) if result.error else NoticeBlock(result.message))
        self.refresh_status(route=self.session.view.mode != mode_before or result.action == "new")

    def start_turn(self, text: str) -> None:
        self._turn = self._run_turn(self.session.submit(text))

    def queue_line(self, line: str) -> None:
        """Hold a line (a message or a command) until the running turn ends."""
        self._queue.append(line)

    def start_events(self, events: AsyncIterator[Event]) -> None:
        """Run a stream of core events (a goal's turns) the way a turn runs: one worker, Esc cancels it."""
        self._turn = self._run_turn(events)

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

    def action_toggle_plan_approval(self) -> None:
        """F3: review each new plan before it runs (ask), or let it run at once (auto)."""
        if not self.ready:
            return
        value: PlanApproval = "auto" if self.session.view.plan_approval == "ask" else "ask"
        self.session.set_plan_approval(value)
        self.refresh_status(route=False)
        self.notify(f"plan approval: {value}" + (" (new plans wait for your review)" if value == "ask" else ""))

    async def review_plan(self, plan: LivePlan) -> PlanReview:
        """Called from the turn worker when a new plan needs the user's review."""

        from .widgets.plan_review import PlanReviewScreen

        return await self.push_screen_wait(PlanReviewScreen(plan, self.session.findings()))

    async def action_new_chat(self) -> None:
        await self.run_command("/new")

    async def ask_approval(self, request: ApprovalRequest) -> Decision:
        """Called from the turn worker; the modal's answer goes back to the gate."""
        return await self.push_screen_wait(ApprovalScreen(request))

    # -- core events ----------------------------------------------------

    @work(group="turn", exit_on_error=False, description="one turn of the agent")
    async def _run_turn(self, events: AsyncIterator[Event]) -> None:
        """Posts the turn's events as messages; the handlers below render them in order."""
        self.post_message(TurnStarted())
        try:
            await relay(events, self.post_message, CoreEvent)
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
            await self.renderer.turn_ended()
            self.status.busy = False
        except NoMatches:
            pass

    async def handle_event(self, event: Event) -> None:
        """The one place core events become widgets (see `EventRenderer`)."""
        await self.renderer.handle(event)

    async def _report_end(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.CANCELLED:
            await self.chat.add(NoticeBlock("interrupted", "warning"))
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            known = isinstance(error, LivePlanError)
            message = str(error) if known else f"internal error: {type(error).__name__}: {error}"
            await self.chat.add(ErrorBlock(message))
            self.notify(message, title="Error", severity="error", timeout=10)

    async def on_unmount(self) -> None:
        self.idle_gc.stop()
        if self._session is not None:
            await self._session.close()

    @on(Worker.StateChanged)
    async def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The one handler for how a turn ended; quiet once the app is closing."""
        if event.worker is not self._turn or not self.screen_stack:
            return
        try:
            await self._report_end(event)
        except NoMatches:
            return
        if event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED, WorkerState.ERROR):
            await self._drain_queue()
