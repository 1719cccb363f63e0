"""Helpers for the security suite: a workspace with secrets, and a model that tries an attack."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conftest import run_cli  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402

SECRET_VALUE = "hunter2-swordfish-42"
DOTENV = f"DB_PASSWORD={SECRET_VALUE}\nDATABASE_URL=postgres://app:{SECRET_VALUE}@db:5432/app\n"


def make_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / ".env").write_text(DOTENV)
    (root / "app.py").write_text("print('hello')\n")
    return root


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def calls(*pairs: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"tool_calls": [{"name": n, "arguments": a} for n, a in pairs]}


def exec_attack(
    fake: FakeOpenAI, workspace: Path, *flags: str, task: str = "do the task", env: dict[str, str] | None = None
):
    return run_cli(
        "exec",
        "--mode",
        "direct",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "--workspace",
        str(workspace),
        *flags,
        task,
        env=env,
    )


def tool_messages(fake: FakeOpenAI) -> list[str]:
    """Every tool result the model was sent, in order."""
    last = fake.model_requests()[-1]["messages"]
    return [m["content"] for m in last if m["role"] == "tool"]


def everything_sent(fake: FakeOpenAI) -> str:
    return json.dumps(fake.requests)
