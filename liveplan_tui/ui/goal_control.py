"""`/goal` in the chat: start a goal (it runs like a turn: Esc ends it), show it, or stop it.

A goal's events arrive like a turn's; the status bar shows the goal and the budget it used (see `present.goal_status`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import commands
from .widgets.chat import NoticeBlock

if TYPE_CHECKING:
    from .app import LivePlanApp

NO_GOAL = "no goal yet: /goal TEXT [--until CMD]"


async def goal_command(app: LivePlanApp, arg: str) -> None:
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
