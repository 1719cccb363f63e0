"""The board: the active plan and the finished ones, so archiving, check verdicts and a rewind stay pure
transitions of one frozen value."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .model import LivePlan, PlanUpdate, Step
from .status import StepStatus, Verification
from .update import apply


class PlanBoard(BaseModel):
    """The active plan plus the finished ones, so archiving stays a pure transition."""

    model_config = ConfigDict(frozen=True)

    active: LivePlan = LivePlan()
    archived: tuple[LivePlan, ...] = ()
    awaiting_approval: bool = False  # the active plan was proposed and not yet approved (exec stopped there)

    def prompt_block(self) -> str | None:
        """The block injected into the system prompt, or None when no plan is active."""
        return None if self.active.is_empty else self.active.render()

    def with_verdicts(self, verdicts: dict[int, tuple[Verification, str]] | dict[str, tuple[Verification, str]]
                      ) -> PlanBoard:  # fmt: skip
        """The board with check verdicts on the latest plan's steps and sub-steps, by key ("2", "2.1"):
        (verdict, what to add to the result)."""
        by_key = {str(key): verdict for key, verdict in verdicts.items()}

        def mark(step: Step) -> Step:
            if step.substeps:
                step = step.model_copy(update={"substeps": tuple(mark(c) for c in step.substeps)})
            if step.key not in by_key:
                return step
            verdict, note = by_key[step.key]
            result = f"{step.result} · {note}" if step.result and note else (note or step.result)
            return step.model_copy(update={"verified": verdict, "result": result})

        target = self.latest
        marked = target.model_copy(update={"steps": tuple(mark(s) for s in target.steps)})
        if not self.active.is_empty or not self.archived:
            return self.model_copy(update={"active": marked})
        return self.model_copy(update={"archived": (*self.archived[:-1], marked)})

    def with_step(self, key: int | str, **changes: object) -> PlanBoard:
        """The board with fields of one step or sub-step ("2.1") of the active plan changed (its record, a refused
        claim)."""
        top, _, sub = str(key).partition(".")

        def change(step: Step) -> Step:
            if str(step.id) != top:
                return step
            if not sub:
                return step.model_copy(update=changes)
            subs = tuple(c.model_copy(update=changes) if str(c.id) == sub else c for c in step.substeps)
            return step.model_copy(update={"substeps": subs})

        steps = tuple(change(s) for s in self.active.steps)
        return self.model_copy(update={"active": self.active.model_copy(update={"steps": steps})})

    def apply(self, update: PlanUpdate, *, max_in_progress: int = 1) -> tuple[PlanBoard, bool]:
        """Apply an update; return the new board and whether the plan just got archived."""
        new = apply(self.active, update, max_in_progress=max_in_progress)
        if new.is_finished:
            return PlanBoard(active=LivePlan(), archived=self.archived + (new,)), True
        return PlanBoard(active=new, archived=self.archived), False

    def reopened(self, step_id: int) -> PlanBoard:
        """The latest plan active again with step `step_id` and every later step pending (a rewind)."""
        plan = self.latest

        def reset(step: Step) -> Step:
            fresh = {"status": StepStatus.PENDING, "result": "", "verified": "", "evidence": (), "challenged": False}
            return step.model_copy(update={**fresh, "substeps": tuple(reset(c) for c in step.substeps)})

        steps = tuple(reset(s) if s.id >= step_id else s for s in plan.steps)
        archived = self.archived[:-1] if self.active.is_empty and self.archived else self.archived
        return PlanBoard(active=plan.model_copy(update={"steps": steps}), archived=archived)

    @property
    def latest(self) -> LivePlan:
        """What a plan panel shows: the active plan, else the last finished one."""
        if self.active.is_empty and self.archived:
            return self.archived[-1]
        return self.active
