"""The one owner of plan changes: the model's `update_plan`, the user's `/plan` edits, the engines and rewind.

Every change is a named move here (`apply`, `start`, `complete`, `reopen`, `adopt`, `restore`, `clear`, `mark`).
Each validates first (a `PlanError` leaves the plan untouched), then sets the board on its holder (the conversation,
which persists it before anything shows it), then returns the `PlanUpdated` event that announces it. Nothing else
writes a board or builds that event, and no caller parses error text.
"""

from __future__ import annotations

from typing import Literal, Protocol

from ..events import PlanUpdated
from .board import PlanBoard
from .evidence import Evidence
from .model import LivePlan, PlanError, PlanUpdate, StepPatch
from .staleness import Staleness, with_reminder
from .status import StepStatus, Verification

PlanSource = Literal["model", "user", "orchestrator"]


class BoardHolder(Protocol):
    board: PlanBoard


class PlanKeeper:
    def __init__(self, holder: BoardHolder):
        self.holder = holder
        self.staleness = Staleness()

    def prompt_block(self, reminder_after: int = 0) -> str | None:
        """The `[PLAN]` block for the system prompt, with a `Reminder:` line when the plan lags the work."""
        block = self.board.prompt_block()
        if block is None:
            return None
        return with_reminder(block, self.staleness.reminder(self.board.active, reminder_after))

    @property
    def board(self) -> PlanBoard:
        return self.holder.board

    def _announce(self, new: PlanBoard, *, source: PlanSource, archived: bool = False, why: str = "") -> PlanUpdated:
        old, self.holder.board = self.holder.board, new
        return PlanUpdated(old=old.active, new=new.latest, archived=archived, explanation=why, source=source)

    def apply(
        self,
        update: PlanUpdate,
        *,
        source: PlanSource,
        max_in_progress: int = 1,
        verdicts: dict[int, tuple[Verification, str]] | dict[str, tuple[Verification, str]] | None = None,
    ) -> PlanUpdated:
        """Apply all of `update` or none of it; raises PlanError naming what to fix.

        `verdicts` are the checks run for the steps this update completes, recorded in the same change.
        """
        new, archived = self.holder.board.apply(update, max_in_progress=max_in_progress)
        if verdicts:
            new = new.with_verdicts(verdicts)
        return self._announce(new, source=source, archived=archived, why=update.explanation or "")

    def _set(
        self, ids: list[int], status: StepStatus, source: PlanSource, max_in_progress: int, result: str = ""
    ) -> PlanUpdated:
        patches = [StepPatch(id=i, status=status.value, result=result or None) for i in ids]
        return self.apply(PlanUpdate(updates=patches), source=source, max_in_progress=max_in_progress)

    def start(self, step_id: int, *, source: PlanSource = "orchestrator", max_in_progress: int = 1) -> PlanUpdated:
        """Step `step_id` is now in progress (strict mode's walk may run `max_in_progress` at once)."""
        return self._set([step_id], StepStatus.IN_PROGRESS, source, max_in_progress)

    def complete(
        self, step_id: int, result: str, *, source: PlanSource = "orchestrator", max_in_progress: int = 1
    ) -> PlanUpdated:
        return self._set([step_id], StepStatus.COMPLETED, source, max_in_progress, result)

    def reopen(
        self, step_ids: list[int], *, source: PlanSource = "orchestrator", max_in_progress: int = 1
    ) -> PlanUpdated:
        """Steps back to pending: a failed step to be tried again, or steps strict mode runs itself."""
        return self._set(step_ids, StepStatus.PENDING, source, max_in_progress)

    def adopt(self, plan: LivePlan, *, why: str, source: PlanSource = "orchestrator") -> PlanUpdated:
        """Make `plan` the active plan as it is (strict mode's first plan, every step pending); archived plans stay."""
        return self._announce(PlanBoard(active=plan, archived=self.holder.board.archived), source=source, why=why)

    def restore(self, board: PlanBoard, *, why: str) -> PlanUpdated:
        """Put back a board saved before (an undo or a rewind by the user)."""
        return self._announce(board, source="user", why=why)

    def record(self, item: Evidence, step_id: int | str | None = None) -> PlanUpdated | None:
        """What a tool did, on the record of step `step_id` ("2" or "2.1"; the step or sub-step in progress by
        default); None when none is in progress, so the work belongs to no step."""
        step = self.board.active.step(step_id) if step_id is not None else self.board.active.current
        if step is not None and step.substeps:  # a parent's work is its sub-step's in progress
            step = next((c for c in step.substeps if c.status == StepStatus.IN_PROGRESS), step)
        if step is None:
            return None
        new = self.board.with_step(step.key, evidence=(*step.evidence, item))
        return self._announce(new, source="orchestrator")

    def challenge(self, step_id: int | str) -> PlanUpdated:
        """A claim that step `step_id` is done was refused against its record; the next such claim is taken."""
        return self._announce(self.board.with_step(step_id, challenged=True), source="orchestrator")

    def preview(self, update: PlanUpdate, *, max_in_progress: int = 1) -> LivePlan:
        """The plan `update` would produce, without changing anything; raises PlanError."""
        return self.holder.board.apply(update, max_in_progress=max_in_progress)[0].latest

    def mark(
        self,
        verdicts: dict[int, tuple[Verification, str]] | dict[str, tuple[Verification, str]],
        *,
        source: PlanSource = "model",
    ) -> PlanUpdated:
        """Record check verdicts alone (a failed check: the step stays as it was, the failure shows)."""
        return self._announce(self.holder.board.with_verdicts(verdicts), source=source)

    def await_approval(self) -> None:
        """Mark the active plan as proposed, so a later turn knows it was never approved."""
        self.holder.board = self.holder.board.model_copy(update={"awaiting_approval": True})

    def approved(self) -> None:
        self.holder.board = self.holder.board.model_copy(update={"awaiting_approval": False})

    def clear(self) -> PlanUpdated:
        """Drop the active plan without archiving it (a user's /plan clear, or a rejected proposal)."""
        return self._announce(PlanBoard(archived=self.holder.board.archived), source="user")


def rejection(error: PlanError, board: PlanBoard) -> str:
    """The tool result for a rejected update: why, and the plan as it still is."""
    current = board.active.render() if not board.active.is_empty else "(no active plan)"
    return f"error: {error}\nThe plan is unchanged:\n{current}"


def acceptance(event: PlanUpdated) -> str:
    """The tool result for an accepted update: the plan, so the model re-anchors on it."""
    text = event.new.render()
    if event.archived:
        text += "\nAll steps are done; the plan is archived. Give the final answer now."
    return text


__all__ = ["PlanError", "PlanKeeper", "PlanSource", "acceptance", "rejection"]
