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


LONG_PLAN = 12  # leaves; past this, [PLAN] expands only the step in progress

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
    substeps: tuple[Step, ...] = ()  # one level only: a sub-step has none of its own
    parent: int = 0  # a sub-step's parent id; 0 for a step of the plan itself

    @property
    def key(self) -> str:
        """How updates address it: "2" for a step, "2.1" for a sub-step."""
        return f"{self.parent}.{self.id}" if self.parent else str(self.id)

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
    def leaves(self) -> tuple[Step, ...]:
        """The steps work is done in: each sub-step, and each step without sub-steps, in plan order."""
        return tuple(leaf for s in self.steps for leaf in (s.substeps or (s,)))

    @property
    def done(self) -> int:
        return sum(1 for s in self.leaves if s.status in TERMINAL)

    @property
    def total(self) -> int:
        return len(self.leaves)

    @property
    def is_empty(self) -> bool:
        return not (self.goal or self.steps or self.notes)

    @property
    def is_finished(self) -> bool:
        """A plan is finished (and gets archived) once every step is completed or cancelled."""
        return bool(self.steps) and self.done == self.total

    @property
    def in_progress(self) -> tuple[Step, ...]:
        """The leaves in progress: a sub-step, not its parent (which is in progress because of it)."""
        return tuple(s for s in self.leaves if s.status == StepStatus.IN_PROGRESS)

    @property
    def current(self) -> Step | None:
        """The step or sub-step in progress (the first, when strict mode runs several)."""
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

    @property
    def now(self) -> str:
        """The step in progress in words: a sub-step with its id (`2.1 Parse the flags`), a step by its description."""
        current = self.current
        if current is None:
            return ""
        return f"{current.key} {current.description}" if current.parent else current.description

    def rows(self) -> list[tuple[int, Step]]:
        """Every step with its depth (0, or 1 for a sub-step under its parent): what the front-ends draw."""
        return [(depth, s) for step in self.steps for depth, s in ((0, step), *((1, c) for c in step.substeps))]

    def step(self, key: int | str) -> Step | None:
        """A step by id (2 or "2"), or a sub-step by "2.1"."""
        top, _, sub = str(key).strip().partition(".")
        parent = next((s for s in self.steps if str(s.id) == top), None)
        if parent is None or not sub:
            return parent
        return next((s for s in parent.substeps if str(s.id) == sub), None)

    def progress(self) -> str:
        return f"{self.done}/{self.total} done"

    def render(self) -> str:
        """The `[PLAN]` block: a stable contract that scripts and the model read."""
        lines = ["[PLAN]"]
        if self.goal:
            lines.append(f"Goal: {self.goal}")
        long = self.total > LONG_PLAN
        for s in self.steps:
            line = f"{s.id}. [{s.status}] {s.description}"
            if s.depends_on:
                line += f" (after {', '.join(map(str, s.depends_on))})"
            if s.substeps and long and s.status != StepStatus.IN_PROGRESS:
                line += f" ({sum(c.status in TERMINAL for c in s.substeps)}/{len(s.substeps)} sub-steps done)"
            if s.result:
                line += f" → {s.result}"
            lines.append(line)
            if not long or s.status == StepStatus.IN_PROGRESS:
                lines += [f"  {c.key} [{c.status}] {c.description}" + (f" → {c.result}" if c.result else "")
                          for c in s.substeps]  # fmt: skip
        if self.notes:
            lines.append(f"Notes: {self.notes}")
        lines.append(self.progress())
        lines.append("[/PLAN]")
        return "\n".join(lines)


class NewSubStep(BaseModel):
    """A sub-step."""  # its fields mean what a step's do: every word here is sent with every request

    model_config = ConfigDict(extra="forbid")

    description: str
    status: str | None = Field(default=None, json_schema_extra={"enum": list(STATUSES)})
    result: str | None = None
    check: str | None = None


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
    substeps: list[NewSubStep] | None = Field(
        default=None,
        description='One level of sub-steps; the step\'s status then follows them (address one as "N.M").',
    )


class StepPatch(BaseModel):
    """One entry of `updates`, which patches an existing step by id, or a sub-step by "N.M"."""

    model_config = ConfigDict(extra="forbid")

    id: int | str = Field(description='The id of the step to change (2), or of a sub-step ("2.1").')
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
