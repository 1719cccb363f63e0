"""The status bar: endpoint and model, route and who decided it, context and cost."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from ...textsafe import terminal_safe


def _k(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


class StatusBar(Static):
    endpoint: reactive[str] = reactive("")
    route: reactive[str] = reactive("route: –")
    context_used: reactive[int] = reactive(0)
    context_limit: reactive[int] = reactive(0)
    estimated: reactive[bool] = reactive(False)
    session_tokens: reactive[int] = reactive(0)
    busy: reactive[bool] = reactive(False)
    sandbox: reactive[str] = reactive("")
    plan_approval: reactive[str] = reactive("auto")
    instructions: reactive[str] = reactive("none")
    goal: reactive[str] = reactive("")  # a running goal and the budget it used

    def render(self) -> Content:
        limit = f"/{_k(self.context_limit)}" if self.context_limit else ""
        approx = "~" if self.estimated else ""
        state = "● working" if self.busy else "○ idle"
        # The route's reason may be a classifier model's words and the endpoint a user's: shown, never markup.
        return Content(
            terminal_safe(
                f"{state} │ {self.endpoint} │ {self.route} │ "
                f"ctx {approx}{_k(self.context_used)}{limit} │ session {approx}{_k(self.session_tokens)} tok"
                + (f" │ {self.goal}" if self.goal else "")
                + (" │ plans: ask" if self.plan_approval == "ask" else "")
                + (f" │ {self.instructions}" if self.instructions != "none" else "")
                + (f" │ {self.sandbox}" if self.sandbox else "")
            )
        )
