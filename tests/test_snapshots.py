"""A few SVG snapshots of the key states (pytest-textual-snapshot)."""

from __future__ import annotations

import snapshot_states as states
from tui_helpers import make_app

URL = "http://127.0.0.1:9/v1"  # never called: the states are built from events


def test_empty_state(snap_compare) -> None:
    assert snap_compare(make_app(URL), terminal_size=(120, 40), run_before=states.prepare)


def test_mid_stream_with_active_plan(snap_compare) -> None:
    assert snap_compare(make_app(URL), terminal_size=(120, 40), run_before=states.mid_stream)


def test_finished_plan(snap_compare) -> None:
    assert snap_compare(make_app(URL), terminal_size=(120, 40), run_before=states.finished)


def test_narrow_terminal(snap_compare) -> None:
    assert snap_compare(make_app(URL), terminal_size=(70, 40), run_before=states.mid_stream)


def test_approval_modal(snap_compare) -> None:
    assert snap_compare(make_app(URL), terminal_size=(120, 40), run_before=states.approval)


def test_pinned_progress_at_60_by_20(snap_compare) -> None:
    async def plan_in_progress(pilot) -> None:
        """A plan at 1/3 and no streamed text, so the snapshot cannot depend on streaming speed."""
        from liveplan_tui.events import PlanUpdated
        from liveplan_tui.ui.widgets.chat import UserBlock

        await states.prepare(pilot)
        await pilot.app.chat.add(UserBlock("Add a --verbose flag to the CLI and run the tests"))
        await pilot.app.handle_event(PlanUpdated(old=states.plan_at(0), new=states.plan_at(1)))
        await pilot.pause(0.3)

    assert snap_compare(make_app(URL), terminal_size=(60, 20), run_before=plan_in_progress)


def test_collapsed_plan_panel(snap_compare) -> None:
    async def collapsed(pilot) -> None:
        await states.mid_stream(pilot)
        await pilot.press("f2")
        await pilot.pause(0.2)

    assert snap_compare(make_app(URL), terminal_size=(120, 40), run_before=collapsed)


def test_plan_review_with_an_edited_step(snap_compare) -> None:
    assert snap_compare(make_app(URL), terminal_size=(120, 40), run_before=states.plan_review)


def test_pinned_progress_at_70_by_24(snap_compare) -> None:
    async def plan_in_progress(pilot) -> None:
        from liveplan_tui.events import PlanUpdated

        await states.prepare(pilot)
        await pilot.app.handle_event(PlanUpdated(old=states.plan_at(1), new=states.plan_at(2)))
        await pilot.pause(0.3)

    assert snap_compare(make_app(URL), terminal_size=(70, 24), run_before=plan_in_progress)
