"""Helpers for the real-server behaviour suite: run `exec` the way scripts do, and read what it did."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conftest import run_cli  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402

MODES = ["direct", "plan"]


def call(name: str, **arguments: Any) -> dict[str, Any]:
    """A native tool call, for main-loop requests only (never the summarizer's)."""
    return {"when": "tools", "tool_calls": [{"name": name, "arguments": arguments}]}


def plan_create(first_status: str = "in_progress") -> dict[str, Any]:
    steps = [{"description": "Look at the file", "status": first_status}, {"description": "Answer"}]
    return call("update_plan", goal="Answer the question", steps=steps)


def plan_finish() -> dict[str, Any]:
    return {
        "when": "tools",
        "tool_calls": [
            {
                "name": "update_plan",
                "arguments": {
                    "updates": [
                        {"id": 1, "status": "completed", "result": "looked"},
                        {"id": 2, "status": "completed", "result": "answered"},
                    ]
                },
            }
        ],
    }


def run(
    fake: FakeOpenAI,
    *flags: str,
    task: str = "please answer the question",
    env: dict[str, str] | None = None,
    workspace: Path | None = None,
) -> tuple[int, list[dict[str, Any]], str]:
    """`liveplan exec --json`; returns (exit code, events, stderr)."""
    where = ["--workspace", str(workspace)] if workspace else []
    proc = run_cli("exec", "--json", "--base-url", fake.base_url, "--model", "m", *where, *flags, task, env=env)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, events, proc.stderr


def answer(events: list[dict[str, Any]]) -> str:
    return events[-1]["answer"] if events and events[-1]["type"] == "turn_finished" else ""


def tool_results(fake: FakeOpenAI) -> list[str]:
    return [m["content"] for m in fake.model_requests()[-1]["messages"] if m["role"] == "tool"]


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr and "internal error" not in stderr, stderr
    return lines[0]
