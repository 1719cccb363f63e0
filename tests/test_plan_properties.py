"""Property tests: no sequence of updates breaks the plan's invariants."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from liveplan_tui.plan import STATUSES, LivePlan, NewStep, PlanError, PlanUpdate, StepPatch, apply

statuses = st.sampled_from([*STATUSES, "done", "", None])
ids = st.integers(min_value=-1, max_value=6)
text = st.sampled_from(["", " ", "read", "write the code", "test"])

new_steps = st.lists(
    st.builds(
        NewStep,
        description=text,
        status=statuses,
        result=st.none() | text,
        depends_on=st.none() | st.lists(ids, max_size=3),
    ),
    max_size=5,
)
patches = st.lists(
    st.builds(StepPatch, id=ids, status=statuses, result=st.none() | text, description=st.none() | text), max_size=4
)
updates = st.builds(
    PlanUpdate,
    goal=st.none() | text,
    steps=st.none() | new_steps,
    updates=st.none() | patches,
    notes=st.none() | text,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(updates, min_size=1, max_size=12))
def test_any_sequence_keeps_invariants(sequence: list[PlanUpdate]) -> None:
    plan = LivePlan()
    for update in sequence:
        snapshot = plan.model_dump()
        try:
            plan = apply(plan, update)
        except PlanError:
            assert plan.model_dump() == snapshot  # a rejected update changes nothing
            continue
        assert len(plan.in_progress) <= 1
        assert [s.id for s in plan.steps] == list(range(1, len(plan.steps) + 1))
        assert all(s.description.strip() for s in plan.steps)
        assert all(s.status in STATUSES for s in plan.steps)
        known = {s.id for s in plan.steps}
        assert all(d in known and d != s.id for s in plan.steps for d in s.depends_on)
