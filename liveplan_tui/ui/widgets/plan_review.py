"""The plan review modal: approve the model's plan, edit it inline, or reject it with a reason.

Every step is an input, so a step's text is changed where it stands; keys add,
delete and move the focused step. What comes back is a `PlanReview` with the
edited draft, and the core tells the model each change.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from ...agent.session import PlanReview
from ...plan import LivePlan, PlanError
from ...plan.review import PlanDraft, changes
from ...textsafe import visible

KEYS = (
    "Enter approve · ctrl+n add · ctrl+d delete (on a sub-step: its own) · ctrl+↑/↓ move · ctrl+r reject · Esc reject"
)


class PlanReviewScreen(ModalScreen[PlanReview]):
    BINDINGS = [
        Binding("ctrl+n", "add", "Add step", id="plan-review-add", priority=True),
        Binding("ctrl+d", "delete", "Delete step", id="plan-review-delete", priority=True),
        Binding("ctrl+up", "move(-1)", "Move up", id="plan-review-up", priority=True),
        Binding("ctrl+down", "move(1)", "Move down", id="plan-review-down", priority=True),
        Binding("ctrl+r", "focus_reason", "Reject…", id="plan-review-reject", priority=True),
        Binding("escape", "reject", "Reject", id="plan-review-escape"),
    ]

    def __init__(self, plan: LivePlan, findings: list[str] | None = None):
        super().__init__()
        self.plan = plan
        self.findings = findings or []  # what the plan review found, shown above the steps
        self.draft = PlanDraft.of(plan)

    def compose(self) -> ComposeResult:
        with Vertical(id="plan-review-dialog"):
            yield Label(f"Review the plan before it runs ({len(self.plan.steps)} steps)", id="plan-review-title")
            if self.findings:
                listed = "\n".join(f"· {visible(f)}" for f in self.findings)
                yield Label(f"The review found:\n{listed}", id="plan-review-findings")
            with Horizontal(classes="plan-review-row"):
                yield Label("goal", classes="plan-review-number")
                yield Input(visible(self.draft.goal), placeholder="goal", id="plan-review-goal", compact=True)
            yield VerticalScroll(id="plan-review-steps")
            yield Label("", id="plan-review-changes")
            yield Label(KEYS, id="plan-review-keys")
            yield Input(
                placeholder="why you reject it (sent to the model); Enter here rejects",
                id="plan-review-reason",
                compact=True,
            )
            with Horizontal(id="plan-review-buttons"):
                yield Button(Content("Approve [Enter]"), id="approve", variant="success", compact=True)
                yield Button(Content("Reject [ctrl+r]"), id="reject", variant="error", compact=True)

    async def on_mount(self) -> None:
        await self._rebuild(focus=0)

    def _step_inputs(self) -> list[Input]:
        return list(self.query(".plan-review-step").results(Input))

    def _focused_index(self) -> int | None:
        inputs = self._step_inputs()
        return inputs.index(self.focused) if self.focused in inputs else None

    async def _rebuild(self, focus: int | None = None) -> None:
        """Show the draft's steps; after adding, deleting or moving one, focus follows it."""
        box = self.query_one("#plan-review-steps", VerticalScroll)
        await box.remove_children()
        rows = []
        for n, step in enumerate(self.draft.steps, start=1):
            marker = "" if step.origin is not None else " (new)"
            row = Horizontal(
                Label(f"{n}.{marker}", classes="plan-review-number"),
                Input(step.description, classes="plan-review-step", compact=True),
                classes="plan-review-row",
            )
            rows.append(row)
            for m, text in enumerate(step.substeps, start=1):
                sub_input = Input(text, name=f"{n}.{m}", classes="plan-review-sub", compact=True)
                rows.append(Horizontal(Label(f"{n}.{m}", classes="plan-review-number"), sub_input,
                                       classes="plan-review-row -sub"))  # fmt: skip
        await box.mount_all(rows)
        if focus is not None and (inputs := self._step_inputs()):
            inputs[min(focus, len(inputs) - 1)].focus()
        self._show_changes()

    def _show_changes(self) -> None:
        edits = changes(self.plan, self.draft)
        label = self.query_one("#plan-review-changes", Label)
        label.update("Your changes:\n" + "\n".join(f"· {visible(e)}" for e in edits) if edits else "")
        label.display = bool(edits)

    @on(Input.Changed)
    def _edited(self, event: Input.Changed) -> None:
        try:
            if event.input.id == "plan-review-goal":
                self.draft = self.draft.with_goal(event.value)
            elif event.input.has_class("plan-review-step"):
                self.draft = self.draft.edit(self._step_inputs().index(event.input) + 1, event.value)
            elif event.input.has_class("plan-review-sub") and (key := self._sub_key(event.input)):
                self.draft = self.draft.edit_sub(*key, event.value)
        except PlanError:
            return  # an emptied field keeps its last text until something is typed
        self._show_changes()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "plan-review-reason":
            self.action_reject()
        else:
            self.dismiss(PlanReview("approve", self.draft))

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        if event.button.id == "approve":
            self.dismiss(PlanReview("approve", self.draft))
        else:
            self.action_reject()

    @staticmethod
    def _sub_key(widget: object) -> tuple[int, int] | None:
        """(step, sub-step) of a sub-step's input, from its name "N.M"."""
        if not isinstance(widget, Input) or not widget.has_class("plan-review-sub") or not widget.name:
            return None
        top, _, low = widget.name.partition(".")
        return int(top), int(low)

    async def action_add(self) -> None:
        if (key := self._sub_key(self.focused)) is not None:  # on a sub-step: a new sub-step after it
            self.draft = self.draft.add_sub(key[0], "new sub-step", after=key[1])
            await self._rebuild(focus=key[0] - 1)
            return
        at = self._focused_index()
        after = len(self.draft.steps) if at is None else at + 1
        self.draft = self.draft.add("new step", after=after)
        await self._rebuild(focus=after)

    async def action_delete(self) -> None:
        if (key := self._sub_key(self.focused)) is not None:
            self.draft = self.draft.delete_sub(*key)
            await self._rebuild(focus=key[0] - 1)
            return
        at = self._focused_index()
        if at is None:
            return
        try:
            self.draft = self.draft.delete(at + 1)
        except PlanError as exc:
            self.notify(str(exc), severity="warning")
            return
        await self._rebuild(focus=at)

    async def action_move(self, offset: int) -> None:
        at = self._focused_index()
        if at is None:
            return
        self.draft = self.draft.move(at + 1, offset)
        await self._rebuild(focus=min(max(at + offset, 0), len(self.draft.steps) - 1))

    def action_focus_reason(self) -> None:
        self.query_one("#plan-review-reason", Input).focus()

    def action_reject(self) -> None:
        reason = self.query_one("#plan-review-reason", Input).value.strip()
        self.dismiss(PlanReview("reject", reason=reason))
