"""The approval modal: exactly what will run or change, and three answers."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...agent.approvals import ApprovalRequest, Decision


class ApprovalScreen(ModalScreen[Decision]):
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
        with Vertical(id="approval-dialog"):
            yield Label(Content(f"Allow {self.request.tool}? It {self.request.why}."), id="approval-title")
            with VerticalScroll(id="approval-preview"):
                lexer = "bash" if self.request.tool == "run_shell" else "diff"
                yield Static(Syntax(self.request.preview, lexer, theme="ansi_dark", word_wrap=False, background_color="default"))
            yield Input(placeholder="reason for denying (optional, sent to the model)", id="deny-reason")
            with Horizontal(id="approval-buttons"):
                yield Button("Approve once [y]", id="once", variant="success")
                yield Button("Always this session [a]", id="always", variant="primary")
                yield Button("Deny [n]", id="deny", variant="error")

    def on_mount(self) -> None:
        self.query_one("#once", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_decide(event.button.id or "deny")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_decide("deny")

    def action_decide(self, action: str) -> None:
        reason = self.query_one("#deny-reason", Input).value.strip() if action == "deny" else ""
        self.dismiss(Decision(action=action, reason=reason))  # type: ignore[arg-type]
