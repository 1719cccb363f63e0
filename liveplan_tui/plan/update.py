"""Changing a plan: `apply` validates a whole update against the plan it would produce and either applies all of it
or raises `PlanError` naming what to fix. Sub-steps are addressed as "N.M"; a parent's status follows them. Pure.
"""

from __future__ import annotations

from typing import Any

from .model import LivePlan, NewStep, NewSubStep, PlanError, PlanUpdate, Step, StepPatch
from .status import STATUSES, StepStatus


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
    running = plan.in_progress  # leaves: a parent is in progress because one of its sub-steps is
    if len(running) > max_in_progress:
        ids_text = " and ".join(s.key for s in running)
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
                substeps=_new_substeps(pos, new.substeps or []),
            )
        )
    # a parent sent in progress starts its first sub-step; one sent pending leaves its sub-steps as they came
    return [settled(s, None if s.status == StepStatus.PENDING else s.status) for s in steps]


def _new_substeps(parent: int, new_subs: list[NewSubStep]) -> tuple[Step, ...]:
    subs = []
    for m, new in enumerate(new_subs, start=1):
        where = f"steps[{parent}].substeps[{m}]"
        status = _check_status(new.status or StepStatus.PENDING, where)
        subs.append(
            Step(
                id=m,
                parent=parent,
                description=_check_description(new.description, where),
                status=status,
                result=(new.result or "").strip(),
                check=(new.check or "").strip(),
            )
        )
    return tuple(subs)


def _kept_records(old: tuple[Step, ...], new: list[Step]) -> list[Step]:
    """A whole new step list keeps the record of each step it repeats (matched by description)."""
    records = {s.description: (s.evidence, s.challenged) for s in old if s.evidence or s.challenged}
    return [
        s.model_copy(update={"evidence": records[s.description][0], "challenged": records[s.description][1]})
        if s.description in records
        else s
        for s in new
    ]


def _changes(patch: StepPatch, where: str) -> dict[str, object]:
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
    return changes


def _patched(steps: list[Step], patches: list[StepPatch]) -> list[Step]:
    """Steps with `patches` applied by id ("2") or sub-step id ("2.1"); an unknown id or an empty patch is an
    error. A parent's status then follows its sub-steps."""
    steps = list(steps)
    by_id = {str(s.id): i for i, s in enumerate(steps)}
    told: dict[int, StepStatus] = {}  # parents whose status the update set itself
    for patch in patches:
        top, _, sub = str(patch.id).strip().partition(".")
        if top not in by_id:
            raise PlanError(f"unknown step id {patch.id}; known steps are {_id_list({s.id for s in steps})}")
        i = by_id[top]
        if not sub:
            changes = _changes(patch, f"updates for step {top}")
            if "status" in changes and steps[i].substeps:
                told[i] = changes.pop("status")  # type: ignore[assignment]
            steps[i] = steps[i].model_copy(update=changes)
            continue
        subs = list(steps[i].substeps)
        j = next((k for k, c in enumerate(subs) if str(c.id) == sub), None)
        if j is None:
            known = ", ".join(c.key for c in subs) or f"none (step {top} has no sub-steps)"
            raise PlanError(f"unknown sub-step id {patch.id}; known sub-steps of step {top} are {known}")
        subs[j] = subs[j].model_copy(update=_changes(patch, f"updates for sub-step {patch.id}"))
        steps[i] = steps[i].model_copy(update={"substeps": tuple(subs)})
    return [settled(s, told.get(i)) for i, s in enumerate(steps)]


def settled(step: Step, told: StepStatus | None = None) -> Step:
    """A parent's status from its sub-steps: in progress while one is, completed (or cancelled) once all are
    done. Told `completed` with sub-steps open, it refuses; told `cancelled`, it cancels them; told `in_progress`,
    it starts the first pending one; told `pending`, they start over."""
    if not step.substeps:
        return step
    subs = list(step.substeps)
    open_ = [c for c in subs if c.status in (StepStatus.PENDING, StepStatus.IN_PROGRESS)]
    if told == StepStatus.COMPLETED and open_:
        keys = ", ".join(c.key for c in open_)
        raise PlanError(f"step {step.id} has open sub-steps ({keys}); complete or cancel them first")
    if told == StepStatus.CANCELLED:
        subs = [c.model_copy(update={"status": StepStatus.CANCELLED}) if c in open_ else c for c in subs]
    elif told == StepStatus.PENDING:
        fresh = {"status": StepStatus.PENDING, "result": "", "verified": ""}
        subs = [c.model_copy(update=fresh) for c in subs]
    elif told == StepStatus.IN_PROGRESS and not any(c.status == StepStatus.IN_PROGRESS for c in subs):
        first = next((k for k, c in enumerate(subs) if c.status == StepStatus.PENDING), None)
        if first is not None:
            subs[first] = subs[first].model_copy(update={"status": StepStatus.IN_PROGRESS})
    statuses = {c.status for c in subs}
    if told == StepStatus.CANCELLED or (step.status == StepStatus.CANCELLED and told is None and not open_):
        status = StepStatus.CANCELLED  # the user's or the model's cancel stands
    elif StepStatus.IN_PROGRESS in statuses:
        status = StepStatus.IN_PROGRESS
    elif statuses <= {StepStatus.COMPLETED, StepStatus.CANCELLED}:
        status = StepStatus.COMPLETED if StepStatus.COMPLETED in statuses else StepStatus.CANCELLED
    else:
        status = StepStatus.PENDING
    return step.model_copy(update={"status": status, "substeps": tuple(subs)})


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
