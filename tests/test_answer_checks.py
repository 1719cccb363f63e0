"""The embedded model's plan does real work: the answer's code runs, a failure goes back to the model."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI

from liveplan_tui.agent.answers.running import code_in, failure_line, report
from liveplan_tui.tools.base import ToolResult

PLAN = {
    "json": {
        "action": "update_plan",
        "goal": "Write is_even",
        "steps": [{"description": "Write the function"}, {"description": "Show it works"}],
    }
}
BROKEN = (
    "Here it is:\n\n```python\ndef is_even(n):\n    return n % 2 == 1\n\nassert "
    "is_even(2)\nassert not is_even(3)\nprint('ok')\n```\n"
)
FIXED = (
    "Fixed:\n\n```python\ndef is_even(n):\n    return n % 2 == 0\n\nassert is_even(2)\nassert "
    "not is_even(3)\nprint('ok')\n```\n"
)
STILL_BROKEN = "Again:\n\n```python\ndef is_even(n):\n    return undefined_name\n\nassert is_even(2)\n```\n"


def structured(
    fake: FakeOpenAI, *flags: str, task: str = "write a python function is_even"
) -> tuple[int, list[dict], str]:
    proc = run_cli(
        "exec",
        "--json",
        "--tool-mode",
        "structured",
        "--mode",
        "plan",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        *flags,
        task,
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()], proc.stderr


def runs(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] == "tool_call_finished" and e["name"] == "run_answer_code"]


def final_plan(events: list[dict]) -> dict:
    return [e for e in events if e["type"] == "plan_updated"][-1]["new"]


@pytest.mark.slow
def test_a_failing_first_version_is_fixed_and_the_fix_is_the_answer(fake) -> None:
    fake.script.extend([PLAN, {"text": BROKEN}, {"text": FIXED}])
    code, events, stderr = structured(fake, "--yes")
    assert code == 0, stderr
    assert events[-1]["answer"] == FIXED.strip()
    assert [r["is_error"] for r in runs(events)] == [True, False]
    fix_request = fake.model_requests()[-1]["messages"][-1]["content"]
    assert "AssertionError" in fix_request and "is_even" in fix_request
    steps = final_plan(events)["steps"]
    assert steps[-1]["result"] == "ran 2 asserts: passed after 1 fix" and steps[-1]["verified"] == "passed"
    assert all("covered in the answer" not in s["result"] for s in steps)
    assert all(s["status"] == "completed" for s in steps)


@pytest.mark.slow
def test_code_that_keeps_failing_is_shown_with_its_failure(fake) -> None:
    fake.script.extend([PLAN, {"text": BROKEN}, {"text": STILL_BROKEN}, {"text": STILL_BROKEN}])
    code, events, _ = structured(fake, "--yes")
    answer = events[-1]["answer"]
    assert answer.startswith(BROKEN.strip()) and "Its code failed when run: AssertionError" in answer
    assert len(runs(events)) == 3
    step = final_plan(events)["steps"][-1]
    assert step["verified"] == "failed" and step["result"].startswith("failed 3 times: NameError")


@pytest.mark.slow
def test_without_approval_nothing_runs_and_the_step_says_so(fake) -> None:
    fake.script.extend([PLAN, {"text": BROKEN}])
    code, events, stderr = structured(fake)  # exec without --yes cannot ask
    assert code == 0, stderr
    step = final_plan(events)["steps"][-1]
    assert step["verified"] == "unverified" and "not approved" in step["result"]
    assert events[-1]["answer"] == BROKEN.strip()


@pytest.mark.slow
@pytest.mark.parametrize("answer", ["Just prose, no code at all.", "Use `sorted()` inline, nothing to run."])
def test_answers_without_code_run_nothing(fake, answer: str) -> None:
    fake.script.extend([PLAN, {"text": answer}])
    code, events, _ = structured(fake, "--yes")
    assert code == 0 and not runs(events)
    assert all(s["result"].startswith("answered") for s in final_plan(events)["steps"])


@pytest.mark.slow
def test_greetings_and_direct_mode_stay_fast(fake) -> None:
    fake.script.append({"text": "Hello! How can I help?"})
    proc = run_cli(
        "exec", "--json", "--tool-mode", "structured", "--base-url", fake.base_url, "--model", "m", "--yes", "hi"
    )
    assert proc.returncode == 0 and "run_answer_code" not in proc.stdout
    fake.script.append({"text": FIXED})
    proc = run_cli(
        "exec",
        "--json",
        "--tool-mode",
        "structured",
        "--mode",
        "direct",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "--yes",
        "write is_even",
    )
    assert proc.returncode == 0 and "run_answer_code" not in proc.stdout


@pytest.mark.slow
def test_code_waiting_for_input_fails_instead_of_hanging(fake) -> None:
    waits = "```python\nname = input('name? ')\nprint(name)\n```"
    fake.script.extend([PLAN, {"text": waits}, {"text": FIXED}])
    code, events, _ = structured(fake, "--yes")
    assert code == 0 and "EOFError" in runs(events)[0]["result"]


@pytest.mark.parametrize(
    ("answer", "python", "shell"),
    [
        ("```python\nx = 1\nassert x\n```", "x = 1\nassert x\n", ""),
        (
            "```py\nprint(2)\n```\ntext\n```python\ndef f():\n    return 1\n```",
            "print(2)\n\n\ndef f():\n    return 1\n",
            "",
        ),
        ("```bash\n$ echo hi\n# comment\npip install x\n```", "", "echo hi"),
        ("```\nimport os\nprint(os.sep)\n```", "import os\nprint(os.sep)\n", ""),
        ("```text\njust output\n```", "", ""),
    ],
)
def test_code_is_taken_from_python_and_shell_blocks(answer: str, python: str, shell: str) -> None:
    code = code_in(answer)
    assert code.python == python and code.shell == shell


@pytest.mark.parametrize(
    ("output", "line"),
    [
        ("exit code: 1\nTraceback (most recent call last):\n  File x\nAssertionError: boom", "AssertionError: boom"),
        ("exit code: 1\nTraceback...\nNameError: name 'y' is not defined", "NameError: name 'y' is not defined"),
        ("error: timed out after 20s", "timed out (waiting for input, or an endless loop)"),
    ],
)
def test_failures_are_named_in_one_line(output: str, line: str) -> None:
    assert failure_line(output) == line


def test_a_passing_run_reports_its_asserts() -> None:
    assert report(code_in("```python\nassert 1\nassert 2\n```"), ToolResult("exit code: 0")) == "ran 2 asserts: passed"
    assert report(code_in("```python\nprint(1)\n```"), ToolResult("exit code: 0")) == "ran the example calls: passed"


@pytest.mark.parametrize(
    ("task", "code", "problem"),
    [
        ("Write a function to_binary(n).", "def binary(n):\n    return bin(n)[2:]\n", "named `to_binary`"),
        ("Write squares(n) returning a list.", "def squares(n):\n    print([1])\n", "does not return"),
        ("Write squares(n) returning a list.", "def squares(n):\n    return [i * i for i in range(1, n + 1)]\n", ""),
        ("Write max_of(xs) without using max().", "def max_of(xs):\n    return sorted(xs)[-1]\n", ""),
        ("Say hello.", "print('hello')\n", ""),
        ("Write f(x).", "def f(x:\n", ""),  # a syntax error is left to the run
    ],
)
def test_code_that_runs_but_misses_the_task_is_caught(task: str, code: str, problem: str) -> None:
    from liveplan_tui.agent.answers.running import AnswerCode, shape_problems

    found = shape_problems(task, AnswerCode(code, ""))
    assert (problem in found[0]) if problem else found == []


FILE_TASK = "Write is_even(n) in Python and save it to even.py."
EVEN_FILE = "even.py:\n```python\ndef is_even(n):\n    return n % 2 == 0\n\nprint(is_even(2))\n```"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["plan", "direct"])
def test_exec_without_yes_writes_no_file_and_says_so(fake, tmp_path, mode: str) -> None:
    fake.script.extend(([PLAN] if mode == "plan" else []) + [{"text": EVEN_FILE}])
    proc = run_cli(
        "exec", "--tool-mode", "structured", "--mode", mode, "--base-url", fake.base_url, "--model", "m",
        "--workspace", str(tmp_path), FILE_TASK,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "even.py").exists()
    assert "even.py not written: liveplan exec runs unattended without --yes" in proc.stderr
    assert "even.py not written" in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_exec_with_yes_writes_the_named_file_and_shows_the_write_in_the_plan(fake, tmp_path) -> None:
    fake.script.extend([PLAN, {"text": EVEN_FILE}])
    code, events, stderr = structured(fake, "--yes", "--workspace", str(tmp_path), task=FILE_TASK)
    assert code == 0, stderr
    assert "def is_even" in (tmp_path / "even.py").read_text()
    steps = final_plan(events)["steps"]
    write = next(s for s in steps if s["description"] == "Write even.py")
    assert write["status"] == "completed" and write["result"] == "wrote even.py (4 lines)"
    assert write["evidence"] == [{"kind": "file", "what": "even.py", "ok": True, "detail": ""}]


@pytest.mark.slow
def test_exec_json_carries_sub_steps_and_the_plan_review(fake, tmp_path) -> None:
    subs = [{"description": "Find the bug"}, {"description": "Fix the bug"}]
    plan = {"goal": "g", "steps": [{"description": "Fix it", "status": "in_progress", "substeps": subs}]}
    close = {"updates": [{"id": "1.1", "status": "completed"}, {"id": "1.2", "status": "cancelled"}]}
    fake.script.extend(
        [
            {"tool_calls": [{"name": "update_plan", "arguments": plan}]},
            {"tool_calls": [{"name": "update_plan", "arguments": close}]},
            {"text": "Done."},
        ]
    )
    proc = run_cli(
        "exec", "--json", "--mode", "plan", "--base-url", fake.base_url, "--model", "m", "--workspace",
        str(tmp_path), "fix the bug in app.py",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    critique = next(e for e in events if e["type"] == "plan_critique")
    assert critique["by"] == "lint" and any("no step runs" in f for f in critique["findings"])
    first = next(e for e in events if e["type"] == "plan_updated")["new"]["steps"][0]
    assert [s["status"] for s in first["substeps"]] == ["in_progress", "pending"] and first["status"] == "in_progress"
    last = [e for e in events if e["type"] == "plan_updated"][-1]["new"]["steps"][0]
    assert last["status"] == "completed" and [s["parent"] for s in last["substeps"]] == [1, 1]
