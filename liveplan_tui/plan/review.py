"""A proposed plan under the user's review: the draft they edit, and what changed. Pure.

Each draft step remembers which proposed step it came from (`origin`), so the
changes can be told to the model precisely: a reworded step, an added, deleted
or moved one, a new goal. The approved draft becomes an ordinary `PlanUpdate`
applied through the same keeper as every other change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from .model import LivePlan, NewStep, NewSubStep, PlanError, PlanUpdate, Step
from .status import StepStatus

Verdict = Literal["approve", "reject", "defer"]


def makes_new_plan(before: LivePlan, after: LivePlan) -> bool:
    """Whether a change makes a new plan (none before, or a new goal), which waits for review under `ask`;
    a step's progress on the plan already approved does not."""
    return not after.is_empty and (before.is_empty or before.goal != after.goal)


@dataclass(frozen=True)
class DraftStep:
    description: str
    origin: int | None = None  # the proposed step's id; None for a step the user added
    substeps: tuple[str, ...] = ()  # their descriptions; edited in place, so position is identity


@dataclass(frozen=True)
class PlanDraft:
    goal: str
    steps: tuple[DraftStep, ...]

    @classmethod
    def of(cls, plan: LivePlan) -> PlanDraft:
        return cls(
            plan.goal,
            tuple(DraftStep(s.description, s.id, tuple(c.description for c in s.substeps)) for s in plan.steps),
        )

    def _index(self, number: int) -> int:
        if not 1 <= number <= len(self.steps):
            raise PlanError(f"there is no step {number}; the draft has steps 1-{len(self.steps)}")
        return number - 1

    def edit(self, number: int, text: str) -> PlanDraft:
        """Reword step `number` (1-based, as shown)."""
        i = self._index(number)
        steps = list(self.steps)
        steps[i] = replace(steps[i], description=_text(text))
        return replace(self, steps=tuple(steps))

    def add(self, text: str, after: int | None = None) -> PlanDraft:
        """A new step after step `after` (0: first; None: at the end)."""
        at = len(self.steps) if after is None else 0 if after == 0 else self._index(after) + 1
        steps = list(self.steps)
        steps.insert(at, DraftStep(_text(text)))
        return replace(self, steps=tuple(steps))

    def delete(self, number: int) -> PlanDraft:
        i = self._index(number)
        if len(self.steps) == 1:
            raise PlanError("a plan needs at least one step; reject the plan instead")
        return replace(self, steps=self.steps[:i] + self.steps[i + 1 :])

    def move(self, number: int, offset: int) -> PlanDraft:
        """Move step `number` up (offset -1) or down (+1); at either end it stays."""
        i = self._index(number)
        j = min(max(i + offset, 0), len(self.steps) - 1)
        steps = list(self.steps)
        steps.insert(j, steps.pop(i))
        return replace(self, steps=tuple(steps))

    def _subs(self, number: int, change: Callable[[list[str]], object]) -> PlanDraft:
        i = self._index(number)
        subs = list(self.steps[i].substeps)
        change(subs)
        steps = list(self.steps)
        steps[i] = replace(steps[i], substeps=tuple(subs))
        return replace(self, steps=tuple(steps))

    def _sub_index(self, number: int, sub: int) -> int:
        count = len(self.steps[self._index(number)].substeps)
        if not 1 <= sub <= count:
            raise PlanError(f"there is no sub-step {number}.{sub}; step {number} has {count}")
        return sub - 1

    def edit_sub(self, number: int, sub: int, text: str) -> PlanDraft:
        """Reword sub-step `number.sub`."""
        j, cleaned = self._sub_index(number, sub), _text(text)
        return self._subs(number, lambda subs: subs.__setitem__(j, cleaned))

    def add_sub(self, number: int, text: str, after: int | None = None) -> PlanDraft:
        """A new sub-step of step `number`, after sub-step `after` (None: at the end)."""
        cleaned = _text(text)
        at = len(self.steps[self._index(number)].substeps) if after is None else after
        return self._subs(number, lambda subs: subs.insert(at, cleaned))

    def delete_sub(self, number: int, sub: int) -> PlanDraft:
        j = self._sub_index(number, sub)
        return self._subs(number, lambda subs: subs.pop(j))

    def with_goal(self, goal: str) -> PlanDraft:
        return replace(self, goal=_text(goal))


