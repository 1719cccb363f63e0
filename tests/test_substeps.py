"""#28 point 1: one level of sub-steps, with the rules held in code (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from liveplan_tui.plan import LivePlan, PlanBoard, PlanError, PlanUpdate, apply
from liveplan_tui.plan.evidence import Evidence
from liveplan_tui.plan.model import LONG_PLAN
from liveplan_tui.present import plan_lines

BASE: dict[str, Any] = {
    "goal": "Ship the CLI",
    "steps": [
        {"description": "Write the parser", "status": "completed", "result": "done"},
        {"description": "Add the flags", "substeps": [{"description": "Parse the flags"}, {"description": "Test"}]},
        {"description": "Document it"},
    ],
}


def plan(**extra: Any) -> LivePlan:
    return apply(LivePlan(), PlanUpdate.model_validate({**BASE, **extra}))


def update(p: LivePlan, *patches: dict[str, Any]) -> LivePlan:
    return apply(p, PlanUpdate.model_validate({"updates": list(patches)}))


def status(p: LivePlan, key: str) -> str:
    step = p.step(key)
    assert step is not None
    return step.status


def test_sub_steps_are_addressed_as_strings_and_integers_keep_meaning_steps() -> None:
    p = update(plan(), {"id": "2.1", "status": "in_progress"})
    assert status(p, "2.1") == "in_progress" and status(p, "2") == "in_progress"
    p = update(p, {"id": 3, "description": "Document the flags"})
    assert p.step(3) is not None and p.step(3).description == "Document the flags"  # type: ignore[union-attr]
    assert update(p, {"id": "3", "result": "x"}).step("3").result == "x"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("patches", "error"),
    [
        ([{"id": "2.9", "status": "completed"}], "unknown sub-step id 2.9; known sub-steps of step 2 are 2.1, 2.2"),
        ([{"id": "3.1", "status": "completed"}], "step 3 has no sub-steps"),
        ([{"id": "7.1", "status": "completed"}], "unknown step id 7.1"),
        ([{"id": "2.1", "status": "in_progress"}, {"id": 3, "status": "in_progress"}], "at most one step"),
        ([{"id": "2.1", "status": "in_progress"}, {"id": "2.2", "status": "in_progress"}], "at most one step"),
        ([{"id": 2, "status": "completed"}], "step 2 has open sub-steps (2.1, 2.2)"),
        ([{"id": "2.1", "status": "done-ish"}], "bad status"),
    ],
)
def test_bad_updates_are_refused_whole_with_an_error_the_model_can_act_on(patches: list, error: str) -> None:
    before = plan()
    with pytest.raises(PlanError, match=error.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        update(before, *patches)
    assert before == plan()  # nothing changed


def test_a_parents_status_follows_its_sub_steps() -> None:
    p = update(plan(), {"id": "2.1", "status": "in_progress"})
    assert status(p, "2") == "in_progress"
    p = update(p, {"id": "2.1", "status": "completed", "result": "ok"})
    assert status(p, "2") == "pending"  # nothing of it runs now
    p = update(p, {"id": "2.2", "status": "in_progress"})
    p = update(p, {"id": "2.2", "status": "completed"})
    assert status(p, "2") == "completed"
    p = update(p, {"id": "2.2", "status": "cancelled"})
    assert status(p, "2") == "completed"  # one completed, one cancelled


def test_starting_a_parent_starts_its_first_open_sub_step() -> None:
    p = update(plan(), {"id": 2, "status": "in_progress"})
    assert status(p, "2.1") == "in_progress" and p.current is not None and p.current.key == "2.1"


def test_cancelling_a_parent_cancels_its_open_sub_steps_and_stands() -> None:
    p = update(plan(), {"id": "2.1", "status": "completed"})
    p = update(p, {"id": 2, "status": "cancelled"})
    assert [status(p, k) for k in ("2", "2.1", "2.2")] == ["cancelled", "completed", "cancelled"]
    assert status(update(p, {"id": 3, "result": "later"}), "2") == "cancelled"


def test_one_in_progress_counts_leaves_across_the_whole_plan() -> None:
    p = update(plan(), {"id": "2.1", "status": "in_progress"})
    assert [s.key for s in p.in_progress] == ["2.1"]
    switched = update(p, {"id": "2.1", "status": "completed"}, {"id": 3, "status": "in_progress"})
    assert [s.key for s in switched.in_progress] == ["3"]


def test_progress_counts_leaves() -> None:
    p = update(plan(), {"id": "2.1", "status": "completed"})
    assert (p.done, p.total, p.progress()) == (2, 4, "2/4 done")
    assert not p.is_finished
    done = update(p, {"id": "2.2", "status": "completed"}, {"id": 3, "status": "completed"})
    assert done.is_finished


def test_the_plan_block_indents_sub_steps_under_their_parent() -> None:
    text = update(plan(), {"id": "2.1", "status": "completed", "result": "argparse"}).render()
    assert "2. [pending] Add the flags\n  2.1 [completed] Parse the flags → argparse\n  2.2 [pending] Test\n" in text
    assert text.startswith("[PLAN]\nGoal: Ship the CLI\n1. [completed] Write the parser → done\n")
    assert text.endswith("2/4 done\n[/PLAN]")


def test_a_long_plan_expands_only_the_parent_in_progress() -> None:
    many = [
        {"description": f"Part {n}", "substeps": [{"description": f"a{n}"}, {"description": f"b{n}"}]} for n in range(7)
    ]
    p = apply(LivePlan(), PlanUpdate.model_validate({"goal": "g", "steps": many}))
    assert p.total > LONG_PLAN
    p = update(p, {"id": "3.1", "status": "in_progress"})
    text = p.render()
    assert "  3.1 [in_progress] a2" in text and "  1.1" not in text
    assert "1. [pending] Part 0 (0/2 sub-steps done)" in text


def test_evidence_and_verdicts_go_on_the_sub_step() -> None:
    p = update(plan(), {"id": "2.1", "status": "in_progress"})
    board = PlanBoard(active=p).with_step("2.1", evidence=(Evidence(kind="file", what="cli.py", ok=True),))
    sub = board.active.step("2.1")
    assert sub is not None and sub.evidence[0].what == "cli.py" and board.active.step(1).evidence == ()  # type: ignore[union-attr]
    marked = board.with_verdicts({"2.1": ("passed", "check passed")})
    assert marked.active.step("2.1").verified == "passed"  # type: ignore[union-attr]
    assert marked.active.step(2).verified == ""  # type: ignore[union-attr]


def test_line_front_ends_show_the_tree() -> None:
    lines = plan_lines(update(plan(), {"id": "2.1", "status": "in_progress"}), False)
    assert any(line.startswith("│   ") and "2.1 Parse the flags" in line for line in lines)


def test_a_new_plan_keeps_the_sub_step_statuses_it_came_with() -> None:
    p = plan(steps=[{"description": "x", "substeps": [{"description": "a", "status": "completed"},
                                                      {"description": "b", "status": "in_progress"}]}])  # fmt: skip
    assert [status(p, k) for k in ("1", "1.1", "1.2")] == ["in_progress", "completed", "in_progress"]
    started = plan(steps=[{"description": "x", "status": "in_progress", "substeps": [{"description": "a"}]}])
    assert status(started, "1.1") == "in_progress"
