"""The LivePlan: goal, numbered steps and notes, held as immutable program state.

The plan is never text in the conversation. It is rendered into the system
prompt on every main-loop call, so condensation can't lose it, and it changes
only through :func:`apply`, which validates a whole update against the plan it
would produce and either applies all of it or raises :class:`PlanError`.
Everything here is pure: no I/O, no clock, no randomness.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from ..errors import LivePlanError
from .evidence import DESPITE_FAILURE, NO_WORK, Evidence, last_failure, summary
from .shapes import normalize
from .status import (
    STATUS_TABLE,
    STATUSES,
    TERMINAL,
    VERIFICATION_BADGES,
    StatusInfo,
    StepStatus,
    Verification,
    glyph,
)

__all__ = ["STATUS_TABLE", "STATUSES", "TERMINAL", "StatusInfo", "StepStatus", "Verification", "glyph"]


class PlanError(LivePlanError, ValueError):
    """An update that was rejected whole; the message tells the model how to fix it."""


WIRE_STATUS = WithJsonSchema(
    {"enum": [s.value for s in StepStatus], "title": "Status", "type": "string"}
)  # the pinned `exec --json` schema's form


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int = Field(ge=1)
    description: str
    status: Annotated[StepStatus, WIRE_STATUS] = StepStatus.PENDING
    result: str = ""
    depends_on: tuple[int, ...] = ()
    check: str = ""  # a shell command that proves the step is done
    verified: Verification = ""  # what running `check` showed, once the step was marked completed
    evidence: tuple[Evidence, ...] = ()  # what the tools did while it was in progress
    challenged: bool = False  # a claim it was done was refused once, against a failing command or check

    @property
    def badge(self) -> str:
        """How the step's check went, in words the panel, the REPL and the export share."""
        return VERIFICATION_BADGES[self.verified]

    @property
    def claim(self) -> str:
        """How a completed step stands against its record: nothing done, done despite a failure, or "" (fine)."""
        if self.status != StepStatus.COMPLETED:
            return ""
        if not self.evidence:
            return "" if self.verified == "passed" else NO_WORK  # a passed check is work enough
        return DESPITE_FAILURE if last_failure(self.evidence) is not None else ""

    @property
    def shown_evidence(self) -> str:
        """The record in one line, with the claim when it needs saying: `2 files · 1 command ✘ · completed despite
        a failure`."""
        return " · ".join(part for part in (summary(self.evidence), self.claim) if part)


class LivePlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    goal: str = ""
    steps: tuple[Step, ...] = ()
    notes: str = ""

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.status in TERMINAL)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def is_empty(self) -> bool:
        return not (self.goal or self.steps or self.notes)

    @property
    def is_finished(self) -> bool:
        """A plan is finished (and gets archived) once every step is completed or cancelled."""
        return bool(self.steps) and self.done == self.total

    @property
    def in_progress(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.status == StepStatus.IN_PROGRESS)

    @property
    def current(self) -> Step | None:
        """The step in progress (the first, when strict mode runs several)."""
        return next(iter(self.in_progress), None)

    def completed_ids(self) -> set[int]:
        return {s.id for s in self.steps if s.status == StepStatus.COMPLETED}

    def ready(self, running: set[int] = frozenset()) -> list[Step]:  # type: ignore[assignment]
        """Steps that may start now: runnable, not running, every dependency completed."""
        done = self.completed_ids()
        return [
            s
            for s in self.steps
            if STATUS_TABLE[s.status].runnable and s.id not in running and set(s.depends_on) <= done
        ]

    def step(self, step_id: int) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def progress(self) -> str:
        return f"{self.done}/{self.total} done"

    def render(self) -> str:
        """The `[PLAN]` block: a stable contract that scripts and the model read."""
        lines = ["[PLAN]"]
        if self.goal:
            lines.append(f"Goal: {self.goal}")
        for s in self.steps:
            line = f"{s.id}. [{s.status}] {s.description}"
            if s.depends_on:
                line += f" (after {', '.join(map(str, s.depends_on))})"
            if s.result:
                line += f" → {s.result}"
            lines.append(line)
        if self.notes:
            lines.append(f"Notes: {self.notes}")
        lines.append(self.progress())
        lines.append("[/PLAN]")
        return "\n".join(lines)


