"""#26 point 4 (exec): goals that always end, judged by a command or an independent verifier, never by prose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)

VERIFIER = "You are an independent verifier"


def shell(command: str) -> dict[str, Any]:
    return {"when": "tools", "tool_calls": [{"name": "run_shell", "arguments": {"command": command}}]}


def said(text: str) -> dict[str, Any]:
    return {"when": "tools", "text": text}


def verdict(done: bool, missing: str = "") -> dict[str, Any]:
    return {"match": VERIFIER, "json": {"done": done, "missing": missing}}


def goal(fake: FakeOpenAI, workspace: Path, *flags: str, json_mode: bool = True) -> tuple[int, list[Any], str]:
    proc = run_cli(
        "exec", *(["--json"] if json_mode else []), "--mode", "direct", "--base-url", fake.base_url, "--model", "m",
        "--workspace", str(workspace), "--goal", "make done.txt exist", *flags,
    )  # fmt: skip
    out = [json.loads(line) for line in proc.stdout.splitlines()] if json_mode else proc.stdout.splitlines()
    return proc.returncode, out, proc.stderr


def finished(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(e for e in events if e["type"] == "goal_finished")


def test_met_when_the_until_command_exits_0(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([shell("touch nope.txt"), said("Made it."), shell("touch done.txt"), said("Now really.")])
    code, events, stderr = goal(fake, tmp_path, "--until", "test -f done.txt", "--yes")
    assert code == 0, stderr
    checks = [e for e in events if e["type"] == "goal_checked"]
    assert [(c["passed"], c["by"]) for c in checks] == [(False, "until"), (True, "until")]
    end = finished(events)
    assert end["reason"] == "met" and end["turns"] == 2 and end["calls"] >= 4
    assert events[0]["type"] == "goal_started" and events[0]["until"] == "test -f done.txt"
    second_turn = [m["content"] for m in fake.main_requests()[2]["messages"] if m["role"] == "user"]
    assert any("not met yet" in m and "test -f done.txt" in m for m in second_turn)  # the failure is the message


def test_until_without_yes_exits_2_before_any_model_call(fake: FakeOpenAI, tmp_path: Path) -> None:
    code, _, stderr = goal(fake, tmp_path, "--until", "true")
    assert code == 2 and "--yes" in stderr and "Traceback" not in stderr
    assert fake.requests == []


def test_the_verifier_judges_from_evidence_not_claims(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend(
        [
            said("All done, the file exists and every test passes!"),
            verdict(False, "done.txt does not exist yet"),
            shell("touch done.txt"),
            said("Created it."),
            verdict(True),
        ]
    )
    code, events, stderr = goal(fake, tmp_path, "--yes")
    assert code == 0, stderr
    checks = [e for e in events if e["type"] == "goal_checked"]
    assert [(c["passed"], c["by"]) for c in checks] == [(False, "verifier"), (True, "verifier")]
    asked = [r for r in fake.requests if VERIFIER in json.dumps(r["messages"])]
    assert len(asked) == 2 and all("tools" not in r for r in asked)
    assert all("every test passes" not in json.dumps(r["messages"]) for r in asked)  # never the model's claims
    assert asked[0]["response_format"]["json_schema"]["schema"]["required"] == ["done", "missing"]
    assert "done.txt does not exist yet" in json.dumps(fake.main_requests()[1]["messages"])


@pytest.mark.parametrize("answer", [{"text": "not json at all"}, {"status": 500}], ids=["unreadable", "error"])
def test_a_verifier_without_a_verdict_is_not_met(fake: FakeOpenAI, tmp_path: Path, answer: dict) -> None:
    fake.script.extend([said("Done."), {"match": VERIFIER, **answer}] * 3)
    code, events, stderr = goal(fake, tmp_path, "--max-turns", "2", "--yes")
    assert code in (5, 6), stderr
    assert not any(e["type"] == "goal_checked" and e["passed"] for e in events)


def test_a_runaway_goal_stops_at_its_turn_budget(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([x for n in range(5) for x in (shell(f"echo attempt {n}"), said(f"Try {n}."))])
    code, events, stderr = goal(fake, tmp_path, "--until", "false", "--yes", "--max-turns", "3")
    assert code == 5, stderr
    end = finished(events)
    assert end["reason"] == "budget" and end["turns"] == 3 and "--max-turns 3" in end["why"]


def test_a_call_budget_stops_it_too(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([x for n in range(5) for x in (shell(f"echo attempt {n}"), said(f"Try {n}."))])
    code, events, _ = goal(fake, tmp_path, "--until", "false", "--yes", "--max-calls", "3")
    assert code == 5 and finished(events)["turns"] == 2 and "--max-calls 3" in finished(events)["why"]


def test_turns_without_progress_stop_as_stuck(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([said("Working on it."), said("Still working on it."), said("Almost.")])
    code, events, stderr = goal(fake, tmp_path, "--until", "false", "--yes")
    assert code == 6, stderr
    end = finished(events)
    assert end["reason"] == "stuck" and end["turns"] == 2


def test_the_same_command_again_is_no_progress(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([shell("ls"), said("Listed."), shell("ls"), said("Listed again."), shell("ls"), said("x")])
    code, events, _ = goal(fake, tmp_path, "--until", "false", "--yes")
    assert code == 6 and finished(events)["turns"] == 3


def test_a_failing_turn_ends_the_goal_as_failed(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([{"status": 401}])
    code, events, stderr = goal(fake, tmp_path, "--until", "true", "--yes")
    assert code == 1
    assert finished(events)["reason"] == "failed" and "authentication" in stderr + json.dumps(events)


def test_text_mode_prints_one_summary(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([shell("touch done.txt"), said("Done.")])
    code, lines, stderr = goal(fake, tmp_path, "--until", "test -f done.txt", "--yes", json_mode=False)
    assert code == 0, stderr
    assert len(lines) == 1 and lines[0].startswith("goal met:") and "1 turn, " in lines[0]


def test_bad_budgets_and_both_task_and_goal_are_refused(fake: FakeOpenAI, tmp_path: Path) -> None:
    code, _, stderr = goal(fake, tmp_path, "--max-turns", "0")
    assert code == 2 and "--max-turns" in stderr
    proc = run_cli("exec", "--base-url", fake.base_url, "--model", "m", "--goal", "g", "also a task")
    assert proc.returncode == 2 and "not both" in proc.stderr
    assert fake.requests == []


def test_plain_mode_runs_a_goal_until_its_command_passes(fake: FakeOpenAI, tmp_path: Path) -> None:
    import subprocess
    import sys

    from conftest import ROOT

    fake.script.extend([shell("touch done.txt"), said("Made it.")])
    script = "/goal make done.txt exist --until test -f done.txt\ny\ny\n/goal\n"
    proc = subprocess.run(
        [sys.executable, "-m", "liveplan_tui.cli", "chat", "--plain", "--base-url", fake.base_url, "--model", "m",
         "--mode", "direct", "--workspace", str(tmp_path)],
        input=script.encode(), capture_output=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "goal: make done.txt exist (until `test -f done.txt` exits 0)" in out
    assert "goal met (until)" in out and "goal met: `test -f done.txt` exited 0" in out
    assert out.count("goal met:") == 2  # the summary, then `/goal` showing it again
    assert (tmp_path / "done.txt").exists()


async def test_the_chat_runs_a_goal_and_shows_its_budget(fake: FakeOpenAI, tmp_path: Path) -> None:
    from tui_helpers import chat_text, make_app, started, submit, wait_for

    fake.script.extend([said("Checked."), said("Checked again.")])
    app = make_app(fake.base_url, tmp_path, approval="never-ask", mode="direct")
    async with app.run_test(size=(140, 40)) as pilot:
        await started(pilot)
        await submit(pilot, "/goal keep the build green --until true")
        await wait_for(pilot, lambda: "goal met" in app.status.goal, timeout=20)
        assert "goal met: `true` exited 0" in chat_text(app)
        await submit(pilot, "/goal")
        await wait_for(pilot, lambda: chat_text(app).rstrip().endswith("goal met"))


def test_the_call_budget_holds_inside_a_turn_too(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([shell(f"echo {n}") for n in range(12)] + [said("Finally.")])
    code, events, stderr = goal(fake, tmp_path, "--until", "true", "--yes", "--max-calls", "4")
    assert code == 5, stderr
    end = finished(events)
    assert end["reason"] == "budget" and end["calls"] == 4 and end["turns"] == 1
    assert len(fake.model_requests()) == 4  # the fifth call was never sent
