"""Acceptance for the workspace tools through `liveplan exec` and a scripted model."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "check.py").write_text("import calc\nassert calc.add(2, 3) == 5, 'add is broken'\nprint('all good')\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"], cwd=root, check=True)
    return root


def tc(name: str, **arguments) -> dict:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def fix_script() -> list[dict]:
    return [
        tc(
            "update_plan",
            goal="Fix add",
            steps=[
                {"description": "Read calc.py", "status": "in_progress"},
                {"description": "Fix the bug"},
                {"description": "Run check.py"},
            ],
        ),
        tc("read_file", path="calc.py"),
        tc(
            "update_plan",
            updates=[{"id": 1, "status": "completed", "result": "uses minus"}, {"id": 2, "status": "in_progress"}],
        ),
        tc("edit_file", path="calc.py", old="return a - b", new="return a + b"),
        tc("update_plan", updates=[{"id": 2, "status": "completed"}, {"id": 3, "status": "in_progress"}]),
        tc("run_shell", command="python3 check.py"),
        tc("update_plan", updates=[{"id": 3, "status": "completed", "result": "passes"}]),
        {"text": "Fixed `add` and check.py passes."},
    ]


def tool_results(fake: FakeOpenAI) -> dict[str, str]:
    last = fake.model_requests()[-1]["messages"]
    names = {
        c["id"]: c["function"]["name"] for m in last if m["role"] == "assistant" for c in m.get("tool_calls") or []
    }
    return {
        names[m["tool_call_id"]]: m["content"]
        for m in last
        if m["role"] == "tool" and names[m["tool_call_id"]] != "update_plan"
    }


def test_exec_yes_plans_reads_edits_and_runs_tests(fake: FakeOpenAI, repo: Path) -> None:
    fake.script.extend(fix_script())
    proc = run_cli("exec", "--yes", "--base-url", fake.base_url, "--model", "m", "--workspace", str(repo), "fix add")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Fixed `add` and check.py passes."
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    results = tool_results(fake)
    assert "1  def add(a, b):" in results["read_file"]
    assert "-    return a - b\n+    return a + b" in results["edit_file"]
    assert results["run_shell"].startswith("exit code: 0\n--- stdout ---\nall good")
    diff = subprocess.run(["git", "diff", "--stat"], cwd=repo, capture_output=True, text=True).stdout
    assert "calc.py" in diff and "check.py" not in diff


def test_exec_without_yes_changes_nothing_and_tells_the_model(fake: FakeOpenAI, repo: Path) -> None:
    fake.script.extend(fix_script())
    before = (repo / "calc.py").read_text()
    proc = run_cli("exec", "--base-url", fake.base_url, "--model", "m", "--workspace", str(repo), "fix add")
    assert proc.returncode == 0, proc.stderr
    assert (repo / "calc.py").read_text() == before
    results = tool_results(fake)
    assert "1  def add(a, b):" in results["read_file"]  # reading needs no approval
    for name in ("edit_file", "run_shell"):
        assert results[name].startswith("error: the user denied " + name)
        assert "without --yes" in results[name]
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout == ""


def test_auto_edit_allows_edits_but_not_shell(fake: FakeOpenAI, repo: Path) -> None:
    fake.script.extend(fix_script())
    proc = run_cli(
        "exec", "--approval", "auto-edit", "--base-url", fake.base_url, "--model", "m", "--workspace", str(repo), "fix"
    )
    assert proc.returncode == 0
    results = tool_results(fake)
    assert not results["edit_file"].startswith("error:")
    assert results["run_shell"].startswith("error: the user denied run_shell")


def test_never_ask_warns_and_runs_everything(fake: FakeOpenAI, repo: Path) -> None:
    fake.script.extend(fix_script())
    proc = run_cli(
        "exec", "--approval", "never-ask", "--base-url", fake.base_url, "--model", "m", "--workspace", str(repo), "fix"
    )
    assert proc.returncode == 0
    assert "warning: approval is never-ask" in proc.stderr
    assert tool_results(fake)["run_shell"].startswith("exit code: 0")


def test_escape_attempts_are_refused_every_time(fake: FakeOpenAI, repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("outside secret")
    (repo / "sneaky").symlink_to(outside)
    target = tmp_path / "x-written-by-model"
    fake.script.extend(
        [
            tc("read_file", path="../../etc/passwd"),
            tc("write_file", path=str(target), content="pwned"),
            tc("read_file", path="sneaky"),
            tc("write_file", path="sneaky", content="pwned"),
            {"text": "I could not escape."},
        ]
    )
    proc = run_cli("exec", "--yes", "--base-url", fake.base_url, "--model", "m", "--workspace", str(repo), "escape")
    assert proc.returncode == 0
    last = fake.model_requests()[-1]["messages"]
    results = [m["content"] for m in last if m["role"] == "tool"]
    assert len(results) == 4 and all("outside the workspace" in r for r in results)
    assert not target.exists()
    assert outside.read_text() == "outside secret"
    assert "root:" not in json.dumps(fake.requests) and "outside secret" not in json.dumps(fake.requests)


def test_dotenv_needs_approval(fake: FakeOpenAI, repo: Path) -> None:
    (repo / ".env").write_text("DB_PASSWORD=hunter2hunter2\n")
    fake.script.extend([tc("read_file", path=".env"), {"text": "ok"}])
    run_cli("exec", "--base-url", fake.base_url, "--model", "m", "--workspace", str(repo), "read env")
    denied = [m["content"] for m in fake.model_requests()[-1]["messages"] if m["role"] == "tool"][0]
    assert denied.startswith("error: the user denied read_file")
    fake.script.extend([tc("read_file", path=".env"), {"text": "ok"}])
    run_cli("exec", "--yes", "--base-url", fake.base_url, "--model", "m", "--workspace", str(repo), "read env")
    shown = [m["content"] for m in fake.model_requests()[-1]["messages"] if m["role"] == "tool"][0]
    assert "DB_PASSWORD=[REDACTED]" in shown and "hunter2" not in shown


def test_missing_workspace_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli(
        "exec", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--workspace", str(tmp_path / "nope"), "x"
    )
    assert proc.returncode == 2 and "pass --workspace DIR" in proc.stderr and "Traceback" not in proc.stderr


def test_a_long_command_reports_progress_on_its_own_line(fake: FakeOpenAI, tmp_path: Path) -> None:
    """A tool can say how it goes while it runs: a command past two seconds reports its time, on its call only."""
    fake.script.extend(
        [
            tc("run_shell", command="sleep 4.5; echo finished"),
            tc("run_shell", command="echo quick"),
            {"text": "Both ran."},
        ]
    )
    proc = run_cli(
        "exec", "--json", "--yes", "--mode", "direct", "--base-url", fake.base_url, "--model", "m",
        "--workspace", str(tmp_path), "run them",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    started = [e for e in events if e["type"] == "tool_call_started"]
    progress = [e for e in events if e["type"] == "tool_progress"]
    assert [p["detail"] for p in progress] == ["running for 2s", "running for 4s"]
    assert {p["call_id"] for p in progress} == {started[0]["call_id"]} and progress[0]["name"] == "run_shell"
    order = [e["type"] for e in events]
    first_done = order.index("tool_call_finished")
    assert all(order.index("tool_call_started") < events.index(p) < first_done for p in progress)
