"""`liveplan chat --plain`: a line-mode chat for plain terminals, screen readers and demos.

Same core, same slash commands, same approvals as the TUI: prompt-toolkit
reads lines (with history and slash-command completion), replies stream as
plain text, and the plan is printed compactly whenever it changes.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, InMemoryHistory

from . import commands
from .agent.goals import Budget, pursue
from .agent.session import ApprovalRequest, Decision, PlanReview, Session
from .config import Endpoint, Settings, data_dir
from .events import (
    AssistantMessage,
    Error,
    Event,
    GoalFinished,
    GoalStarted,
    PlanUpdated,
    StreamReset,
    ToolCallStarted,
    ToolProgress,
    TurnFinished,
)
from .lines import EditorLines, Lines, LineTooLong, PipedLines
from .plan import LivePlan, PlanError
from .plan.review import DRAFT_COMMANDS, PlanDraft, changes, edited_by_command
from .present import describe, plan_lines
from .store import Store
from .textsafe import clean_text, terminal_safe, visible

PREVIEW_LINES = 200
ENDS_STREAM = (StreamReset, AssistantMessage, ToolCallStarted, ToolProgress, PlanUpdated, Error, TurnFinished)
MAX_INPUT_CHARS = 1_000_000


class SlashCompleter(Completer):
    """Completes slash commands from the same registry as /help and the TUI."""

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        for cmd in commands.completions(text):
            if " " not in text.strip():
                yield Completion(
                    f"/{cmd.name}", start_position=-len(text.lstrip()), display_meta=cmd.help.split(" | ")[0]
                )


class Repl:
    """The line chat: prints events as lines, asks approvals with y/n/a, runs slash commands."""

    def __init__(self, agent: Session | None, lines: Lines | None, out: TextIO):
        self.agent = agent  # set after construction by run_repl, which passes `approve` into the Session
        self.lines = lines
        self.out = out
        self.streaming = False
        self.last_goal = "no goal yet: /goal TEXT [--until CMD]"

    def write(self, text: str = "", end: str = "\n") -> None:
        """Everything printed passes here: control sequences from models and files are shown, never obeyed."""
        self.out.write(terminal_safe(text) + end)
        self.out.flush()

    def show_preview(self, preview: str, limit: int | None) -> None:
        """Every character visible (escapes, tabs, trailing spaces); a long preview says what it hides."""
        lines = visible(preview).splitlines() or [""]
        shown = lines if limit is None else lines[:limit]
        for line in shown:
            self.write(f"  {line}")
        if len(lines) > len(shown):
            self.write(
                f"  … {len(lines) - len(shown)} more lines hidden: answer [v] to view all of them before deciding"
            )

    async def _ask(self, question: str) -> str:
        assert self.lines is not None
        try:
            return (await self.lines.read(question)).strip()
        except LineTooLong:
            return ""

    async def approve(self, request: ApprovalRequest) -> Decision:
        self._end_stream()
        self.write(f"\n? {request.tool} {request.why}:")
        self.show_preview(request.preview, PREVIEW_LINES)
        while True:
            try:
                answer = (await self._ask("Allow? [y]es once / [a]lways this session / [n]o / [v]iew all: ")).lower()
            except (KeyboardInterrupt, EOFError):
                answer = "n"
            if answer in ("v", "view"):
                self.show_preview(request.preview, None)
                continue
            if answer in ("y", "yes", "a", "always"):
                return Decision(action="always" if answer.startswith("a") else "once")
            if answer in ("n", "no", ""):
                reason = ""
                try:
                    reason = await self._ask("Reason for the model (optional): ")
                except (KeyboardInterrupt, EOFError):
                    pass
                return Decision(action="deny", reason=reason)

    def show_draft(self, plan: LivePlan, draft: PlanDraft) -> None:
        self.write(f"┌ proposed plan: {draft.goal}")
        for n, step in enumerate(draft.steps, start=1):
            self.write(f"│ {n}. {step.description}" + ("  (new)" if step.origin is None else ""))
            for m, text in enumerate(step.substeps, start=1):
                self.write(f"│   {n}.{m} {text}")
        for line in changes(plan, draft):
            self.write(f"│   your change: {line}")

    async def review_plan(self, plan: LivePlan) -> PlanReview:
        """The plan waits here: y runs it, n rejects it (with a reason), /plan edits change it first."""
        self._end_stream()
        draft = PlanDraft.of(plan)
        self.write("\n? the model proposes a plan; nothing runs until you approve it")
        self.show_draft(plan, draft)
        if self.agent is not None and (findings := self.agent.findings()):
            self.write("  the review found:\n" + "\n".join(f"  - {f}" for f in findings))
        self.write(f"  edit with {DRAFT_COMMANDS}")
        while True:
            try:
                answer = await self._ask("Run this plan? [y]es / [n]o / a /plan edit: ")
            except (KeyboardInterrupt, EOFError):
                answer = "n"
            if answer.startswith("/plan"):
                try:
                    draft = edited_by_command(draft, answer)
                except PlanError as exc:
                    self.write(f"✘ {exc}")
                    continue
                self.show_draft(plan, draft)
            elif answer.lower() in ("y", "yes"):
                return PlanReview("approve", draft)
            elif answer.lower() in ("n", "no"):
                try:
                    reason = await self._ask("Why? (sent to the model, optional): ")
                except (KeyboardInterrupt, EOFError):
                    reason = ""
                return PlanReview("reject", reason=reason)

    def _end_stream(self) -> None:
        if self.streaming:
            self.write()
            self.streaming = False
        self.last_goal = "no goal yet: /goal TEXT [--until CMD]"

    def render(self, event: Event) -> None:
        if event.type == "text_delta":
            self.write(event.text, end="")
            self.streaming = True
            return
        if isinstance(event, ENDS_STREAM):
            self._end_stream()
        line = describe(event, verbose=True)
        if line is not None:
            self.write(line if line.startswith(("┌", "✘")) else f"  {line}")

    async def turn(self, text: str) -> None:
        assert self.agent is not None
        await self._interruptible(self.agent.submit(text))

    async def goal(self, arg: str) -> None:
        """`/goal TEXT [--until CMD]` runs here until it ends (Ctrl+C stops it); `/goal` shows the last one."""
        assert self.agent is not None
        if not arg or arg == "stop":
            self.write(self.last_goal if arg == "" else "no goal is running (Ctrl+C stops one while it runs)")
            return
        text, until = commands.goal_parts(arg)
        await self._interruptible(pursue(self.agent, text, until, Budget()))

    async def _interruptible(self, events: AsyncIterator[Event]) -> None:
        async def consume() -> None:
            async for event in events:
                self.render(event)
                if isinstance(event, GoalStarted | GoalFinished):
                    self.last_goal = describe(event) or self.last_goal

        task = asyncio.create_task(consume())
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, task.cancel)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        try:
            await task
        except asyncio.CancelledError:
            self._end_stream()
            self.write("  (interrupted)")
        finally:
            try:
                loop.remove_signal_handler(signal.SIGINT)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    async def handle_line(self, line: str) -> bool:
        """One line the user entered; False when the REPL should end."""
        line = clean_text(line).strip()
        if not line:
            return True
        if len(line) > MAX_INPUT_CHARS:
            self.write(
                f"✘ that message is {len(line):,} characters; the limit is {MAX_INPUT_CHARS:,}. "
                "Put the text in a file in the workspace and ask me to read it."
            )
            return True
        if line.startswith("/"):
            return await self.command(line)
        await self.turn(line)
        return True

    async def command(self, line: str) -> bool:
        """Run a slash command; False when the REPL should end."""
        assert self.agent is not None
        result = await commands.run(self.agent, line)
        for event in result.events:
            self.render(event)
        if result.action == "quit":
            return False
        if result.message and not (result.events and result.events[0].type == "plan_updated"):
            self.write(("✘ " if result.error else "") + result.message)
        if result.action == "resume":
            self.show_history()
        if result.action == "goal":
            await self.goal(result.argument)
        return True

    def show_history(self, last: int = 6) -> None:
        assert self.agent is not None
        view = self.agent.view
        shown = [
            m
            for m in view.record
            if m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str) and m["content"]
        ]
        for msg in shown[-last:]:
            who = "you" if msg["role"] == "user" else "liveplan"
            self.write(f"[{who}] {msg['content']}")
        board = view.board
        if not board.latest.is_empty:
            for line in plan_lines(board.latest, board.active.is_empty):
                self.write(line)


async def run_repl(
    settings: Settings,
    endpoint: Endpoint,
    open_session: Callable[[Session], Any],
    store: Store | None,
    *,
    input: Any = None,
    output: Any = None,
    out: TextIO | None = None,
) -> int:
    lines: Lines
    if input is None and not sys.stdin.isatty():  # a pipe or a file: plain lines, no line editor
        lines = PipedLines(sys.stdin.buffer, MAX_INPUT_CHARS * 4)
    else:
        history = FileHistory(str(data_dir() / "repl_history")) if store is not None else InMemoryHistory()
        completer = SlashCompleter()
        lines = EditorLines(PromptSession(history=history, completer=completer, input=input, output=output))
    repl = Repl(None, lines, out or sys.stdout)
    repl.agent = agent = Session(settings, endpoint, approver=repl.approve, plan_reviewer=repl.review_plan)
    open_session(agent)
    repl.write(f"LivePlan (plain) · {endpoint.label} · /help lists commands · Ctrl+C cancels a turn · Ctrl+D quits")
    if settings.approval == "never-ask":
        repl.write("warning: approval is never-ask; writes and shell commands run without asking")
    if agent.view.record:
        repl.write(f"resumed session {agent.view.session_id}")
        repl.show_history()
    try:
        while True:
            try:
                line = await lines.read("› ")
            except KeyboardInterrupt:
                continue
            except LineTooLong:
                repl.write(f"✘ that line is over {MAX_INPUT_CHARS:,} characters; it was not sent")
                continue
            except EOFError:
                break
            if not await repl.handle_line(line):
                break
    finally:
        await agent.close()
    return 0
