"""The one place core events become widgets: the streaming reply, tool blocks, the plan panel and the status bar.

`handle` matches every event kind and ends in `assert_never`, so the type checker
names a kind left out. The reply streams through one `AssistantBlock` (Markdown
streamed, never re-rendered whole per token); tool blocks wait for their result.
"""

from __future__ import annotations

from typing import Protocol, assert_never

from textual.notifications import SeverityLevel

from ..events import (
    AssistantMessage,
    Condensed,
    Error,
    Event,
    GoalChecked,
    GoalFinished,
    GoalStarted,
    Notice,
    PlanCritique,
    PlanProposed,
    PlanReviewed,
    PlanUpdated,
    Retrying,
    Route,
    StreamReset,
    Subagent,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolProgress,
    TurnFinished,
    Usage,
)
from ..present import describe, goal_status
from .segments import cut_point
from .widgets.chat import ChatLog, ErrorBlock, NoticeBlock, ToolBlock
from .widgets.plan_panel import PlanPanel
from .widgets.reply import AssistantBlock
from .widgets.status import StatusBar


class Screenful(Protocol):
    """What the renderer draws on: the app's chat, plan panel, status bar and notifications."""

    @property
    def chat(self) -> ChatLog: ...

    @property
    def plan_panel(self) -> PlanPanel: ...

    @property
    def status(self) -> StatusBar: ...

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...


class EventRenderer:
    def __init__(self, app: Screenful):
        self.app = app
        self.reply: AssistantBlock | None = None  # the reply's newest segment, streaming
        self.segments: list[AssistantBlock] = []  # its finished segments, so a cut stream voids them too
        self.tools: dict[str, ToolBlock] = {}

    async def end_reply(self) -> None:
        self.segments = []
        if self.reply is not None:
            reply, self.reply = self.reply, None
            await reply.finish()

    async def turn_ended(self) -> None:
        """Whatever the turn left open is closed: the reply ends, unanswered tool blocks say cancelled."""
        await self.end_reply()
        for block in self.tools.values():
            block.finish("cancelled", True)
        self.tools.clear()

    async def _stream(self, event: TextDelta | StreamReset) -> None:
        if isinstance(event, TextDelta):
            await self._write(event.text)
            return
        for segment in [*self.segments, self.reply]:
            if segment is not None:
                await segment.finish()
                await segment.remove()
        self.reply, self.segments = None, []
        await self.app.chat.add(NoticeBlock("the stream was cut; retrying", "warning"))

    async def _write(self, text: str) -> None:
        """Into the reply's newest segment; past `SEGMENT_CHARS`, the rest starts a new one at a safe cut."""
        if self.reply is None:
            self.reply = AssistantBlock()
            await self.app.chat.add(self.reply)
        while (at := cut_point(self.reply.text, text)) is not None:
            await self.reply.write(text[:at])
            await self.reply.finish()
            self.segments.append(self.reply)
            self.reply = AssistantBlock(continued=True)
            await self.app.chat.add(self.reply)
            text = text[at:]
        await self.reply.write(text)

    async def handle(self, event: Event) -> None:
        app, chat = self.app, self.app.chat
        match event:
            case Route():
                app.status.route = f"{event.strategy} ({event.level})"
                await chat.add(NoticeBlock(f"route: {event.strategy} · {event.level}: {event.reason}"))
            case TextDelta() | StreamReset():
                await self._stream(event)
            case AssistantMessage() | TurnFinished():
                await self.end_reply()
            case ToolCallStarted():
                block = ToolBlock(event.call_id, event.name, event.arguments, event.summary)
                self.tools[event.call_id] = block
                await chat.add(block)
            case ToolCallFinished():
                if (done := self.tools.pop(event.call_id, None)) is not None:
                    done.finish(event.result, event.is_error)
            case ToolProgress():
                if (running := self.tools.get(event.call_id)) is not None:
                    running.progress(event.detail)
            case PlanUpdated():
                app.plan_panel.show(event.new, finished=event.archived)
                if event.explanation:
                    await chat.add(NoticeBlock(f"plan: {event.explanation}"))
            case PlanProposed():
                app.plan_panel.show(event.plan, finished=False)
                await chat.add(NoticeBlock("plan proposed: review it before it runs"))
            case PlanReviewed():
                await chat.add(NoticeBlock(describe(event) or ""))
            case PlanCritique():
                await chat.add(NoticeBlock(describe(event) or "", "warning" if event.findings else "info"))
            case Usage():
                app.status.context_used = event.prompt_tokens
                app.status.context_limit = event.context_window
                app.status.estimated = event.estimated
                app.status.session_tokens += event.total_tokens
            case GoalStarted() | GoalChecked() | GoalFinished():
                await chat.add(NoticeBlock(describe(event) or ""))
                app.status.goal = goal_status(event, app.status.goal)
            case Retrying() | Condensed() | Subagent():
                kind = "warning" if isinstance(event, Retrying) else "info"
                await chat.add(NoticeBlock(describe(event, verbose=True) or "", kind))
            case Notice():
                await chat.add(NoticeBlock(event.message, "warning"))
                app.notify(event.message, severity="warning", timeout=10)
            case Error():
                await chat.add(ErrorBlock(event.message))
                app.notify(event.message, title="Error", severity="error", timeout=10)
            case _:
                assert_never(event)
