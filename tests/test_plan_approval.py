"""Plan approval: the draft the user edits, what the model is told, and each front-end's path."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI, system_prompt
from test_exec import advance, create_plan

from liveplan_tui.agent.session import PlanReview
from liveplan_tui.agent.session import Session as Agent
from liveplan_tui.config import load_settings, resolve_endpoint
from liveplan_tui.events import TurnFinished
from liveplan_tui.plan import LivePlan, PlanError, Step, StepStatus, apply
from liveplan_tui.plan.review import PlanDraft, changes, edited_by_command, told, update_from

PLAN = LivePlan(
    goal="Reverse a string",
    steps=(
        Step(id=1, description="Write reverse()", status=StepStatus.IN_PROGRESS, check="python3 t.py"),
        Step(id=2, description="Test it", depends_on=(1,)),
        Step(id=3, description="Document it"),
    ),
)


# -- the draft, pure ---------------------------------------------------------


def test_unchanged_draft_has_no_changes_and_keeps_the_plan() -> None:
    draft = PlanDraft.of(PLAN)
    assert changes(PLAN, draft) == []
    assert apply(LivePlan(), update_from(PLAN, draft)).steps == PLAN.steps


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.edit(2, "Test it with pytest"), ['reworded step 2: "Test it" -> "Test it with pytest"']),
        (lambda d: d.add("Benchmark it"), ['added step 4: "Benchmark it"']),
        (lambda d: d.add("Plan first", after=0), ['added step 1: "Plan first"']),
        (lambda d: d.delete(3), ['deleted step 3 ("Document it")']),
        (lambda d: d.with_goal("Reverse text"), ['goal changed from "Reverse a string" to "Reverse text"']),
        (lambda d: d.move(3, -1), ["moved step 3 to position 2", "moved step 2 to position 3"]),
    ],
)
def test_each_kind_of_edit_is_named_in_the_proposals_numbers(edit, expected) -> None:
    assert changes(PLAN, edit(PlanDraft.of(PLAN))) == expected


def test_approved_draft_keeps_status_check_and_remaps_dependencies() -> None:
    draft = PlanDraft.of(PLAN).add("Plan first", after=0).delete(4)
    new = apply(LivePlan(), update_from(PLAN, draft))
    assert [s.description for s in new.steps] == ["Plan first", "Write reverse()", "Test it"]
    assert new.steps[0].status == "pending" and new.steps[1].status == "in_progress"
    assert new.steps[1].check == "python3 t.py"
    assert new.steps[2].depends_on == (2,)


def test_a_dependency_moved_after_its_dependent_is_dropped_not_inverted() -> None:
    draft = PlanDraft.of(PLAN).move(1, 1)  # "Test it" now comes before what it depended on
    new = apply(LivePlan(), update_from(PLAN, draft))
    assert new.steps[0].description == "Test it" and new.steps[0].depends_on == ()


@pytest.mark.parametrize(
    "bad",
    [lambda d: d.edit(9, "x"), lambda d: d.edit(1, "   "), lambda d: d.delete(0), lambda d: d.with_goal("")],
)
def test_bad_draft_edits_raise_and_change_nothing(bad) -> None:
    draft = PlanDraft.of(PLAN)
    with pytest.raises(PlanError):
        bad(draft)
    assert draft == PlanDraft.of(PLAN)


def test_the_last_step_cannot_be_deleted() -> None:
    one = PlanDraft("g", PlanDraft.of(PLAN).steps[:1])
    with pytest.raises(PlanError, match="reject"):
        one.delete(1)


def test_moving_past_either_end_keeps_the_order() -> None:
    draft = PlanDraft.of(PLAN)
    assert draft.move(1, -1) == draft and draft.move(3, 1) == draft


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/plan edit 1 Write it", ["Write it", "Test it", "Document it"]),
        ("/plan add Ship it", ["Write reverse()", "Test it", "Document it", "Ship it"]),
        ("/plan delete 2", ["Write reverse()", "Document it"]),
        ("/plan up 3", ["Write reverse()", "Document it", "Test it"]),
        ("/plan down 1", ["Test it", "Write reverse()", "Document it"]),
    ],
)
def test_line_chat_edits_apply_to_the_draft(line: str, expected: list[str]) -> None:
    draft = edited_by_command(PlanDraft.of(PLAN), line)
    assert [s.description for s in draft.steps] == expected


@pytest.mark.parametrize("line", ["/plan edit x text", "/plan frobnicate 1", "/plan up", "/plan add   "])
def test_line_chat_bad_edits_say_what_works(line: str) -> None:
    with pytest.raises(PlanError):
        edited_by_command(PlanDraft.of(PLAN), line)


def test_the_model_is_told_the_verdict_in_words() -> None:
    assert "approved this plan as proposed" in told(PLAN, "approve", None, "")
    assert "rejected this plan: too slow" in told(PLAN, "reject", None, "too slow")
    assert "no reason given" in told(PLAN, "reject", None, "")
    edited = told(PLAN, "approve", PlanDraft.of(PLAN).edit(2, "Test it twice"), "")
    assert 'reworded step 2: "Test it" -> "Test it twice"' in edited


# -- in the loop, against the fake server ------------------------------------


def reviewer_of(*reviews: PlanReview):
    seen: list[LivePlan] = []
    queue = list(reviews)

    async def review(plan: LivePlan) -> PlanReview:
        seen.append(plan)
        return queue.pop(0)

    return review, seen


def make_agent(fake: FakeOpenAI, reviewer, **kw) -> Agent:
    settings = load_settings(base_url=fake.base_url, model="m", mode="plan", plan_approval="ask", **kw)
    return Agent(settings, resolve_endpoint(settings), plan_reviewer=reviewer)


async def test_an_edited_plan_is_named_in_the_models_next_call(fake: FakeOpenAI) -> None:
    fake.script.extend([create_plan(3), advance(1, 2), advance(2, 3), advance(3, None), {"text": "done"}])
    seen: list[LivePlan] = []

    async def editing(plan: LivePlan) -> PlanReview:
        """Reword step 2 and add a step, as a user would in the review view."""
        seen.append(plan)
        return PlanReview("approve", PlanDraft.of(plan).edit(2, "Step two, with tests").add("Step four"))

    agent = make_agent(fake, editing)
    events = [e async for e in agent.submit("reverse a string")]
    assert len(seen) == 1
    kinds = [e.type for e in events]
    assert kinds.index("plan_proposed") < kinds.index("plan_reviewed")
    reviewed = next(e for e in events if e.type == "plan_reviewed")
    assert reviewed.changes == [
        'reworded step 2: "Step number 2" -> "Step two, with tests"',
        'added step 4: "Step four"',
    ]
    second = fake.main_requests()[1]
    tool_result = [m for m in second["messages"] if m["role"] == "tool"][-1]["content"]
    assert 'reworded step 2: "Step number 2" -> "Step two, with tests"' in tool_result
    assert "2. [pending] Step two, with tests" in system_prompt(second)
    assert "4. [pending] Step four" in system_prompt(second)
    await agent.close()


async def test_a_rejected_plan_is_dropped_and_the_rest_of_the_reply_does_not_run(fake: FakeOpenAI, tmp_path) -> None:
    plan_and_write = create_plan(2)
    plan_and_write["tool_calls"].append({"name": "write_file", "arguments": {"path": "x.txt", "content": "hi"}})
    fake.script.extend([plan_and_write, {"text": "Understood; no plan then: s[::-1]."}])
    review, _ = reviewer_of(PlanReview("reject", reason="too many steps"))
    agent = make_agent(fake, review, workspace=tmp_path, approval="never-ask")
    events = [e async for e in agent.submit("reverse a string")]
    assert not (tmp_path / "x.txt").exists()
    assert agent.view.board.active.is_empty
    second = fake.main_requests()[1]["messages"]
    results = [m["content"] for m in second if m["role"] == "tool"]
    assert "rejected this plan: too many steps" in results[0]
    assert results[1].startswith("not run: the user rejected the plan")
    assert events[-1].type == "turn_finished" and events[-1].answer.startswith("Understood")
    await agent.close()


async def test_auto_never_asks(fake: FakeOpenAI) -> None:
    fake.script.extend([create_plan(1), advance(1, None), {"text": "done"}])
    review, seen = reviewer_of()
    settings = load_settings(base_url=fake.base_url, model="m", mode="plan")
    agent = Agent(settings, resolve_endpoint(settings), plan_reviewer=review)
    events = [e async for e in agent.submit("reverse a string")]
    assert seen == [] and "plan_proposed" not in [e.type for e in events]
    await agent.close()


async def test_progress_on_an_approved_plan_is_not_reviewed_again(fake: FakeOpenAI) -> None:
    fake.script.extend([create_plan(2), advance(1, 2), advance(2, None), {"text": "done"}])
    review, seen = reviewer_of(PlanReview("approve"))
    agent = make_agent(fake, review)
    events = [e async for e in agent.submit("reverse a string")]
    assert len(seen) == 1 and events[-1] == TurnFinished(answer="done")
    await agent.close()


async def test_strict_mode_reviews_the_plan_before_any_subagent(fake: FakeOpenAI) -> None:
    fake.script.extend([create_plan(2), {"text": "first done"}, {"text": "second done"}, {"text": "all done"}])

    async def editing(plan: LivePlan) -> PlanReview:
        return PlanReview("approve", PlanDraft.of(plan).delete(2))

    settings = load_settings(base_url=fake.base_url, model="m", mode="strict", plan_approval="ask")
    agent = Agent(settings, resolve_endpoint(settings), plan_reviewer=editing)
    events = [e async for e in agent.submit("reverse a string")]
    subagents = {e.step_id for e in events if e.type == "subagent"}
    assert subagents == {1}
    await agent.close()


# -- exec: exit 4, then --continue --approve-plan ------------------------------


@pytest.mark.slow
def test_exec_stops_with_exit_4_and_continue_approve_plan_finishes(fake: FakeOpenAI) -> None:
    fake.script.append(create_plan(2))
    base = ("--base-url", fake.base_url, "--model", "fake-model")
    proc = run_cli("exec", "--json", "--plan-approval", "ask", *base, "reverse a string")
    assert proc.returncode == 4, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert "plan_proposed" in [e["type"] for e in events]
    assert events[-1] == {"type": "turn_finished", "answer": "", "reason": "awaiting_approval"}
    assert "--approve-plan" in proc.stderr and "Traceback" not in proc.stderr
    assert len(fake.main_requests()) == 1  # nothing ran after the plan

    fake.script.extend([advance(1, 2), advance(2, None), {"text": "Here: s[::-1]"}])
    proc = run_cli("exec", "--continue", "--approve-plan", *base, "go")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Here: s[::-1]"
    follow = fake.main_requests()[1]
    assert "approved this plan" in system_prompt(follow)
    assert "1. [in_progress] Step number 1" in system_prompt(follow)


@pytest.mark.slow
def test_exec_text_mode_prints_the_plan_it_waits_on(fake: FakeOpenAI) -> None:
    fake.script.append(create_plan(2))
    proc = run_cli("exec", "--plan-approval", "ask", "--base-url", fake.base_url, "--model", "m", "reverse it")
    assert proc.returncode == 4
    assert "[PLAN]" in proc.stdout and "Step number 2" in proc.stdout


@pytest.mark.slow
def test_continue_without_approval_is_the_users_answer_to_the_plan(fake: FakeOpenAI) -> None:
    fake.script.extend([create_plan(2), {"text": "Fine, one step: s[::-1]"}])
    base = ("--base-url", fake.base_url, "--model", "m")
    assert run_cli("exec", "--plan-approval", "ask", *base, "reverse it").returncode == 4
    proc = run_cli("exec", "--continue", "--mode", "direct", *base, "no plan, just answer")
    assert proc.returncode == 0, proc.stderr
    follow = system_prompt(fake.main_requests()[1])
    assert "rejected this plan" in follow and "no plan, just answer" in follow
    assert "[PLAN]" not in follow


@pytest.mark.slow
def test_approve_plan_without_a_waiting_plan_is_one_clear_error(fake: FakeOpenAI) -> None:
    fake.script.append({"text": "hello"})
    base = ("--base-url", fake.base_url, "--model", "m")
    assert run_cli("exec", *base, "hi").returncode == 0
    proc = run_cli("exec", "--continue", "--approve-plan", *base, "go")
    assert proc.returncode == 2
    assert "no plan awaits approval" in proc.stderr and "Traceback" not in proc.stderr


def test_the_line_chat_reviews_with_plan_edits_and_y(fake: FakeOpenAI, tmp_path) -> None:
    import asyncio
    import io

    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from liveplan_tui.repl import run_repl

    fake.script.extend([create_plan(3), {"text": "on it"}])
    settings = load_settings(
        base_url=fake.base_url, model="m", mode="plan", plan_approval="ask", workspace=str(tmp_path)
    )
    out = io.StringIO()

    async def go() -> None:
        with create_pipe_input() as pipe:
            for line in (
                "do it in steps",
                "/plan edit 2 Step two, tested",
                "/plan bogus",
                "/plan delete 3",
                "y",
                "/quit",
            ):
                pipe.send_text(line + "\n")
            await run_repl(
                settings, resolve_endpoint(settings), lambda a: None, None, input=pipe, output=DummyOutput(), out=out
            )

    asyncio.run(go())
    text = out.getvalue()
    assert "nothing runs until you approve it" in text
    assert 'your change: reworded step 2: "Step number 2" -> "Step two, tested"' in text
    assert "✘ unknown edit" in text
    tool_result = [m for m in fake.main_requests()[1]["messages"] if m["role"] == "tool"][-1]["content"]
    assert 'reworded step 2: "Step number 2" -> "Step two, tested"' in tool_result
    assert 'deleted step 3 ("Step number 3")' in tool_result


@pytest.mark.slow
def test_approve_plan_without_continue_says_what_to_add(fake: FakeOpenAI) -> None:
    proc = run_cli("exec", "--approve-plan", "--base-url", fake.base_url, "--model", "m", "go")
    assert proc.returncode == 2 and "add --continue" in proc.stderr and "Traceback" not in proc.stderr
    assert fake.main_requests() == []
