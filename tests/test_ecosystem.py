"""AGENTS.md project instructions and hooks on plan and tool events, end to end against the fake model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI, system_prompt

from liveplan_tui import commands
from liveplan_tui.agent.session import Session as Agent
from liveplan_tui.agent.session import fixed_approver
from liveplan_tui.config import load_settings, resolve_endpoint
from liveplan_tui.instructions import load, repository_root

# -- AGENTS.md ---------------------------------------------------------------------


def repo(tmp_path: Path) -> Path:
    """A repository with instructions at its root and in the package folder the agent works in."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "AGENTS.md").write_text("Root rule: run `make test` before finishing.\n")
    work = tmp_path / "pkg" / "core"
    work.mkdir(parents=True)
    (tmp_path / "pkg" / "AGENTS.md").write_text("Package rule: type hints everywhere.\n")
    (work / "AGENTS.md").write_text("Nearest rule: no print() in library code.\n")
    return work


@pytest.mark.slow
def test_instructions_from_the_root_down_reach_the_model_nearest_last(fake: FakeOpenAI, tmp_path: Path) -> None:
    work = repo(tmp_path)
    fake.script.append({"text": "ok"})
    proc = run_cli(
        "exec", "--mode", "direct", "--base-url", fake.base_url, "--model", "m", "--workspace", str(work), "hi"
    )
    assert proc.returncode == 0, proc.stderr
    prompt = system_prompt(fake.main_requests()[0])
    order = [prompt.index(rule) for rule in ("Root rule", "Package rule", "Nearest rule")]
    assert order == sorted(order) and "[PROJECT INSTRUCTIONS]" in prompt


def test_files_above_the_repository_root_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("Outside: never read.\n")
    inner = tmp_path / "project"
    (inner / ".git").mkdir(parents=True)
    (inner / "AGENTS.md").write_text("Inside.\n")
    found = load(inner)
    assert repository_root(inner) == inner and "Inside." in found.text and "Outside" not in found.text


@pytest.mark.slow
def test_no_project_instructions_turns_them_off(fake: FakeOpenAI, tmp_path: Path) -> None:
    work = repo(tmp_path)
    fake.script.append({"text": "ok"})
    base = ("--base-url", fake.base_url, "--model", "m", "--workspace", str(work))
    assert run_cli("exec", "--mode", "direct", "--no-project-instructions", *base, "hi").returncode == 0
    assert "Root rule" not in system_prompt(fake.main_requests()[0])
    shown = run_cli("config", "show", cwd=work)
    assert "# project instructions: AGENTS.md" in shown.stdout


@pytest.mark.slow
def test_over_budget_instructions_keep_the_nearest_whole_and_say_so(fake: FakeOpenAI, tmp_path: Path) -> None:
    work = repo(tmp_path)
    (tmp_path / "AGENTS.md").write_text("Root filler. " * 2000)
    fake.script.append({"text": "ok"})
    proc = run_cli(
        "exec",
        "--json",
        "--mode",
        "direct",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "--workspace",
        str(work),
        "hi",
    )
    notices = [json.loads(line) for line in proc.stdout.splitlines() if '"notice"' in line]
    assert notices and "over the budget" in notices[0]["message"] and "AGENTS.md" in notices[0]["message"]
    prompt = system_prompt(fake.main_requests()[0])
    assert "Nearest rule: no print() in library code." in prompt and "Package rule" in prompt
    assert prompt.count("Root filler.") < 2000


@pytest.mark.slow
def test_config_show_names_the_files_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = repo(tmp_path)
    proc = run_cli("config", "show", cwd=work)
    assert "# project instructions: AGENTS.md, pkg/AGENTS.md, pkg/core/AGENTS.md" in proc.stdout


async def test_init_writes_a_starter_after_approval_and_loads_it(fake: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "src").mkdir()
    settings = load_settings(base_url=fake.base_url, model="m", workspace=tmp_path)
    denied = Agent(settings, resolve_endpoint(settings), approver=fixed_approver(False, "not now"))
    result = await commands.run(denied, "/init")
    assert result.error and not (tmp_path / "AGENTS.md").exists()
    allowed = Agent(settings, resolve_endpoint(settings), approver=fixed_approver(True))
    result = await commands.run(allowed, "/init")
    text = (tmp_path / "AGENTS.md").read_text()
    assert not result.error and "python -m pytest -q" in text and "`src/`" in text
    assert "AGENTS.md" in allowed.view.instructions and "python -m pytest" in allowed.system_prompt("plan")
    again = await commands.run(allowed, "/init")
    assert again.error and "already exists" in again.message


# -- hooks -------------------------------------------------------------------------


RECORD = (
    f'{sys.executable} -c "import json,sys; d=json.load(sys.stdin); '
    f"open('hooks.log','a').write(json.dumps(d)+chr(10))\""
)
EVENTS = (
    "plan_created",
    "step_started",
    "step_completed",
    "plan_finished",
    "turn_finished",
    "before_tool",
    "after_tool",
)


