"""Plan approval: with `plan_approval = "ask"`, a plan the model makes waits for the user's review.

The reviewer is a front-end's callback, like the tool approver: the TUI shows
the plan for editing, the REPL asks, `exec` defers (the turn ends awaiting
approval, exit 4, and `exec --continue --approve-plan` goes on). Whatever the
user decides, the model is told precisely: the changes as lines, or the
rejection and its reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..events import Event, PlanProposed, PlanReviewed, PlanUpdated
from ..plan import LivePlan, PlanError, PlanUpdate
from ..plan.keeper import PlanKeeper
from ..plan.review import PlanDraft, Verdict, changes, makes_new_plan, told, update_from

DEFERRED = "The plan is waiting for the user's approval; this turn ends here. Do nothing else."
NOT_RUN = "not run: {why}"
HELD = "a new plan waits for the user's approval, and no tool runs before it; call it again once the plan is approved"


@dataclass(frozen=True)
class PlanReview:
    verdict: Verdict
    draft: PlanDraft | None = None  # the edited plan, when the user changed it before approving
    reason: str = ""


PlanReviewer = Callable[[LivePlan], Awaitable[PlanReview]]


async def defer_review(plan: LivePlan) -> PlanReview:
    """`exec`: no one is there to review; the turn stops with the plan proposed."""
    return PlanReview("defer")


@dataclass
class ReviewOutcome:
    events: list[Event] = field(default_factory=list)
    told: str = ""  # what the model reads of the review
    proceed: bool = True  # False: the rest of this reply's tool calls must not run
    deferred: bool = False

    @property
    def why_not_run(self) -> str:
        why = "the plan awaits the user's approval" if self.deferred else "the user rejected the plan"
        return NOT_RUN.format(why=why)


def is_new_plan(event: PlanUpdated) -> bool:
    """A plan the model just made: none before, or a new goal; not a step's progress. A new plan that arrives
    finished (every step completed) is one too: nothing in it was approved."""
    return event.source != "user" and makes_new_plan(event.old, event.new)


def held_back(reviewer: PlanReviewer | None, keeper: PlanKeeper, plan_calls: list[PlanUpdate]) -> str | None:
    """Why the other tool calls of a reply that proposes a new plan must not run (None: they may).

    Under `ask`, nothing runs before the plan is approved: not a command listed before the plan in the same reply,
    not one after it. The model is told to call them again once the plan is approved.
    """
    if reviewer is None:
        return None
    for update in plan_calls:
        try:
            after = keeper.preview(update)
        except PlanError:
            continue
        if makes_new_plan(keeper.board.active, after):
            return NOT_RUN.format(why=HELD)
    return None


async def review_plan(reviewer: PlanReviewer | None, keeper: PlanKeeper, event: PlanUpdated) -> ReviewOutcome:
    """Ask the user about a newly made plan and apply their verdict through the keeper."""
    if reviewer is None or not is_new_plan(event):
        return ReviewOutcome()
    return await review_proposal(reviewer, keeper, event.new)


async def review_proposal(reviewer: PlanReviewer | None, keeper: PlanKeeper, plan: LivePlan) -> ReviewOutcome:
    """Ask the user about `plan`, known to be new (strict mode's first plan), and apply their verdict."""
    if reviewer is None:
        return ReviewOutcome()
    events: list[Event] = [PlanProposed(plan=plan)]
    review = await reviewer(plan)
    if review.verdict == "defer":
        keeper.await_approval()
        return ReviewOutcome(events, DEFERRED, proceed=False, deferred=True)
    edits = changes(plan, review.draft) if review.draft is not None and review.verdict == "approve" else []
    if review.verdict == "reject":
        events.append(keeper.clear())
    elif edits and review.draft is not None:
        try:
            events.append(keeper.apply(update_from(plan, review.draft), source="user"))
        except PlanError as exc:
            edits = []
            events.append(keeper.clear())
            review = PlanReview("reject", reason=f"the edited plan was invalid ({exc})")
    events.append(PlanReviewed(verdict=review.verdict, changes=edits, reason=review.reason))  # type: ignore[arg-type]
    text = told(plan, review.verdict, review.draft if edits else None, review.reason)
    return ReviewOutcome(events, text, proceed=review.verdict == "approve")


def resolve_pending(keeper: PlanKeeper, approved: bool, reply: str) -> tuple[list[Event], str]:
    """A plan left awaiting approval (by `exec`), settled by the user's next message.

    Approved: it runs as proposed. Not approved: the message is the user's answer to it,
    so the plan is dropped and the model is told why.
    """
    plan = keeper.board.active
    if not keeper.board.awaiting_approval:
        return [], ""
    keeper.approved()
    if approved:
        return [PlanReviewed(verdict="approve")], told(plan, "approve", None, "")
    reason = f"they answered instead: {reply.strip()[:300]}"
    return [PlanReviewed(verdict="reject", reason=reason), keeper.clear()], told(plan, "reject", None, reason)
