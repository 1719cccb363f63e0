"""The working memory beside the plan: kept by the tools, rendered on every call, never condensed away."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI, system_prompt

from liveplan_tui.memory import Note, WorkMemory


def test_files_keep_their_last_action_and_changes_win() -> None:
    memory = WorkMemory()
    for note in [
        Note("file", "a.py", "read"),
        Note("file", "a.py", "edited"),
        Note("file", "a.py", "read"),
        Note("file", "b.py", "read"),
    ]:
        memory = memory.remember(note)
    assert dict(memory.files) == {"a.py": "edited, then read", "b.py": "read"}
    assert memory.changed == [] or "a.py" in memory.render()
    text = memory.render()
    assert "- a.py: edited, then read" in text.split("Files read")[0]


def test_commands_keep_the_last_five_and_the_last_failure() -> None:
    memory = WorkMemory()
    for i in range(8):
        memory = memory.remember(Note("command", f"cmd {i}", exit_code=0))
    memory = memory.remember(Note("command", "pytest -q", exit_code=1, failure="`pytest -q` → 1 failed"))
    assert [c for c, _ in memory.commands] == ["cmd 4", "cmd 5", "cmd 6", "cmd 7", "pytest -q"]
    assert "Last failure: `pytest -q` → 1 failed" in memory.render()


def test_the_budget_drops_reads_before_changes() -> None:
    memory = WorkMemory()
    for i in range(60):
        memory = memory.remember(Note("file", f"src/module_{i:02}.py", "read"))
    for i in range(10):
        memory = memory.remember(Note("file", f"out_{i}.py", "created"))
    text = memory.render(budget=800)
    assert all(f"out_{i}.py" in text for i in range(10))
    assert "src/module_59.py" in text and "src/module_00.py" not in text


def tc(name: str, **arguments) -> dict:
    return {"when": "tools", "tool_calls": [{"name": name, "arguments": arguments}]}


@pytest.mark.slow
def test_after_many_condensations_every_request_names_every_file_written(fake: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "log.txt").write_text("".join(f"{i:05d} INFO handled request {i}\n" for i in range(3000)))
    script: list[dict] = []
    written: list[str] = []
    for i in range(6):
        script += [tc("read_file", path="log.txt", start_line=1 + 200 * i, end_line=200 + 200 * i) for _ in range(3)]
        script.append(tc("write_file", path=f"notes/part_{i}.md", content=f"part {i}\n" * 40))
    script.append(tc("run_shell", command="python3 -c 'import sys; sys.exit(3)'"))
    script.append({"when": "tools", "text": "All parts written."})
    fake.script.extend(script)
    fake.default = lambda r: None if r.get("tools") else {"text": "Summary: read log ranges and wrote notes."}
    proc = run_cli(
        "exec",
        "--json",
        "--yes",
        "--mode",
        "direct",
        "--context-window",
        "4000",
        "--max-iterations",
        "40",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "--workspace",
        str(tmp_path),
        "write the notes",
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert sum(1 for e in events if e["type"] == "condensed") >= 3
    for request in fake.main_requests():
        prompt = system_prompt(request)
        done = [m for m in request["messages"] if m["role"] == "tool" and m["content"].startswith("created notes/")]
        for result in done:
            written.append(result["content"].split()[1])
        for path in set(written):
            assert path in prompt, (path, prompt[-800:])
    last = system_prompt(fake.main_requests()[-1])
    assert "Last failure: `python3 -c 'import sys; sys.exit(3)'`" in last
    assert all(f"notes/part_{i}.md" in last for i in range(6))
