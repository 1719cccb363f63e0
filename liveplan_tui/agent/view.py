"""What a front-end may read of a session: a frozen view, taken when asked for.

Front-ends render from this and never from the session's parts, so the session can change how it holds its
state without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..choices import Mode, PlanApproval
from ..plan import PlanBoard
from ..tools.reaper import sandbox_status


@dataclass(frozen=True)
class SessionView:
    """What a front-end may read of a session, frozen at the moment it was taken."""

    endpoint_label: str
    work: str  # the working memory as the model sees it
    model: str
    mode: Mode
    context_window: int
    board: PlanBoard
    record: tuple[dict[str, Any], ...]
    session_id: str | None
    saving: bool
    approval: str
    plan_approval: PlanApproval
    shell_sandbox: str
    instructions: str  # which AGENTS.md files are in the prompt
    local: bool
    key_withheld: bool

    @property
    def sandbox(self) -> str:
        """The sandbox in force; asked only when shown, since it probes the kernel once (`exec` never shows it)."""
        return sandbox_status(self.shell_sandbox)