def write_config(home: Path, hooks: list[tuple[str, str, float | None]]) -> None:
    lines = []
    for event, command, timeout in hooks:
        lines += ["[[hooks]]", f"event = {json.dumps(event)}", f"command = {json.dumps(command)}"]
        lines += [f"timeout = {timeout}"] if timeout else []
    (home / "config.toml").write_text("\n".join(lines) + "\n")


def plan_then_write() -> list[dict]:
    steps = [{"description": "Write the file", "status": "in_progress"}]
    return [
        {"tool_calls": [{"name": "update_plan", "arguments": {"goal": "Write a file", "steps": steps}}]},
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "out.txt", "content": "hello"}}]},
        {
            "tool_calls": [
                {
                    "name": "update_plan",
                    "arguments": {"updates": [{"id": 1, "status": "completed", "result": "written"}]},
                }
            ]
        },
        {"text": "Done."},
    ]


def run_exec(fake: FakeOpenAI, work: Path) -> tuple[int, list[dict], str]:
    proc = run_cli(
        "exec",
        "--json",
        "--yes",
        "--mode",
        "plan",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "--workspace",
        str(work),
        "write it",
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


@pytest.mark.slow
def test_every_hook_event_fires_with_one_json_object(fake: FakeOpenAI, tmp_path: Path, isolated_env: Path) -> None:
    write_config(isolated_env, [(event, RECORD, None) for event in EVENTS])
    fake.script.extend(plan_then_write())
    code, events, stderr = run_exec(fake, tmp_path)
    assert code == 0, stderr
    fired = [json.loads(line) for line in (tmp_path / "hooks.log").read_text().splitlines()]
    names = [f["event"] for f in fired]
    assert set(names) == set(EVENTS), names
    assert names.index("plan_created") < names.index("step_started") < names.index("step_completed")
    assert names.index("plan_finished") < names.index("turn_finished") == len(names) - 1
    session_id = json.loads(run_cli("sessions", "--json").stdout.splitlines()[0])["id"]
    assert all(f["session_id"] == session_id for f in fired)
    completed = next(f for f in fired if f["event"] == "step_completed")
    assert completed["step"]["result"] == "written" and completed["plan"]["goal"] == "Write a file"
    before = [f for f in fired if f["event"] == "before_tool" and f["tool"] == "write_file"]
    assert before[0]["arguments"] == {"path": "out.txt", "content": "hello"}
    after = next(f for f in fired if f["event"] == "after_tool" and f["tool"] == "write_file")
    assert after["result"].startswith("created out.txt") and after["is_error"] is False
    assert fired[-1]["answer"] == "Done."


@pytest.mark.slow
def test_a_before_tool_hook_that_exits_2_blocks_the_call_and_tells_the_model(
    fake: FakeOpenAI, tmp_path: Path, isolated_env: Path
) -> None:
    refuse = (
        f'{sys.executable} -c "import json,sys; d=json.load(sys.stdin); '
        "w = d['tool'] == 'write_file' and not d['arguments']['path'].startswith('src/'); "
        "print('writes only under src/', file=sys.stderr) if w else None; sys.exit(2 if w else 0)\""
    )
    write_config(isolated_env, [("before_tool", refuse, None)])
    fake.script.extend(plan_then_write())
    code, events, _ = run_exec(fake, tmp_path)
    assert not (tmp_path / "out.txt").exists()
    results = [e for e in events if e["type"] == "tool_call_finished" and e["name"] == "write_file"]
    assert (
        results[0]["is_error"]
        and "blocked" in results[0]["result"]
        and "writes only under src/" in results[0]["result"]
    )
    told = [m["content"] for m in fake.main_requests()[2]["messages"] if m["role"] == "tool"]
    assert any("writes only under src/" in t for t in told)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "timeout", "said"),
    [("exit 7", None, "exit 7"), ("sleep 5", 0.5, "timed out after 0.5s"), ("/no/such/hook-binary", None, "exit 127")],
)
def test_a_failing_hook_is_a_notice_and_the_turn_goes_on(
    fake: FakeOpenAI, tmp_path: Path, isolated_env: Path, command: str, timeout: float | None, said: str
) -> None:
    write_config(isolated_env, [("step_completed", command, timeout), ("before_tool", command, timeout)])
    fake.script.extend(plan_then_write())
    code, events, stderr = run_exec(fake, tmp_path)
    assert code == 0, stderr
    assert (tmp_path / "out.txt").read_text() == "hello"
    notices = [e["message"] for e in events if e["type"] == "notice"]
    assert any(said in n and "step_completed hook" in n for n in notices), notices
    assert events[-1]["type"] == "turn_finished" and events[-1]["answer"] == "Done."


@pytest.mark.slow
@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[[hooks]]\nevent = "step_done"\ncommand = "x"\n', "hooks.0.event"),
        ('[[hooks]]\nevent = "turn_finished"\n', "hooks.0.command"),
        ('[[hooks]]\nevent = "turn_finished"\ncommand = "x"\ntimeout = -1\n', "hooks.0.timeout"),
    ],
)
def test_bad_hook_config_is_one_line(isolated_env: Path, toml: str, needle: str) -> None:
    (isolated_env / "config.toml").write_text(toml)
    proc = run_cli("config", "show")
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
