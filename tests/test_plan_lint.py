"""#28 point 3: a new plan is reviewed before it runs. Lint costs no model call; each class of defect is found in
plans it should be found in, and sound plans pass."""

from __future__ import annotations

import pytest

from liveplan_tui.plan.lint import MAX_STEPS, bundles, lint, vague
from liveplan_tui.plan.model import Step


def plan(*descriptions: str, deps: dict[int, tuple[int, ...]] | None = None, checks: dict[int, str] | None = None):
    deps, checks = deps or {}, checks or {}
    return [
        Step(id=i, description=d, depends_on=deps.get(i, ()), check=checks.get(i, ""))
        for i, d in enumerate(descriptions, 1)
    ]


def problems(task: str, steps: list[Step]) -> list[str]:
    return [f.line() for f in lint(task, steps)]


@pytest.mark.parametrize(
    "task",
    ["Fix the crash in parse()", "Add a --quiet flag", "Refactor the loader", "Rename foo to bar", "Create app.py"],
)
def test_a_change_with_nothing_that_runs_is_flagged(task: str) -> None:
    found = problems(task, plan("Read the code in loader.py", "Change the function in loader.py"))
    assert any("no step runs or checks anything" in p for p in found)


@pytest.mark.parametrize(
    "last", ["Run the test suite", "Verify with pytest -q", "Check the output by hand", "Build and try the CLI"]
)
def test_a_step_that_runs_something_or_a_check_satisfies_it(last: str) -> None:
    assert not any("runs" in p for p in problems("Fix the crash in parse()", plan("Fix parse() in p.py", last)))
    with_check = plan("Fix parse() in p.py", "Edit the docs", checks={1: "pytest -q"})
    assert problems("Fix the crash in parse()", with_check) == []


@pytest.mark.parametrize("task", ["Explain the router", "Write release notes for 2.0", "Summarise the design doc"])
def test_tasks_that_change_no_code_need_no_run(task: str) -> None:
    assert problems(task, plan("Read the sources in src/", "Write the summary in two paragraphs")) == []


@pytest.mark.parametrize(
    "text", ["Fix it", "Do the rest", "Handle things", "Clean up stuff", "Improve", "Finish", "Work on the task",
             "Update various files as needed", "x"],
)  # fmt: skip
def test_vague_steps(text: str) -> None:
    assert vague(text)


@pytest.mark.parametrize(
    "text", ["Fix the slice bound in paginate()", "Run pytest -q tests/test_pager.py", "Add GET /health to app.py"]
)
def test_concrete_steps_are_not_vague(text: str) -> None:
    assert not vague(text) and not bundles(text)


@pytest.mark.parametrize(
    "text",
    [
        "Write the parser, add tests and update the docs",
        "Add the setting, then write the CSS and then test it",
        "Update the changelog, bump the version and tag the release",
        "Remove dead code; rename the modules; update the imports",
    ],
)
def test_steps_that_bundle_actions(text: str) -> None:
    assert bundles(text)


@pytest.mark.parametrize("text", ["Read and parse the config", "Add tests and run them", "Search and replace foo"])
def test_two_short_joined_verbs_are_one_action(text: str) -> None:
    assert not bundles(text)


def test_duplicates_ignore_case_punctuation_and_articles() -> None:
    found = problems("Explain x", plan("Write the summary of x", "Read x", "write summary of x."))
    assert found == ["step 3: “write summary of x.” repeats an earlier step: merge or remove it"]


def test_too_many_steps_at_one_level() -> None:
    many = plan(*(f"Port script {n}.sh to Python" for n in range(MAX_STEPS + 1)), "Run the tests")
    assert any("steps at one level" in p for p in problems("Port the scripts", many))
    assert not any("steps at one level" in p for p in problems("Port", many[:MAX_STEPS]))


def test_dependencies_that_point_nowhere_or_forward() -> None:
    found = problems("Explain", plan("Read a.py", "Read b.py", "Compare them", deps={1: (3,), 3: (9,), 2: (1,)}))
    assert "step 1: depends on step 3, which comes after it: reorder the steps" in found
    assert "step 3: depends on step 9, which does not exist" in found
    assert not any(p.startswith("step 2: depends") for p in found)


def test_a_sound_plan_has_no_findings() -> None:
    steps = plan("Write a failing test for the last page", "Fix the slice bound in paginate()", "Run the pager tests")
    assert problems("Fix the off-by-one bug in pager.py", steps) == []
