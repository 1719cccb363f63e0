"""The approval gate and the policy table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liveplan_tui.agent.approvals import ApprovalGate, ApprovalRequest, Decision, approval_reason
from liveplan_tui.agent.conversation import Conversation
from liveplan_tui.agent.tool_runs import run_tool
from liveplan_tui.choices import Approval
from liveplan_tui.llm.openai_compat import ToolCall
from liveplan_tui.plan.keeper import PlanKeeper
from liveplan_tui.redact import redact
from liveplan_tui.tools import default_tools
from liveplan_tui.tools.artifacts import ArtifactStore
from liveplan_tui.tools.base import ToolContext
from liveplan_tui.tools.workspace import Workspace


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    (tmp_path / "a.py").write_text("x = 1\n")
    return ToolContext(plans=PlanKeeper(Conversation()), workspace=Workspace(tmp_path), artifacts=ArtifactStore())


@pytest.mark.parametrize(
    ("policy", "tool", "asks"),
    [
        ("ask", "read_file", False),
        ("ask", "write_file", True),
        ("ask", "edit_file", True),
        ("ask", "run_shell", True),
        ("auto-edit", "write_file", False),
        ("auto-edit", "run_shell", True),
        ("never-ask", "run_shell", False),
        ("never-ask", "write_file", False),
        ("ask", "update_plan", False),
    ],
)
def test_policy_table(policy: Approval, tool: str, asks: bool, ctx: ToolContext) -> None:
    t = default_tools().get(tool)
    assert t is not None
    params = t.Params.model_validate({"path": "a.py"}) if tool == "read_file" else None
    assert (approval_reason(policy, t, params, ctx) is not None) == asks


async def test_gate_shows_exact_change_and_remembers_always(ctx: ToolContext) -> None:
    asked: list[ApprovalRequest] = []
    answers = [Decision(action="always"), Decision(action="deny", reason="not that one")]

    async def approver(req: ApprovalRequest) -> Decision:
        asked.append(req)
        return answers.pop(0)

    gate = ApprovalGate("ask", approver)
    tools = default_tools()

    async def call(name: str, **args) -> str:
        return (await run_tool(tools, ToolCall(id="1", name=name, arguments=json.dumps(args)), ctx, gate)).text

    assert (await call("edit_file", path="a.py", old="x = 1", new="x = 2")).startswith("edited a.py")
    assert asked[0].tool == "edit_file" and "-x = 1\n+x = 2" in asked[0].preview
    await call("edit_file", path="a.py", old="x = 2", new="x = 3")
    assert len(asked) == 1  # "always" covers the rest of the session
    denied = await call("run_shell", command="rm -rf build")
    assert asked[1].preview.startswith("$ rm -rf build")
    assert denied.startswith("error: the user denied run_shell: not that one")


async def test_edit_that_cannot_apply_fails_before_asking(ctx: ToolContext) -> None:
    asked = []

    async def approver(req):
        asked.append(req)
        return Decision(action="once")

    result = await run_tool(
        default_tools(),
        ToolCall(id="1", name="edit_file", arguments='{"path":"a.py","old":"nope","new":"y"}'),
        ctx,
        ApprovalGate("ask", approver),
    )
    assert result.is_error and "not found" in result.text and asked == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("key sk-proj-abcdefghijklmnopqrstuvwx1234", "sk-proj-abcdefghijklmnopqrstuvwx1234"),
        ("export OPENAI_API_KEY=abc123def456ghi", "abc123def456ghi"),
        ('{"api_key": "zzzzyyyyxxxx1111"}', "zzzzyyyyxxxx1111"),
        ("aws AKIAABCDEFGHIJKLMNOP here", "AKIAABCDEFGHIJKLMNOP"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "MIIE"),
        ("password: correcthorsebattery", "correcthorsebattery"),
    ],
)
def test_redact_masks_key_shapes(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and "[REDACTED]" in out


def test_redact_masks_configured_key_and_keeps_normal_text() -> None:
    assert redact("the key is my-own-key-value!", ["my-own-key-value"]) == "the key is [REDACTED]!"
    plain = "def tokenize(text): return text.split()  # no secrets, password policy docs"
    assert redact(plain) == plain


async def test_concurrent_calls_ask_one_at_a_time(ctx: ToolContext) -> None:
    import asyncio

    open_questions = 0
    most = 0
    asked = []

    async def approver(req: ApprovalRequest) -> Decision:
        nonlocal open_questions, most
        open_questions += 1
        most = max(most, open_questions)
        asked.append(req.tool)
        await asyncio.sleep(0.05)
        open_questions -= 1
        return Decision(action="always")

    gate = ApprovalGate("ask", approver)
    tools = default_tools()
    calls = [
        ToolCall(id=str(i), name="write_file", arguments=json.dumps({"path": f"f{i}.txt", "content": "x"}))
        for i in range(3)
    ]
    results = await asyncio.gather(*(run_tool(tools, c, ctx, gate) for c in calls))
    assert most == 1 and asked == ["write_file"]  # the first "always" answered the others
    assert all(r.text.startswith("created") for r in results)
