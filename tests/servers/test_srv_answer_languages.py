"""#27: structured mode answers in the task's language, checks it the way that language can be checked, and writes
the files the task names, through the same approval as `write_file`.

The replies are what the 0.5B model was seen to write: unlabelled fences, a file's name inside its block, bash
labelled `sh`, SQL answered with pandas, a regex between slashes, JSON with a trailing comma, the tests left out.
Each check runs for real (a fresh temp dir, a subprocess), so every test here is slow.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI

from liveplan_tui.agent.answers.running import RunAnswerParams, RunAnswerTool
from liveplan_tui.agent.session import Session, fixed_approver
from liveplan_tui.config import load_settings, resolve_endpoint

pytestmark = pytest.mark.slow  # each check runs a subprocess


def plan(*steps: str) -> dict[str, Any]:
    return {"json": {"action": "update_plan", "goal": "the task", "steps": [{"description": s} for s in steps]}}


def turn(
    fake: FakeOpenAI, workspace: Path, task: str, replies: list[str], *, approve: bool = True, mode: str = "plan",
    steps: tuple[str, ...] = ("Work it out", "Write the answer"),
) -> tuple[list[Any], str]:  # fmt: skip
    """One structured turn: the events and the answer."""
    fake.script.extend(([plan(*steps)] if mode == "plan" else []) + [{"text": r} for r in replies])
    settings = load_settings(
        base_url=fake.base_url, model="m", mode=mode, workspace=str(workspace), router_llm=False,
        tool_mode="structured",
    )  # fmt: skip
    session = Session(settings, resolve_endpoint(settings), approver=fixed_approver(approve, "not now"))

    async def go() -> list[Any]:
        return [e async for e in session.submit(task)]

    events = asyncio.run(go())
    assert events[-1].type == "turn_finished" and events[-1].reason == "done", events[-1]
    return events, events[-1].answer


def checks(events: list[Any]) -> list[Any]:
    return [e for e in events if e.type == "tool_call_finished" and e.name == "run_answer_code"]


def last_plan(events: list[Any]) -> Any:
    return [e for e in events if e.type == "plan_updated"][-1].new


def check_step(events: list[Any]) -> Any:
    return next(s for s in last_plan(events).steps if s.description.startswith(("Check", "Run the answer")))


CASES = [  # task, a first reply that fails its check, the fix that passes, what the failure said
    (
        "Write a shell pipeline that prints how many lines of app.log contain ERROR.",
        "```sh\nif [[ -f app.log ]]; then grep -c ERROR app.log; fi\n```",
        "```bash\ngrep -c ERROR app.log\n```",
        "not found",
    ),
    (
        "Write a SQL query that returns the names of employees earning over 50000 from employees(id, name, salary).",
        "```python\nimport pandas as pd\ndf = pd.read_sql('select * from employees', None)\n```",
        "```sql\nINSERT INTO employees VALUES (1, 'Ann', 60000);\n"
        "SELECT name FROM employees WHERE salary > 50000;\n```",
        "no ```sql block",
    ),
    (
        "Write a regular expression that matches a US ZIP code like '12345' or '12345-6789' but not '1234'.",
        "```\n/\\d{4,5}/\n```",
        "```\n^\\d{5}(-\\d{4})?$\n```",
        "it matches '1234'",
    ),
    (
        "Write a Dockerfile based on python:3.12-slim that exposes port 8000 and runs app.py.",
        "```dockerfile\nFROM python:3.12-slim\nCOPY app.py .\n```",
        '```dockerfile\nFROM python:3.12-slim\nCOPY app.py .\nEXPOSE 8000\nCMD ["python", "app.py"]\n```',
        "no CMD",
    ),
    (
        "Write a YAML config with a `server` key holding `port: 8080`.",
        "```yaml\nserver:\n\tport: 8080\n```",
        "```yaml\nserver:\n  port: 8080\n```",
        "tab",
    ),
    (
        "Write a JSON document for a user with keys `name` and `age`.",
        '```json\n{"name": "Ann", "age": 30,}\n```',
        '```json\n{"name": "Ann", "age": 30}\n```',
        "not valid JSON",
    ),
    (
        "Write a TOML file with a `[tool.demo]` table and a `name` key.",
        "```toml\n[tool.demo]\nname = \n```",
        '```toml\n[tool.demo]\nname = "demo"\n```',
        "not valid TOML",
    ),
    (
        "Write a Python script that reads numbers from stdin, one per line, and prints their sum.",
        "```python\nimport sys\nprint(sum(int(x) for x in sys.stdin.read().split()) / 0)\n```",
        "```python\nimport sys\nprint(sum(len(x) for x in sys.stdin.read().split()))\n```",
        "ZeroDivisionError",
    ),
]
if shutil.which("node"):
    CASES.append(
        (
            "Write a JavaScript function add(a, b) that returns the sum.",
            "```javascript\nfunction add(a, b) { return a + b }\nconsole.log(ad(1, 2))\n```",
            "```js\nfunction add(a, b) { return a + b }\nconsole.log(add(1, 2))\n```",
            "ReferenceError",
        )
    )


@pytest.mark.parametrize(("task", "bad", "good", "why"), CASES, ids=[c[0].split()[2] for c in CASES])
def test_each_language_is_checked_and_a_failure_goes_back_with_its_reason(
    fake: FakeOpenAI, tmp_path: Path, task: str, bad: str, good: str, why: str
) -> None:
    events, answer = turn(fake, tmp_path, task, [bad, good])
    step = check_step(events)
    assert step.verified == "passed" and "after 1 fix" in step.result, step
    assert answer == good
    fix_request = fake.model_requests()[-1]["messages"][-1]["content"]
    assert why in fix_request, fix_request
    assert "Python block" not in fix_request or "python" in task.lower()


@pytest.mark.parametrize(("task", "bad", "good", "why"), CASES[:3], ids=["shell", "sql", "regex"])
def test_the_answer_is_asked_for_in_the_tasks_language(
    fake: FakeOpenAI, tmp_path: Path, task: str, bad: str, good: str, why: str
) -> None:
    turn(fake, tmp_path, task, [good])
    asked = fake.model_requests()[1]["messages"][-1]["content"]
    fence = {"shell": "`sh`", "sql": "`sql`", "regex": "`regex`"}
    assert any(f in asked for f in fence.values()) and "Python block" not in asked


def test_an_answer_that_never_passes_is_shown_first_with_its_failure(fake: FakeOpenAI, tmp_path: Path) -> None:
    task = "Write a SQL query that lists users from users(id, name)."
    broken = "```sql\nSELECT name FROM users WHERE WHERE id;\n```"
    events, answer = turn(fake, tmp_path, task, [broken, broken, broken])
    step = check_step(events)
    assert step.verified == "failed" and step.result.startswith("failed 3 times") and "syntax error" in step.result
    assert answer.startswith(broken) and "Its code failed when run" in answer and len(checks(events)) == 3


def test_a_regex_without_examples_is_unverified_never_passed(fake: FakeOpenAI, tmp_path: Path) -> None:
    events, _ = turn(fake, tmp_path, "Write a regex for hex colours.", ["```regex\n#[0-9a-fA-F]{6}\n```"])
    step = check_step(events)
    assert step.verified == "unverified" and "no examples" in step.result and not checks(events)


def test_a_data_answer_is_parsed_without_running_anything(fake: FakeOpenAI, tmp_path: Path) -> None:
    events, _ = turn(fake, tmp_path, "Write a JSON object with a `name` key.", ['```json\n{"name": "x"}\n```'])
    assert check_step(events).verified == "passed" and not checks(events)


PAL_TASK = "Write is_palindrome(s) in Python, save it to pal.py, and a pytest test in test_pal.py."
MODULE = "pal.py:\n```python\ndef is_palindrome(s):\n    s = s.lower()\n    return s == s[::-1]\n```\n"
TESTS = (
    "test_pal.py:\n```python\nfrom pal import is_palindrome\n\ndef test_it():\n    assert is_palindrome('Level')\n```\n"
)


def test_named_files_are_written_and_the_steps_that_name_them_are_completed_by_the_writes(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    steps = ("Create the pal.py file", "Add a test", "Save the file")
    events, _ = turn(fake, tmp_path, PAL_TASK, [MODULE + "\n" + TESTS], steps=steps)
    assert "def is_palindrome" in (tmp_path / "pal.py").read_text()
    assert "def test_it" in (tmp_path / "test_pal.py").read_text()
    final = {s.description: s for s in last_plan(events).steps}
    assert final["Create the pal.py file"].result == "wrote pal.py (3 lines)"
    assert [e.what for e in final["Create the pal.py file"].evidence] == ["pal.py"]
    assert {e.what for e in final["Save the file"].evidence} == {"pal.py", "test_pal.py"}
    assert not any(s.result.startswith("answered") for s in final.values() if "pal" in s.description)
    ran = final["Run test_pal.py against the written files"]
    assert ran.verified == "passed" and ran.evidence[-1].kind == "command" and ran.evidence[-1].ok
    assert all(s.status == "completed" for s in final.values())


def test_denied_writes_leave_no_file_and_the_plan_says_so(fake: FakeOpenAI, tmp_path: Path) -> None:
    events, answer = turn(fake, tmp_path, PAL_TASK, [MODULE + TESTS], approve=False, steps=("Create pal.py", "Test"))
    assert not (tmp_path / "pal.py").exists() and not (tmp_path / "test_pal.py").exists()
    final = {s.description: s for s in last_plan(events).steps}
    assert final["Create pal.py"].status == "cancelled" and "not written: not now" in final["Create pal.py"].result
    assert final["Run test_pal.py against the written files"].status == "cancelled"
    assert "pal.py not written" in answer
    assert any(e.type == "notice" and "not written" in e.message for e in events)


def test_a_test_file_the_model_left_out_is_asked_for_alone(fake: FakeOpenAI, tmp_path: Path) -> None:
    only_module = MODULE.replace("pal.py:\n", "")
    events, answer = turn(fake, tmp_path, PAL_TASK, [only_module, TESTS.replace("test_pal.py:\n", "")])
    asked = fake.model_requests()[-1]["messages"][-1]["content"]
    assert "only the file `test_pal.py`" in asked and "from pal import *" in asked
    assert (tmp_path / "test_pal.py").exists() and "test_pal.py:" in answer
    assert check_step(events).verified == "passed"


def test_tests_in_the_module_block_are_split_into_the_named_test_file(fake: FakeOpenAI, tmp_path: Path) -> None:
    one_block = (
        "```python\ndef is_palindrome(s):\n    return s == s[::-1]\n\ndef test_it():\n"
        "    assert is_palindrome('aba')\n```"
    )
    events, _ = turn(fake, tmp_path, PAL_TASK, [one_block])
    assert "def test_it" not in (tmp_path / "pal.py").read_text()
    assert (tmp_path / "test_pal.py").read_text().startswith("from pal import *")
    assert check_step(events).verified == "passed"


def test_direct_mode_writes_named_files_and_runs_the_tests_too(fake: FakeOpenAI, tmp_path: Path) -> None:
    events, answer = turn(fake, tmp_path, PAL_TASK, [MODULE + TESTS], mode="direct")
    assert (tmp_path / "pal.py").exists() and (tmp_path / "test_pal.py").exists()
    assert "- wrote pal.py (3 lines)" in answer and "- ran test_pal.py: passed" in answer
    assert not checks(events) and not [e for e in events if e.type == "plan_updated"]
    asked = fake.model_requests()[0]["messages"][-1]["content"]
    assert asked.endswith("`pal.py`:. A test file imports what it tests from its module.") or "`pal.py`" in asked


def test_direct_mode_without_named_files_stays_as_brief_as_it_was(fake: FakeOpenAI, tmp_path: Path) -> None:
    events, answer = turn(fake, tmp_path, "Write a SQL query for adults.", ["```sql\nSELECT 1;\n```"], mode="direct")
    assert answer == "```sql\nSELECT 1;\n```" and not checks(events)
    assert fake.model_requests()[0]["messages"][-1]["content"].endswith("Reply briefly.")


@pytest.mark.parametrize("name", ["../escape.py", "/tmp/abs.py", "a/../../b.py"])
def test_the_check_never_writes_outside_its_folder(tmp_path: Path, name: str) -> None:
    from liveplan_tui.agent.conversation import Conversation
    from liveplan_tui.plan.keeper import PlanKeeper
    from liveplan_tui.tools.artifact_store import ArtifactStore
    from liveplan_tui.tools.base import ToolContext
    from liveplan_tui.tools.workspace import Workspace

    ctx = ToolContext(plans=PlanKeeper(Conversation()), workspace=Workspace(tmp_path), artifacts=ArtifactStore())
    result = asyncio.run(RunAnswerTool().run(RunAnswerParams(files={name: "x"}, command="true"), ctx))
    assert result.is_error and "not a file name inside" in result.text
    assert not (tmp_path.parent / "escape.py").exists()