def _text(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise PlanError("empty text; write what the step (or goal) should say")
    return cleaned


def changes(plan: LivePlan, draft: PlanDraft) -> list[str]:
    """What the user changed, one line each, in the proposal's own step numbers."""
    lines: list[str] = []
    if draft.goal != plan.goal:
        lines.append(f'goal changed from "{plan.goal}" to "{draft.goal}"')
    kept = {s.origin for s in draft.steps if s.origin is not None}
    lines += [f'deleted step {s.id} ("{s.description}")' for s in plan.steps if s.id not in kept]
    order = [s.origin for s in draft.steps if s.origin is not None]
    for position, step in enumerate(draft.steps, start=1):
        original = plan.step(step.origin) if step.origin is not None else None
        if original is None:
            lines.append(f'added step {position}: "{step.description}"')
            continue
        if step.description != original.description:
            lines.append(f'reworded step {original.id}: "{original.description}" -> "{step.description}"')
        lines += _sub_changes(original, step)
        if order.index(original.id) != sorted(order).index(original.id):
            lines.append(f"moved step {original.id} to position {position}")
    return lines


def _sub_changes(original: Step, step: DraftStep) -> list[str]:
    """Sub-steps reworded, added or deleted under a kept step, by position."""
    old = [c.description for c in original.substeps]
    lines = []
    for m, (was, now) in enumerate(zip(old, step.substeps, strict=False), start=1):
        if was != now:
            lines.append(f'reworded sub-step {original.id}.{m}: "{was}" -> "{now}"')
    lines += [f'added sub-step {original.id}.{m}: "{now}"' for m, now in enumerate(step.substeps, 1) if m > len(old)]
    lines += [f'deleted sub-step {original.id}.{m} ("{was}")' for m, was in enumerate(old, 1) if m > len(step.substeps)]
    return lines


def _new_subs(original: Step | None, step: DraftStep) -> list[NewSubStep] | None:
    """The draft's sub-steps; one still in its place keeps its status, result and check."""
    if not step.substeps:
        return None
    kept = {c.description: c for c in original.substeps} if original is not None else {}
    subs = []
    for text in step.substeps:
        was = kept.get(text)
        subs.append(
            NewSubStep(description=text, status=was.status if was else StepStatus.PENDING,
                       result=(was.result or None) if was else None, check=(was.check or None) if was else None)
        )  # fmt: skip
    return subs


def update_from(plan: LivePlan, draft: PlanDraft) -> PlanUpdate:
    """The approved draft as one update: kept steps keep status, result and check; ids become positions."""
    position = {s.origin: n for n, s in enumerate(draft.steps, start=1) if s.origin is not None}
    steps = []
    for step in draft.steps:
        original = plan.step(step.origin) if step.origin is not None else None
        if original is None:
            steps.append(
                NewStep(description=step.description, status=StepStatus.PENDING, substeps=_new_subs(None, step))
            )
            continue
        depends = [position[d] for d in original.depends_on if d in position and position[d] < position[original.id]]
        steps.append(
            NewStep(
                description=step.description,
                status=original.status,
                result=original.result or None,
                depends_on=depends or None,
                check=original.check or None,
                substeps=_new_subs(original, step),
            )
        )
    return PlanUpdate(goal=draft.goal, steps=steps, notes=plan.notes or None)


def told(plan: LivePlan, verdict: Verdict, draft: PlanDraft | None, reason: str) -> str:
    """What the model reads about the user's review of its proposed plan."""
    if verdict == "reject":
        why = f": {reason}" if reason.strip() else " (no reason given)"
        return (
            f"The user rejected this plan{why}. The plan was discarded. "
            "Propose a different plan with update_plan, or ask the user what they want."
        )
    edits = changes(plan, draft) if draft is not None else []
    if not edits:
        return "The user approved this plan as proposed. Carry it out."
    listed = "\n".join(f"- {line}" for line in edits)
    return f"The user edited this plan before approving it:\n{listed}\nFollow the plan as it is now."


DRAFT_COMMANDS = (
    "/plan edit N TEXT · /plan add TEXT · /plan delete N · /plan up N · /plan down N · /plan goal TEXT · "
    "/plan sub N TEXT · /plan edit N.M TEXT · /plan delete N.M"
)


def _number(text: str, command: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise PlanError(f"expected a step number after /plan {command}, got {text!r}") from None


def edited_by_command(draft: PlanDraft, line: str) -> PlanDraft:
    """One of the line chat's `/plan` edits applied to a draft under review; raises PlanError."""
    words = line.strip().removeprefix("/plan").strip()
    sub, _, rest = words.partition(" ")
    rest = rest.strip()
    if sub in ("add", "goal"):
        return draft.add(rest) if sub == "add" else draft.with_goal(rest)
    if sub == "sub":
        number_text, _, text = rest.partition(" ")
        return draft.add_sub(_number(number_text, sub), text)
    if sub in ("edit", "delete") and "." in rest.partition(" ")[0]:
        key, _, text = rest.partition(" ")
        top, _, low = key.partition(".")
        n, m = _number(top, sub), _number(low, sub)
        return draft.edit_sub(n, m, text) if sub == "edit" else draft.delete_sub(n, m)
    if sub in ("edit", "delete", "up", "down"):
        number_text, _, text = rest.partition(" ")
        number = _number(number_text, sub)
        if sub == "edit":
            return draft.edit(number, text)
        return draft.delete(number) if sub == "delete" else draft.move(number, -1 if sub == "up" else 1)
    raise PlanError(f"unknown edit {line.strip()!r}; use {DRAFT_COMMANDS}")
