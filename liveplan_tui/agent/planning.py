"""The one owner of plan changes: the model's `update_plan`, the user's `/plan` edits and the engines.

Every change goes through `PlanKeeper.apply`, which returns the `PlanUpdated`
event or raises `PlanError` with the plan untouched; no caller parses error
text. The board itself lives on its holder (the conversation), which persists
each change before anything shows it.
"""

from __future__ import annotations

from typing import Protocol

from ..events import PlanUpdated
from ..plan import LivePlan, PlanBoard, PlanError, PlanUpdate, Verification

PlanSource = str  # "model" | "user" | "orchestrator", as in PlanUpdated.source


class BoardHolder(Protocol):
    board: PlanBoard


class PlanKeeper:
    def __init__(self, holder: BoardHolder):
        self.holder = holder

    @property
    def board(self) -> PlanBoard:
        return self.holder.board

    def apply(
        self,
        update: PlanUpdate,
        *,
        source: PlanSource,
        max_in_progress: int = 1,
        verdicts: dict[int, tuple[Verification, str]] | None = None,
    ) -> PlanUpdated:
        """Apply all of `update` or none of it; raises PlanError naming what to fix.

        `verdicts` are the checks run for the steps this update completes, recorded in the same change.
        """
        old = self.holder.board
        new, archived = old.apply(update, max_in_progress=max_in_progress)
        if verdicts:
            new = new.with_verdicts(verdicts)
        self.holder.board = new
        return PlanUpdated(
            old=old.active,
            new=new.latest,
            archived=archived,
            explanation=update.explanation or "",
            source=source,  # type: ignore[arg-type]
        )

    def set(self, updates: list[dict[str, object]], *, source: PlanSource, max_in_progress: int = 1) -> PlanUpdated:
        """A status change by id (the engines' own moves)."""
        return self.apply(
            PlanUpdate.model_validate({"updates": updates}), source=source, max_in_progress=max_in_progress
        )

    def preview(self, update: PlanUpdate, *, max_in_progress: int = 1) -> LivePlan:
        """The plan `update` would produce, without changing anything; raises PlanError."""
        return self.holder.board.apply(update, max_in_progress=max_in_progress)[0].latest

    def mark(self, verdicts: dict[int, tuple[Verification, str]]) -> PlanUpdated:
        """Record check verdicts alone (a failed check: the step stays as it was, the failure shows)."""
        old = self.holder.board
        self.holder.board = old.with_verdicts(verdicts)
        return PlanUpdated(old=old.active, new=self.holder.board.latest, source="orchestrator")

    def await_approval(self) -> None:
        """Mark the active plan as proposed, so a later turn knows it was never approved."""
        self.holder.board = self.holder.board.model_copy(update={"awaiting_approval": True})

    def approved(self) -> None:
        self.holder.board = self.holder.board.model_copy(update={"awaiting_approval": False})

    def clear(self) -> PlanUpdated:
        """Drop the active plan without archiving it (a user's /plan clear)."""
        old = self.holder.board
        self.holder.board = PlanBoard(archived=old.archived)
        return PlanUpdated(old=old.active, new=self.holder.board.active, source="user")


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


__all__ = ["PlanKeeper", "PlanError", "acceptance", "rejection"]
