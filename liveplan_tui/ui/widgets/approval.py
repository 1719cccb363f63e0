"""The approval modal: exactly what will run or change, and three answers.

The preview wraps (nothing hides past the right edge), shows tabs, trailing
spaces and control characters as visible marks, and says how many lines are
below the fold, so what the user approves is every character that runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...textsafe import visible

if TYPE_CHECKING:
    from ...agent.session import ApprovalRequest, Decision  # noqa: F401 (Decision: the screen's result type)


class ApprovalScreen(ModalScreen["Decision"]):
    BINDINGS = [
        Binding("y", "decide('once')", "Approve once", id="approve-once"),
        Binding("a", "decide('always')", "Always (session)", id="approve-always"),
        Binding("n", "decide('deny')", "Deny", id="deny"),
        Binding("escape", "decide('deny')", "Deny", show=False, id="deny-escape"),
    ]

    def __init__(self, request: ApprovalRequest):
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        from rich.syntax import Syntax  # with the first approval, not before the first frame

        with Vertical(id="approval-dialog"):
            yield Label(Content(f"Allow {self.request.tool}? It {self.request.why}."), id="approval-title")
            with VerticalScroll(id="approval-preview"):
                shown = visible(self.request.preview)
                yield Static(
                    Syntax(shown, self.request.lexer, theme="ansi_dark", word_wrap=True, background_color="default")
                )
            yield Label("", id="approval-more")
            yield Input(placeholder="reason for denying (optional, sent to the model)", id="deny-reason")
            with Horizontal(id="approval-buttons"):
                yield Button(Content("Approve once [y]"), id="once", variant="success")
                yield Button(Content("Always this session [a]"), id="always", variant="primary")
                yield Button(Content("Deny [n]"), id="deny", variant="error")

    def on_mount(self) -> None:
        self.query_one("#once", Button).focus()
        preview = self.query_one("#approval-preview", VerticalScroll)
        self.watch(preview, "scroll_y", lambda _: self._show_hidden(), init=False)
        self.watch(preview, "virtual_size", lambda _: self._show_hidden(), init=False)
        self.call_after_refresh(self._show_hidden)

    def _show_hidden(self) -> None:
        """Say how many lines are below the fold, so nothing is approved unseen by accident."""
        preview = self.query_one("#approval-preview", VerticalScroll)
        hidden = max(0, round(preview.max_scroll_y - preview.scroll_y))
        label = self.query_one("#approval-more", Label)
        label.update(
            f"▼ {hidden} more line{'s' if hidden != 1 else ''} below: "
            "scroll the preview (mouse, or Tab to it and ↓/PgDn)"
            if hidden
            else ""
        )
        label.display = bool(hidden)

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        self.action_decide(event.button.id or "deny")

    @on(Input.Submitted)
    def _reason_submitted(self, event: Input.Submitted) -> None:
        self.action_decide("deny")

    def action_decide(self, action: str) -> None:
        from ...agent.session import Decision

        reason = self.query_one("#deny-reason", Input).value.strip() if action == "deny" else ""
        self.dismiss(Decision(action=action, reason=reason))  # type: ignore[arg-type]
