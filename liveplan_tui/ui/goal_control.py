"""`/goal` in the chat: start a goal (it runs like a turn: Esc ends it), show it, or stop it.

A goal's events arrive like a turn's; the status bar shows the goal and the budget it used (see `present.goal_status`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

from .. import commands
from .widgets.chat import ChatLog, NoticeBlock
from .widgets.status import StatusBar

if TYPE_CHECKING:
    from ..events import Event


class GoalHost(Protocol):
    """What `/goal` needs of the app (the app is this; a protocol keeps the import one-way)."""

    @property
    def chat(self) -> ChatLog: ...
    @property
    def status(self) -> StatusBar: ...
    @property
    def turn_running(self) -> bool: ...
    @property
    def session(self) -> Any: ...
    def action_cancel_turn(self) -> None: ...
    def queue_line(self, line: str) -> None: ...
    def start_events(self, events: AsyncIterator[Event]) -> None: ...


NO_GOAL = "no goal yet: /goal TEXT [--until CMD]"


async def goal_command(app: GoalHost, arg: str) -> None:
    """`/goal TEXT [--until CMD]` starts one (after the running turn); `/goal` shows it; `/goal stop` ends it."""
    if arg in ("", "stop"):
        if arg == "stop":
            app.action_cancel_turn()
        await app.chat.add(NoticeBlock(app.status.goal or NO_GOAL))
    elif app.turn_running:
        app.queue_line(f"/goal {arg}")
        await app.chat.add(NoticeBlock("/goal waits for the current turn to end"))
    else:
        from ..agent.goals import Budget, pursue

        text, until = commands.goal_parts(arg)
        app.start_events(pursue(app.session, text, until, Budget()))