class NewStep(BaseModel):
    """One entry of `steps`, which replaces the whole list; ids become positions 1..n."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(description="What this step does, in a few words.")
    status: str | None = Field(
        default=None, description="The step's status.", json_schema_extra={"enum": list(STATUSES)}
    )
    result: str | None = Field(default=None, description="A short result, once known.")
    depends_on: list[int] | None = Field(
        default=None, description="1-based positions in this list that must complete first."
    )
    check: str | None = Field(
        default=None, description="A shell command that proves the step is done; run when it is marked completed."
    )


class StepPatch(BaseModel):
    """One entry of `updates`, which patches an existing step by id."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(description="The id of the step to change.")
    status: str | None = Field(
        default=None, description="The step's status.", json_schema_extra={"enum": list(STATUSES)}
    )
    result: str | None = Field(default=None, description="A short result of the step.")
    description: str | None = Field(default=None, description="A new description.")
    check: str | None = Field(
        default=None, description="A shell command that proves the step is done; run when it is marked completed."
    )


class PlanUpdate(BaseModel):
    """The arguments of the `update_plan` tool; the names are a stable contract."""

    model_config = ConfigDict(extra="forbid")

    goal: str | None = Field(default=None, description="The overall goal of the plan.")
    steps: list[NewStep] | None = Field(
        default=None, description="Replaces the whole step list; ids are renumbered 1..n."
    )
    updates: list[StepPatch] | None = Field(default=None, description="Patches existing steps by id.")
    notes: str | None = Field(default=None, description="Free-form notes kept with the plan.")
    explanation: str | None = Field(default=None, description="Why you changed the plan; shown to the user.")

    @model_validator(mode="before")
    @classmethod
    def _usual_shapes(cls, data: Any) -> Any:
        return normalize(data)

    def is_empty(self) -> bool:
        return self.goal is None and self.steps is None and self.updates is None and self.notes is None


def merge_updates(updates: list[PlanUpdate]) -> PlanUpdate:
    """Several `update_plan` calls in one reply, as the one change the model meant.

    The last goal, step list and notes win; patches are kept in order after the last step list.
    The whole is then validated against the plan it produces, so order within the reply is free.
    """
    if len(updates) == 1:
        return updates[0]
    merged: dict[str, Any] = {}
    patches: list[StepPatch] = []
    for update in updates:
        if update.steps is not None:
            patches = []
        for name in ("goal", "steps", "notes", "explanation"):
            if getattr(update, name) is not None:
                merged[name] = getattr(update, name)
        patches += update.updates or []
    if patches:
        merged["updates"] = patches
    return PlanUpdate.model_validate(merged)


def _check_status(status: str, where: str) -> StepStatus:
    """The status the model named (already normalised from its synonyms), or a PlanError naming the valid ones."""
    if status not in STATUSES:
        raise PlanError(f"{where}: bad status {status!r}; use one of {', '.join(STATUSES)}")
    return StepStatus(status)


def _check_description(text: str, where: str) -> str:
    text = text.strip()
    if not text:
        raise PlanError(f"{where}: empty description; say what the step does")
    return text


def _find_cycle(steps: tuple[Step, ...]) -> list[int] | None:
    """Return one dependency cycle as a list of ids, or None."""
    deps = {s.id: s.depends_on for s in steps}
    state: dict[int, int] = {}  # 1 = on the stack, 2 = done
    stack: list[int] = []

    def visit(node: int) -> list[int] | None:
        state[node] = 1
        stack.append(node)
        for nxt in deps.get(node, ()):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for sid in deps:
        if state.get(sid) is None:
            found = visit(sid)
            if found:
                return found
    return None


