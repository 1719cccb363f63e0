"""LivePlan rendering and atomic, validated updates."""

from __future__ import annotations

import pytest

from liveplan_tui.plan import LivePlan, NewStep, PlanBoard, PlanError, PlanUpdate, StepPatch, apply


def make(n: int = 3, first: str = "in_progress") -> LivePlan:
    steps = [NewStep(description=f"step {i}", status=first if i == 1 else None) for i in range(1, n + 1)]
    return apply(LivePlan(), PlanUpdate(goal="Ship it", steps=steps))


def test_render_format_is_exact() -> None:
    plan = apply(
        LivePlan(),
        PlanUpdate(
            goal="Add a flag",
            steps=[
                NewStep(description="Read cli.py", status="completed", result="found build_parser"),
                NewStep(description="Add the flag", status="in_progress", depends_on=[1]),
                NewStep(description="Run tests", depends_on=[1, 2]),
            ],
            notes="keep it small",
        ),
    )
    assert plan.render() == (
        "[PLAN]\n"
        "Goal: Add a flag\n"
        "1. [completed] Read cli.py → found build_parser\n"
        "2. [in_progress] Add the flag (after 1)\n"
        "3. [pending] Run tests (after 1, 2)\n"
        "Notes: keep it small\n"
        "1/3 done\n"
        "[/PLAN]"
    )


def test_render_is_deterministic_and_progress_line_is_last() -> None:
    plan = make()
    assert plan.render() == make().render()
    lines = plan.render().splitlines()
    assert lines[0] == "[PLAN]" and lines[-1] == "[/PLAN]"
    assert lines[-2] == "0/3 done"


def test_render_overhead_per_step_is_small() -> None:
    import tiktoken

    enc = tiktoken.get_encoding("o200k_base") if _has_encoding() else None
    plan = make(10)
    if enc is None:
        overhead_chars = len(plan.render()) - sum(len(s.description) for s in plan.steps)
        assert overhead_chars / 10 < 60
        return
    overhead = len(enc.encode(plan.render())) - sum(len(enc.encode(s.description)) for s in plan.steps)
    assert overhead / 10 <= 15


def _has_encoding() -> bool:
    try:
        import tiktoken

        tiktoken.get_encoding("o200k_base")
        return True
    except Exception:
        return False


def test_one_call_may_complete_one_step_and_start_the_next() -> None:
    plan = apply(
        make(),
        PlanUpdate(updates=[StepPatch(id=1, status="completed", result="done"), StepPatch(id=2, status="in_progress")]),
    )
    assert [s.status for s in plan.steps] == ["completed", "in_progress", "pending"]
    assert plan.steps[0].result == "done"


@pytest.mark.parametrize(
    ("update", "message"),
    [
        (PlanUpdate(updates=[StepPatch(id=2, status="in_progress")]), "at most one step may be in_progress"),
        (PlanUpdate(updates=[StepPatch(id=9, status="completed")]), "unknown step id 9; known steps are 1, 2, 3"),
        (PlanUpdate(updates=[StepPatch(id=1, description="  ")]), "empty description"),
        (PlanUpdate(updates=[StepPatch(id=1, status="done")]), "bad status 'done'"),
        (PlanUpdate(), "empty update"),
        (PlanUpdate(explanation="just talking"), "empty update"),
        (
            PlanUpdate(steps=[NewStep(description="a", depends_on=[3]), NewStep(description="b")]),
            "depends on unknown step 3",
        ),
        (PlanUpdate(steps=[NewStep(description="a", depends_on=[1])]), "depends on itself"),
        (
            PlanUpdate(steps=[NewStep(description="a", depends_on=[2]), NewStep(description="b", depends_on=[1])]),
            "dependency cycle",
        ),
        (PlanUpdate(steps=[NewStep(description="")]), "empty description"),
        (PlanUpdate(goal=" "), "empty goal"),
        (PlanUpdate(updates=[StepPatch(id=1)]), "nothing to change"),
    ],
)
def test_bad_updates_are_rejected_whole(update: PlanUpdate, message: str) -> None:
    before = make()
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        apply(before, update)
    assert before == make()


def test_rejection_is_atomic_even_when_earlier_parts_were_valid() -> None:
    before = make()
    bad = PlanUpdate(
        goal="New goal", updates=[StepPatch(id=1, status="completed"), StepPatch(id=7, status="completed")]
    )
    with pytest.raises(PlanError):
        apply(before, bad)
    assert before.goal == "Ship it" and before.steps[0].status == "in_progress"


def test_steps_replace_and_renumber_keeping_goal() -> None:
    plan = apply(make(3), PlanUpdate(steps=[NewStep(description="only")]))
    assert plan.goal == "Ship it"
    assert [(s.id, s.description) for s in plan.steps] == [(1, "only")]


def test_cycle_through_three_steps_is_named() -> None:
    update = PlanUpdate(
        steps=[
            NewStep(description="a", depends_on=[3]),
            NewStep(description="b", depends_on=[1]),
            NewStep(description="c", depends_on=[2]),
        ]
    )
    with pytest.raises(PlanError, match=r"dependency cycle 1 -> 3 -> 2 -> 1"):
        apply(LivePlan(), update)


def test_board_archives_a_finished_plan_and_a_new_plan_can_start() -> None:
    board, archived = PlanBoard().apply(
        PlanUpdate(goal="g", steps=[NewStep(description="a", status="in_progress"), NewStep(description="b")])
    )
    assert not archived and board.prompt_block() is not None
    board, archived = board.apply(
        PlanUpdate(updates=[StepPatch(id=1, status="completed"), StepPatch(id=2, status="cancelled")])
    )
    assert archived
    assert board.prompt_block() is None
    assert board.latest.is_finished and board.latest.progress() == "2/2 done"
    board, archived = board.apply(PlanUpdate(goal="next", steps=[NewStep(description="x")]))
    assert not archived and board.active.goal == "next" and len(board.archived) == 1


def test_updates_after_archive_explain_how_to_start_again() -> None:
    board, _ = PlanBoard().apply(PlanUpdate(steps=[NewStep(description="a", status="completed")]))
    with pytest.raises(PlanError, match="send `steps` to create some"):
        board.apply(PlanUpdate(updates=[StepPatch(id=1, result="x")]))
