"""Class 1: a call that needs approval is decided before any part of its work reads the target."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from attack import SECRET_VALUE, call, exec_attack, make_workspace, tool_messages

from liveplan_tui.agent.approvals import ApprovalGate, ApprovalRequest, Decision, fixed_approver
from liveplan_tui.agent.conversation import Conversation
from liveplan_tui.agent.tool_runs import run_tool
from liveplan_tui.llm.openai_compat import ToolCall
from liveplan_tui.plan.keeper import PlanKeeper
from liveplan_tui.tools import default_tools
from liveplan_tui.tools.artifacts import ArtifactStore
from liveplan_tui.tools.base import ToolContext
from liveplan_tui.tools.workspace import Workspace

# Guesses about the secret: right and wrong ones must look the same to the model.
PROBES: list[tuple[str, dict[str, Any]]] = [
    ("edit_file", {"path": ".env", "old": "DB_PASSWORD=h", "new": "x", "count": 2}),
    ("edit_file", {"path": ".env", "old": "DB_PASSWORD=zzz", "new": "x", "count": 2}),
    ("edit_file", {"path": ".env", "old": "DB_PASSWORD=h", "new": "x"}),
    ("edit_file", {"path": ".env", "old": "nope", "new": "x"}),
    ("write_file", {"path": ".env", "content": "A=1\n"}),
    ("write_file", {"path": ".env.local", "content": "A=1\n"}),
    ("read_file", {"path": ".env", "start_line": 1}),
    ("read_file", {"path": ".env", "start_line": 999}),
    ("read_file", {"path": "missing.pem"}),
]


@pytest.mark.slow
@pytest.mark.parametrize("approval", ["ask", "auto-edit"])
def test_exec_without_yes_answers_every_probe_the_same(fake, tmp_path: Path, approval: str) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.extend([call(name, **args) for name, args in PROBES] + [{"text": "done"}])
    proc = exec_attack(fake, ws, "--approval", approval)
    results = tool_messages(fake)
    assert len(results) == len(PROBES)
    by_tool: dict[str, set[str]] = {}
    for (name, _), text in zip(PROBES, results, strict=True):
        by_tool.setdefault(name, set()).add(text)
    for name, answers in by_tool.items():  # one answer per tool for right guesses, wrong guesses and missing files
        assert len(answers) == 1, (name, answers)
        assert "denied" in next(iter(answers))
    assert SECRET_VALUE not in proc.stdout + proc.stderr
    assert (ws / ".env").read_text().startswith("DB_PASSWORD=")


async def test_a_failed_preview_goes_to_the_user_not_the_model(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    ctx = ToolContext(plans=PlanKeeper(Conversation()), workspace=Workspace(ws), artifacts=ArtifactStore())
    shown: list[ApprovalRequest] = []

    async def user(request: ApprovalRequest) -> Decision:
        shown.append(request)
        return Decision(action="deny")

    gate = ApprovalGate("ask", user)
    tools = default_tools()
    answers = []
    for name, args in PROBES[:4]:
        result = await run_tool(tools, ToolCall(id="c", name=name, arguments=json.dumps(args)), ctx, gate)
        answers.append(result.text)
    assert len(set(answers)) == 1 and "denied" in answers[0]
    assert len(shown) == 4  # every probe was asked, none answered by the preview's error
    assert any("no preview" in r.preview for r in shown)


async def test_a_fixed_answer_never_builds_a_preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_workspace(tmp_path / "ws")
    ctx = ToolContext(plans=PlanKeeper(Conversation()), workspace=Workspace(ws), artifacts=ArtifactStore())
    tools = default_tools()
    edit = tools.get("edit_file")
    assert edit is not None
    built: list[str] = []
    original = type(edit).preview

    def spy(self, params, ctx):  # noqa: ANN001
        built.append(params.path)
        return original(self, params, ctx)

    monkeypatch.setattr(type(edit), "preview", spy)
    gate = ApprovalGate("ask", fixed_approver(False, "unattended"))
    args = json.dumps({"path": ".env", "old": "DB", "new": "x"})
    result = await run_tool(tools, ToolCall(id="c", name="edit_file", arguments=args), ctx, gate)
    assert result.is_error and "denied" in result.text
    assert built == []


async def test_a_non_secret_file_still_gets_its_error_without_asking(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    ctx = ToolContext(plans=PlanKeeper(Conversation()), workspace=Workspace(ws), artifacts=ArtifactStore())
    asked: list[ApprovalRequest] = []

    async def user(request: ApprovalRequest) -> Decision:
        asked.append(request)
        return Decision(action="once")

    args = json.dumps({"path": "app.py", "old": "not there", "new": "x"})
    result = await run_tool(
        default_tools(), ToolCall(id="c", name="edit_file", arguments=args), ctx, ApprovalGate("ask", user)
    )
    assert result.is_error and "was not found" in result.text
    assert asked == []