def _validate(plan: LivePlan, max_in_progress: int = 1) -> None:
    ids = {s.id for s in plan.steps}
    for s in plan.steps:
        for d in s.depends_on:
            if d == s.id:
                raise PlanError(f"step {s.id}: depends on itself; remove {d} from its depends_on")
            if d not in ids:
                raise PlanError(f"step {s.id}: depends on unknown step {d}; known steps are {_id_list(ids)}")
    cycle = _find_cycle(plan.steps)
    if cycle:
        raise PlanError(f"dependency cycle {' -> '.join(map(str, cycle))}; break it by removing one dependency")
    running = plan.in_progress
    if len(running) > max_in_progress:
        ids_text = " and ".join(str(s.id) for s in running)
        limit = "one step" if max_in_progress == 1 else f"{max_in_progress} steps"
        raise PlanError(
            f"steps {ids_text} would all be in_progress; at most {limit} may be in_progress "
            "(complete or reset the current one in the same call)"
        )


def _id_list(ids: set[int]) -> str:
    return ", ".join(map(str, sorted(ids))) if ids else "none (send `steps` to create some)"


def _new_steps(new_steps: list[NewStep]) -> list[Step]:
    """A whole new step list: ids are positions, dependencies must name positions in it."""
    n = len(new_steps)
    steps = []
    for pos, new in enumerate(new_steps, start=1):
        where = f"steps[{pos}]"
        desc = _check_description(new.description, where)
        status = _check_status(new.status or StepStatus.PENDING, where)
        for d in new.depends_on or ():
            if not 1 <= d <= n:
                raise PlanError(f"{where}: depends on unknown step {d}; positions run 1..{n}")
        steps.append(
            Step(
                id=pos,
                description=desc,
                status=status,
                result=(new.result or "").strip(),
                depends_on=tuple(dict.fromkeys(new.depends_on or ())),
                check=(new.check or "").strip(),
            )
        )
    return steps


def _kept_records(old: tuple[Step, ...], new: list[Step]) -> list[Step]:
    """A whole new step list keeps the record of each step it repeats (matched by description)."""
    records = {s.description: (s.evidence, s.challenged) for s in old if s.evidence or s.challenged}
    return [
        s.model_copy(update={"evidence": records[s.description][0], "challenged": records[s.description][1]})
        if s.description in records
        else s
        for s in new
    ]


def _patched(steps: list[Step], patches: list[StepPatch]) -> list[Step]:
    """Steps with `patches` applied by id; an unknown id or an empty patch is an error."""
    steps = list(steps)
    by_id = {s.id: i for i, s in enumerate(steps)}
    for patch in patches:
        where = f"updates for step {patch.id}"
        if patch.id not in by_id:
            raise PlanError(f"unknown step id {patch.id}; known steps are {_id_list(set(by_id))}")
        changes: dict[str, object] = {}
        if patch.status is not None:
            changes["status"] = _check_status(patch.status, where)
        if patch.result is not None:
            changes["result"] = patch.result.strip()
        if patch.description is not None:
            changes["description"] = _check_description(patch.description, where)
        if patch.check is not None:
            changes["check"] = patch.check.strip()
        if patch.status is not None and patch.status != StepStatus.COMPLETED:
            changes["verified"] = ""  # reopened or cancelled: an old verdict no longer holds
        if not changes:
            raise PlanError(f"{where}: nothing to change; give status, result, description or check")
        i = by_id[patch.id]
        steps[i] = steps[i].model_copy(update=changes)
    return steps


def apply(plan: LivePlan, update: PlanUpdate, *, max_in_progress: int = 1) -> LivePlan:
    """Return the plan after `update`, or raise PlanError and change nothing.

    Validation looks at the state after the whole update, so one call may
    complete step 1 and start step 2. Only strict mode's parallel runs raise
    `max_in_progress` above one.
    """
    if update.is_empty():
        raise PlanError("empty update: give at least one of goal, steps, updates, notes")
    goal = plan.goal
    if update.goal is not None:
        goal = update.goal.strip()
        if not goal:
            raise PlanError("goal: empty goal; say what the plan is for")
    steps = _kept_records(plan.steps, _new_steps(update.steps)) if update.steps is not None else list(plan.steps)
    steps = _patched(steps, update.updates or [])
    notes = plan.notes if update.notes is None else update.notes.strip()
    new_plan = LivePlan(goal=goal, steps=tuple(steps), notes=notes)
    _validate(new_plan, max_in_progress)
    return new_plan
