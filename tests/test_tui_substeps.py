"""#28 in the TUI: the panel draws sub-steps as a tree and its pinned line names the sub-step in progress; the plan
approval view shows the review's findings and edits sub-steps; the model is told each change."""

from __future__ import annotations

from typing import Any

from fake_openai import FakeOpenAI
from textual.widgets import Input, Label
from tui_helpers import chat_text, make_app, submit, wait_for

from liveplan_tui.ui.widgets.plan_panel import StepRow

PLAN: dict[str, Any] = {
    "goal": "Add the --json flag",
    "steps": [
        {"description": "Read cli.py", "status": "completed", "result": "argparse"},
        {"description": "Add the flag", "status": "in_progress",
         "substeps": [{"description": "Parse the flag"}, {"description": "Print JSON"}]},
        {"description": "Run the tests"},
    ],
}  # fmt: skip


def call(arguments: dict[str, Any]) -> dict[str, Any]:
    return {"tool_calls": [{"name": "update_plan", "arguments": arguments}]}


async def test_the_panel_draws_the_tree_and_names_the_sub_step_in_progress(fake: FakeOpenAI) -> None:
    fake.script.extend(
        [
            call(PLAN),
            call(
                {
                    "updates": [
                        {"id": "2.1", "status": "completed", "result": "store_true"},
                        {"id": "2.2", "status": "in_progress"},
                    ]
                }
            ),  # fmt: skip
            {"text": "Printing JSON next. " * 30, "chunk": 4, "delay": 0.02},
        ]
    )
    app = make_app(fake.base_url, mode="plan", approval="never-ask")
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "add a --json flag and run the tests")
        await wait_for(pilot, lambda: app.plan_panel.plan.progress() == "2/4 done", timeout=15)
        await pilot.pause(0.2)
        headline = str(app.plan_panel.query_one("#plan-headline").render())
        assert headline == "2/4 · 2.2 Print JSON"
        rows = list(app.plan_panel.query(StepRow))
        assert [(r.step.key, r.has_class("-sub")) for r in rows] == [
            ("1", False), ("2", False), ("2.1", True), ("2.2", True), ("3", False)
        ]  # fmt: skip
        assert rows[3].has_class("status-in_progress") and rows[2].has_class("status-completed")
        assert "plan review (lint)" in chat_text(app)
        app.action_cancel_turn()


async def test_the_approval_view_shows_the_findings_and_edits_sub_steps(fake: FakeOpenAI) -> None:
    vague = {**PLAN, "steps": [*PLAN["steps"][:2], {"description": "Do the rest"}]}
    fake.script.extend([call(vague), {"text": "Working on it."}])
    app = make_app(fake.base_url, mode="plan", plan_approval="ask")
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, "add a --json flag")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "PlanReviewScreen", timeout=15)
        await pilot.pause(0.2)
        findings = str(app.screen.query_one("#plan-review-findings", Label).render())
        assert "“Do the rest” is vague" in findings
        subs = list(app.screen.query(".plan-review-sub").results(Input))
        assert [s.name for s in subs] == ["2.1", "2.2"]
        subs[1].focus()
        subs[1].value = "Print the result as JSON"
        await pilot.press("ctrl+n")  # a new sub-step after 2.2
        await pilot.pause(0.2)
        assert len(list(app.screen.query(".plan-review-sub"))) == 3
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.turn_running, timeout=15)
        told = [m for m in fake.main_requests()[1]["messages"] if m["role"] == "tool"][-1]["content"]
        assert 'reworded sub-step 2.2: "Print JSON" -> "Print the result as JSON"' in told
        assert 'added sub-step 2.3: "new sub-step"' in told
        plan = app.session.view.board.latest
        assert [c.description for c in plan.step(2).substeps] == [  # type: ignore[union-attr]
            "Parse the flag", "Print the result as JSON", "new sub-step"
        ]  # fmt: skip
