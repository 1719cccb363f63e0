"""Deterministic app states built from core events, for snapshots and README screenshots."""

from __future__ import annotations

from liveplan_tui.agent.session import ApprovalRequest
from liveplan_tui.events import PlanProposed, PlanUpdated, Route, TextDelta, ToolCallFinished, ToolCallStarted, Usage
from liveplan_tui.plan import LivePlan, NewStep, PlanUpdate, StepPatch, apply
from liveplan_tui.ui.widgets.approval import ApprovalScreen
from liveplan_tui.ui.widgets.chat import UserBlock

STEPS = [
    NewStep(description="Read cli.py and find where flags are built", status="in_progress"),
    NewStep(description="Add a --verbose flag", depends_on=[1]),
    NewStep(description="Run the test suite", depends_on=[2]),
]


def plan_at(done: int) -> LivePlan:
    plan = apply(LivePlan(), PlanUpdate(goal="Add a --verbose flag to the CLI", steps=STEPS))
    results = ["flags live in build_parser()", "added with store_true", "42 passed"]
    for i in range(1, done + 1):
        updates = [StepPatch(id=i, status="completed", result=results[i - 1])]
        if i < 3:
            updates.append(StepPatch(id=i + 1, status="in_progress"))
        plan = apply(plan, PlanUpdate(updates=updates))
    return plan


async def prepare(pilot) -> None:
    app = pilot.app
    app.prompt.cursor_blink = False
    while not app.ready:  # the session is built after the first frame
        await pilot.pause(0.02)
    await pilot.pause()


async def mid_stream(pilot) -> None:
    app = pilot.app
    await prepare(pilot)
    await app.chat.add(UserBlock("Add a --verbose flag to the CLI and run the tests"))
    await app.handle_event(Route(strategy="plan", level="keyword", reason="multi-step change"))
    await app.handle_event(
        ToolCallStarted(
            call_id="1",
            name="read_file",
            arguments='{"path": "liveplan_tui/cli.py"}',
            summary="read_file liveplan_tui/cli.py",
        )
    )
    await app.handle_event(ToolCallFinished(call_id="1", name="read_file", result="cli.py (lines 1-40 of 180)"))
    await app.handle_event(PlanUpdated(old=plan_at(0), new=plan_at(1)))
    await app.handle_event(Usage(prompt_tokens=5321, completion_tokens=120, total_tokens=5441, context_window=128000))
    app.status.busy = True
    for piece in [
        "Flags are built in `build_parser()`. ",
        "I'll add `--verbose` as a ",
        "`store_true` option and thread it ",
        "through to the logger:\n\n",
        "```python\nparser.add_argument(\n",
    ]:
        await app.handle_event(TextDelta(text=piece))
    await pilot.pause(0.3)


async def finished(pilot) -> None:
    app = pilot.app
    await prepare(pilot)
    await app.chat.add(UserBlock("Add a --verbose flag to the CLI and run the tests"))
    await app.handle_event(PlanUpdated(old=plan_at(2), new=plan_at(3), archived=True))
    await app.handle_event(TextDelta(text="Done. `--verbose` now raises the log level, and all **42 tests** pass."))
    await app.renderer.end_reply()
    await pilot.pause(0.3)


async def approval(pilot) -> None:
    app = pilot.app
    await mid_stream(pilot)
    await app.renderer.end_reply()
    request = ApprovalRequest(
        call_id="2",
        tool="edit_file",
        why="changes files",
        lexer="diff",
        preview=(
            "edit liveplan_tui/cli.py\n--- a/liveplan_tui/cli.py\n+++ b/liveplan_tui/cli.py\n@@ "
            '-40,3 +40,4 @@\n     parser.add_argument("--json")\n'
            '+    parser.add_argument("--verbose", action="store_true")\n'
        ),
    )
    app.push_screen(ApprovalScreen(request))
    await pilot.pause(0.3)


async def plan_review(pilot) -> None:
    """The review view with step 2 edited, so the snapshot shows the change the model will be told."""
    from liveplan_tui.ui.widgets.plan_review import PlanReviewScreen

    app = pilot.app
    await prepare(pilot)
    await app.chat.add(UserBlock("Add a --verbose flag to the CLI and run the tests"))
    await app.handle_event(Route(strategy="plan", level="keyword", reason="multi-step change"))
    await app.handle_event(PlanProposed(plan=plan_at(0)))
    app.push_screen(PlanReviewScreen(plan_at(0)))
    await pilot.pause(0.3)
    steps = list(app.screen.query(".plan-review-step"))
    steps[1].value = "Add a --verbose flag and a -v alias"
    steps[1].focus()
    await pilot.pause(0.3)
