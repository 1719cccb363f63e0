"""The plan panel: the live plan, pinned beside (or below) the chat.

The plan is one frozen value in one reactive, so the panel recomposes only
when the plan really changes, never per streamed token. Status is a CSS class
(`status-in_progress`), so themes and the stylesheet decide the look.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from ...plan.status import glyph
from ...textsafe import terminal_safe as safe

if TYPE_CHECKING:  # pydantic loads with the first plan, not before the first frame
    from ...plan import LivePlan, Step


class StepRow(Vertical):
    """One step: icon, number and description, with its result beneath; a sub-step is indented under its
    parent (`-sub`)."""

    def __init__(self, step: Step, depth: int = 0):
        verified = f" verified-{step.verified}" if step.verified else ""
        sub = " -sub" if depth else ""
        super().__init__(classes=f"step status-{step.status}{verified}{sub}")
        self.step = step

    def compose(self) -> ComposeResult:
        s = self.step
        after = f"  (after {', '.join(map(str, s.depends_on))})" if s.depends_on else ""
        with Horizontal(classes="step-head"):
            yield Static(f"{glyph(s.status)} {s.key}{'' if s.parent else '.'}", classes="step-marker")
            badge = Content(f"  [{s.badge}]") if s.badge else Content("")
            record = Content.styled(f"  · {safe(s.shown_evidence)}", "dim") if s.shown_evidence else Content("")
            line = Content(safe(s.description)).append(Content(after)).append(badge).append(record)
            yield Static(line, classes="step-line")
        if s.result:
            yield Static(Content(f"→ {safe(s.result)}"), classes="step-result")


def headline(plan: LivePlan, finished: bool) -> str:
    """The panel's pinned first line: progress and the step in progress, or `finished` (terminal-safe)."""
    if plan.is_empty:
        return "no plan yet"
    if finished or plan.is_finished:
        return f"{plan.done}/{plan.total} · finished"
    now = plan.now
    return safe(f"{plan.done}/{plan.total} · {now or 'next: ' + _next(plan)}")


def _next(plan: LivePlan) -> str:
    ready = plan.ready()
    return ready[0].description if ready else "waiting"


class PlanPanel(Vertical):
    """A pinned progress line, and the plan scrolling below it; F2 collapses it to that line."""

    BORDER_TITLE = "Plan"

    shown: reactive[LivePlan | None] = reactive(None, recompose=True)
    finished: reactive[bool] = reactive(False, recompose=True)

    @property
    def plan(self) -> LivePlan:
        from ...plan import LivePlan

        return self.shown if self.shown is not None else LivePlan()

    def show(self, plan: LivePlan, *, finished: bool) -> None:
        """Set the plan to show; a no-op when nothing changed."""
        self.finished = finished
        self.shown = plan

    def watch_finished(self, finished: bool) -> None:
        self.set_class(finished, "-finished")
        self.border_title = "Plan ✔ finished" if finished else "Plan"

    @property
    def collapsed(self) -> bool:
        return self.has_class("-collapsed")

    def compose(self) -> ComposeResult:
        plan = self.shown
        yield Static(Content(headline(plan, self.finished) if plan else "no plan yet"), id="plan-headline")
        with VerticalScroll(id="plan-body"):
            yield from self._body(plan)

    def _body(self, plan: LivePlan | None) -> ComposeResult:
        if plan is None or plan.is_empty:
            yield Static("Multi-step tasks get one;\nor type /plan add TEXT.", classes="plan-empty")
            return
        if plan.goal:
            yield Static(Content(safe(plan.goal)), classes="plan-goal")
        for depth, step in plan.rows():
            yield StepRow(step, depth)
        if plan.notes:
            yield Static(Content(f"Notes: {safe(plan.notes)}"), classes="plan-notes")
        from textual.widgets import ProgressBar  # with the first plan, not before the first frame

        bar = ProgressBar(total=max(plan.total, 1), show_eta=False, show_percentage=False, classes="plan-progress")
        bar.progress = plan.done
        yield bar
        yield Static(plan.progress(), classes="plan-count")
