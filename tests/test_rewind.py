"""Checkpoints, /undo and /rewind: files and plan go back, a rewind is undoable, and nothing is lost silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI, system_prompt

from liveplan_tui import commands
from liveplan_tui.agent.rewind import (
    Change,
    ChangeLog,
    FileChange,
    RewindError,
    change_from_json,
    change_to_json,
    log_from_rows,
)
from liveplan_tui.agent.session import Session as Agent
from liveplan_tui.config import load_settings, resolve_endpoint
from liveplan_tui.plan import LivePlan, PlanBoard, Step, StepStatus
from liveplan_tui.store import open_store


def board(current: int, total: int = 3) -> PlanBoard:
    steps = tuple(
        Step(
            id=i,
            description=f"step {i}",
            status=StepStatus.COMPLETED
            if i < current
            else StepStatus.IN_PROGRESS
            if i == current
            else StepStatus.PENDING,
            result=f"result {i}" if i < current else "",
        )
        for i in range(1, total + 1)
    )
    return PlanBoard(active=LivePlan(goal="g", steps=steps))


def tool_change(log: ChangeLog, root: Path, rel: str, text: str | None, step: int) -> None:
    """Do what a tool does: change the file, then checkpoint the bytes before and after."""
    path = root / rel
    before = path.read_bytes() if path.exists() else None
    after = None if text is None else text.encode()
    if after is None:
        path.unlink()
    else:
        path.write_bytes(after)
    log.add(Change("tool", (FileChange(rel, before, after),), step=step, goal="g"))


@pytest.fixture
def worked(tmp_path: Path) -> tuple[ChangeLog, Path]:
    """a.txt written in step 1 and edited in step 2; b.txt created in step 2; c.txt created in step 3."""
    (tmp_path / "a.txt").write_text("original\n")
    log = ChangeLog(tmp_path)
    tool_change(log, tmp_path, "a.txt", "step one\n", 1)
    tool_change(log, tmp_path, "a.txt", "step two\n", 2)
    tool_change(log, tmp_path, "b.txt", "new in two\n", 2)
    tool_change(log, tmp_path, "c.txt", "new in three\n", 3)
    return log, tmp_path


def snapshot(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(root.iterdir()) if p.is_file()}


def test_rewind_restores_files_to_when_the_step_started_and_reopens_steps(worked) -> None:
    log, root = worked
    outcome = log.rewind(board(3), 2)
    assert outcome.done
    assert snapshot(root) == {"a.txt": "step one\n"}  # b and c did not exist when step 2 started
    plan = outcome.board.active
    assert [s.status for s in plan.steps] == ["completed", "pending", "pending"]
    assert plan.steps[0].result == "result 1" and plan.steps[1].result == ""
    assert "shell commands are not tracked" in outcome.message


@pytest.mark.parametrize("step", [1, 2, 3])
def test_undo_right_after_a_rewind_brings_everything_back(worked, step: int) -> None:
    log, root = worked
    before = snapshot(root)
    original = board(3)
    log.rewind(original, step)
    undone = log.undo(original)
    assert undone.done and snapshot(root) == before
    assert undone.board == original


def test_undo_reverts_one_change_at_a_time(worked) -> None:
    log, root = worked
    log.undo(board(3))
    assert "c.txt" not in snapshot(root)
    log.undo(board(3))
    assert "b.txt" not in snapshot(root)
    log.undo(board(3))
    assert snapshot(root)["a.txt"] == "step one\n"
    log.undo(board(3))
    assert snapshot(root)["a.txt"] == "original\n"
    with pytest.raises(RewindError, match="nothing to undo"):
        log.undo(board(3))


def test_a_file_edited_since_is_not_overwritten_without_force(worked) -> None:
    log, root = worked
    (root / "a.txt").write_text("step two\nmy own line\n")
    outcome = log.rewind(board(3), 2)
    assert not outcome.done and "force" in outcome.message
    assert "+my own line" in outcome.lost[0]
    assert (root / "a.txt").read_text() == "step two\nmy own line\n"  # untouched
    assert (root / "c.txt").exists()  # nothing else moved either
    forced = log.rewind(board(3), 2, force=True)
    assert forced.done and (root / "a.txt").read_text() == "step one\n"
    log.undo(board(3))
    assert (root / "a.txt").read_text() == "step two\nmy own line\n"  # the user's edit comes back with undo


def test_a_deleted_file_counts_as_changed_since(worked) -> None:
    log, root = worked
    (root / "c.txt").unlink()
    outcome = log.undo(board(3))
    assert not outcome.done and "new in three" in outcome.lost[0]


def test_bad_step_numbers_say_what_exists(worked) -> None:
    log, _ = worked
    with pytest.raises(RewindError, match="1-3"):
        log.rewind(board(3), 7)


def test_changes_round_trip_any_bytes_and_damaged_rows_are_skipped(tmp_path: Path) -> None:
    change = Change("tool", (FileChange("x.bin", b"\xff\x00\xfe", None),), step=2, goal="g", reverted=(1, 2))
    back = change_from_json(5, change_to_json(change), True)
    assert back.files == change.files and back.reverted == (1, 2) and back.id == 5 and back.undone
    log = log_from_rows(tmp_path, [(1, "{not json", False), (2, change_to_json(change), False)])
    assert [c.id for c in log.changes] == [2]


# -- through the session and the commands, against the fake server -------------


def create(n: int = 3) -> dict:
    steps = [{"description": f"step {i}", **({"status": "in_progress"} if i == 1 else {})} for i in range(1, n + 1)]
    return {"tool_calls": [{"name": "update_plan", "arguments": {"goal": "Build it", "steps": steps}}]}


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


def advance(done: int, start: int | None) -> dict:
    updates = [{"id": done, "status": "completed", "result": f"did {done}"}]
    if start:
        updates.append({"id": start, "status": "in_progress"})
    return {"tool_calls": [{"name": "update_plan", "arguments": {"updates": updates}}]}


def three_steps_with_files() -> list[dict]:
    return [
        create(),
        write("app.py", "v1\n"),
        advance(1, 2),
        write("app.py", "v2\n"),
        write("extra.py", "x\n"),
        advance(2, 3),
        write("docs.md", "d\n"),
        advance(3, None),
        {"text": "Built."},
    ]


def store_beside(workspace: Path):
    (workspace / "data").mkdir(exist_ok=True)
    return open_store(workspace / "data")


def make_agent(fake: FakeOpenAI, workspace: Path) -> Agent:
    settings = load_settings(base_url=fake.base_url, model="m", mode="plan", workspace=workspace, approval="never-ask")
    return Agent(settings, resolve_endpoint(settings))


async def test_slash_rewind_and_undo_through_a_session(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([*three_steps_with_files(), {"text": "ok"}])
    agent = make_agent(fake, tmp_path)
    agent.attach(store_beside(tmp_path))
    [e async for e in agent.submit("build it")]
    files_after = snapshot(tmp_path)
    result = await commands.run(agent, "/rewind 2")
    assert not result.error, result.message
    assert snapshot(tmp_path) == {"app.py": "v1\n"}
    plan = agent.view.board.active
    assert [s.status for s in plan.steps] == ["completed", "pending", "pending"]
    assert result.events and result.events[0].type == "plan_updated"
    assert "not tracked" in result.message
    [e async for e in agent.submit("go on")]
    told = system_prompt(fake.main_requests()[-1])
    assert "rewound to step 2" in told and "2. [pending] step 2" in told
    again = await commands.run(agent, "/undo")
    assert not again.error and snapshot(tmp_path) == files_after
    await agent.close()


@pytest.mark.parametrize("line", ["/rewind", "/rewind two", "/rewind 2 please", "/undo now"])
async def test_slash_rewind_usage_errors(fake: FakeOpenAI, tmp_path: Path, line: str) -> None:
    agent = make_agent(fake, tmp_path)
    result = await commands.run(agent, line)
    assert result.error and "usage" in result.message
    await agent.close()


async def test_undo_with_nothing_done_says_so(fake: FakeOpenAI, tmp_path: Path) -> None:
    agent = make_agent(fake, tmp_path)
    result = await commands.run(agent, "/undo")
    assert result.error and "nothing to undo" in result.message
    await agent.close()


@pytest.mark.slow
def test_cli_rewind_on_the_latest_session_and_its_refusal(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend(three_steps_with_files())
    base = ("--base-url", fake.base_url, "--model", "m", "--mode", "plan", "--workspace", str(tmp_path))
    assert run_cli("exec", "--yes", *base, "build it").returncode == 0
    (tmp_path / "docs.md").write_text("the user's own notes\n")
    refused = run_cli("rewind", "2")
    assert refused.returncode == 1 and "--force" in refused.stderr and "the user's own notes" in refused.stderr
    assert (tmp_path / "docs.md").read_text() == "the user's own notes\n"
    done = run_cli("rewind", "2", "--force")
    assert done.returncode == 0, done.stderr
    assert snapshot(tmp_path) == {"app.py": "v1\n"}
    listed = json.loads(run_cli("sessions", "--json").stdout.splitlines()[0])
    assert listed["plan"].startswith("1/3")


@pytest.mark.slow
@pytest.mark.parametrize(("args", "needle"), [(("rewind", "0"), "at least 1"), (("rewind", "x"), "whole number")])
def test_cli_rewind_bad_arguments(args: tuple[str, ...], needle: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2 and needle in proc.stderr


@pytest.mark.slow
def test_cli_rewind_without_sessions_is_one_line() -> None:
    proc = run_cli("rewind", "1")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


async def test_checkpoints_and_memory_survive_a_restart(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend(three_steps_with_files())
    store = store_beside(tmp_path)
    first = make_agent(fake, tmp_path)
    session_id = first.attach(store)
    [e async for e in first.submit("build it")]
    await first.close()
    second = make_agent(fake, tmp_path)
    second.resume_saved(store, session_id)
    assert "app.py" in second.view.work and "docs.md" in second.view.work
    result = await commands.run(second, "/undo")
    assert not result.error and not (tmp_path / "docs.md").exists()
    await second.close()
