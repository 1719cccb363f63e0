"""`update_plan`: the only way the model changes the live plan.

A step may carry a `check`, a shell command that proves it is done. When an
update completes such a step, the check runs first, through the same approval
path as `run_shell`: passed, the step completes as verified; failed, the update
is refused, the step stays as it was and the model gets the failing output;
refused or unavailable, the step completes marked unverified, never verified.

A step is judged by its record too: completing one right after a command or check run for it failed is refused
once, with an `error:` naming the command and its exit code. Claimed again, it is taken, and shown everywhere as
completed despite a failure, never as verified.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from ..plan import LivePlan, PlanError, PlanUpdate, Step, StepStatus, Verification
from ..plan.evidence import Evidence, failure_line, last_failure
from ..plan.keeper import PlanKeeper, acceptance, rejection
from ..plan.review import makes_new_plan
from ..plan.shapes import VALID_ARGUMENTS
from .base import CheckOutcome, Tool, ToolContext, ToolKind, ToolResult

FAILED_OUTPUT_CHARS = 1500


def _newly_checked(before: LivePlan, after: LivePlan) -> list[tuple[str, str]]:
    """(key, check) of the steps and sub-steps this update completes that carry a check."""
    was = {s.key: s.status for s in _all(before)}
    return [
        (s.key, s.check)
        for s in _all(after)
        if s.status == StepStatus.COMPLETED and s.check and was.get(s.key) != StepStatus.COMPLETED
    ]


def _all(plan: LivePlan) -> list[Step]:
    """Every step and sub-step: a parent may carry a check of its own."""
    return [s for step in plan.steps for s in (step, *step.substeps)]


CONTRADICTED = (
    "error: step {id} was not marked completed: the last command run during it failed: {failure}. Fix what failed "
    "and run it again; or, if the step is done anyway, mark it completed again and it is shown as completed despite "
    "a failure."
)


def _contradicted(before: LivePlan, after: LivePlan) -> tuple[str, Evidence] | None:
    """A step or sub-step this update completes whose last command or check failed, the first time it is claimed
    done. One with a check is left to it: the check runs again now, and its verdict is the newer record."""
    was = {s.key: s for s in _all(before)}
    for step in _all(after):
        old = was.get(step.key)
        if step.status != StepStatus.COMPLETED or old is None or old.status == StepStatus.COMPLETED or step.check:
            continue
        if not old.challenged and (failure := last_failure(old.evidence)) is not None:
            return step.key, failure
    return None


def _trim(text: str) -> str:
    return text if len(text) <= FAILED_OUTPUT_CHARS else "…" + text[-FAILED_OUTPUT_CHARS:]


REVISE = (
    "The check of step {id} has now failed {times} times. Do not try the same step again: revise the remaining "
    "steps with update_plan (split the step, change the approach, or add a step that finds out why it fails), "
    "then carry on with the revised plan."
)


def _failure(after: LivePlan, failed: dict[str, CheckOutcome], record: LivePlan) -> str:
    """The tool result for failed checks: which, the command, and its output, trimmed to the end; after a step's
    second failed check, the model is asked to revise the plan rather than retry it."""
    parts = []
    for sid, outcome in failed.items():
        step = after.step(sid)
        command = step.check if step is not None else ""
        parts.append(
            f"error: the check of step {sid} failed, so the update was not applied and the step stays "
            f"as it was:\n$ {command}\n{_trim(outcome.detail)}"
        )
    stuck = {sid: n for sid in failed if (n := _failed_checks(record, sid)) >= 2}
    if stuck:
        parts += [REVISE.format(id=sid, times=n) for sid, n in stuck.items()]
    else:
        parts.append("Fix what the output shows, then mark the step completed again.")
    return "\n".join(parts)


def _failed_checks(plan: LivePlan, key: str) -> int:
    step = plan.step(key)
    return sum(e.kind == "check" and not e.ok for e in step.evidence) if step is not None else 0


class UpdatePlanTool(Tool):
    name: ClassVar[str] = "update_plan"
    kind: ClassVar[ToolKind] = "plan"
    Params: ClassVar[type[PlanUpdate]] = PlanUpdate
    shrinkable: ClassVar[bool] = False  # the model must always see the whole plan
    arguments_hint: ClassVar[str] = VALID_ARGUMENTS

    def __init__(self, max_in_progress: int = 1) -> None:
        self.max_in_progress = max_in_progress  # above one only in strict mode's parallel walk

    async def run(self, params: PlanUpdate, ctx: ToolContext) -> ToolResult:
        try:
            before, after = ctx.plans.board.active, ctx.plans.preview(params, max_in_progress=self.max_in_progress)
        except PlanError as exc:
            return ToolResult(rejection(exc, ctx.plans.board), is_error=True)
        if (refused := _contradicted(before, after)) is not None:
            step, failure = refused
            event = ctx.plans.challenge(step)
            return ToolResult(CONTRADICTED.format(id=step, failure=failure_line(failure)), is_error=True, plan=event)
        checks = dict(_newly_checked(before, after))
        if ctx.reviews_plans is not None and ctx.reviews_plans() and makes_new_plan(before, after):
            # A plan that arrives with steps completed and checks attached waits for review like any new plan:
            # its checks are commands, and nothing runs before the user approves.
            waiting = CheckOutcome("unverified", "not run: the plan was not approved yet when the step was completed")
            outcomes = dict.fromkeys(checks, waiting)
        else:
            outcomes = {sid: await self._check(cmd, ctx) for sid, cmd in checks.items()}
            for sid, outcome in outcomes.items():
                if outcome.verdict != "unverified":  # a check that ran is on the step's record
                    ctx.plans.record(Evidence(kind="check", what=checks[sid], ok=outcome.verdict == "passed"), sid)
        failed = {sid: o for sid, o in outcomes.items() if o.verdict == "failed"}
        if failed:
            event = ctx.plans.mark({sid: ("failed", "") for sid in failed})
            return ToolResult(_failure(after, failed, ctx.plans.board.active), is_error=True, plan=event)
        verdicts: dict[str, tuple[Verification, str]] = {
            sid: (o.verdict, f"check passed: {checks[sid]}" if o.verdict == "passed" else f"unverified: {o.detail}")
            for sid, o in outcomes.items()
        }
        event = ctx.plans.apply(params, source="model", verdicts=verdicts, max_in_progress=self.max_in_progress)
        return ToolResult(acceptance(event), plan=event)

    async def _check(self, command: str, ctx: ToolContext) -> CheckOutcome:
        if ctx.run_check is None:
            return CheckOutcome("unverified", "the check could not be run here")
        return await ctx.run_check(command)

    def summary(self, args: dict[str, Any]) -> str:
        keys = [k for k in ("goal", "steps", "updates", "notes") if k in args]
        return f"update_plan {', '.join(keys)}"


class OwnSubsteps(UpdatePlanTool):
    """`update_plan` for a strict-mode subagent that owns a step's sub-steps: it may change only those, by "N.M",
    on the live plan; LivePlan sets the parent from them."""

    def __init__(self, step_id: int, live: PlanKeeper, max_in_progress: int) -> None:
        super().__init__(max_in_progress)
        self.step_id = step_id
        self.live = live

    def description(self) -> str:
        return (
            f'Update your sub-steps of step {self.step_id} as you work: `updates` with ids "{self.step_id}.1", '
            f'"{self.step_id}.2"…, each with a status and a short result. Nothing else in the plan is yours.'
        )

    async def run(self, params: PlanUpdate, ctx: ToolContext) -> ToolResult:
        mine = f"{self.step_id}."
        if params.goal is not None or params.steps is not None or params.notes is not None or not params.updates:
            return ToolResult(f"error: you may only send `updates` for your sub-steps ({mine}1, {mine}2…)", True)
        if strays := [str(p.id) for p in params.updates if not str(p.id).startswith(mine)]:
            return ToolResult(
                f"error: {', '.join(strays)} is not yours; update only the sub-steps of step {self.step_id} "
                f'("{mine}1", "{mine}2"…)',
                is_error=True,
            )
        return await super().run(params, replace(ctx, plans=self.live))
