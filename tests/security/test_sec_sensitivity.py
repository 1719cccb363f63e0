"""Class 2: sensitivity follows the real file, in every tool; masking covers URLs and token shapes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from attack import SECRET_VALUE, call, everything_sent, exec_attack, make_workspace, tool_messages

from liveplan_tui.agent.approvals import approval_reason
from liveplan_tui.agent.conversation import Conversation
from liveplan_tui.choices import Approval
from liveplan_tui.plan.keeper import PlanKeeper
from liveplan_tui.redact import MASK, redact
from liveplan_tui.tools import default_tools
from liveplan_tui.tools.artifacts import ArtifactStore
from liveplan_tui.tools.base import ToolContext
from liveplan_tui.tools.search import SearchParams, SearchTool
from liveplan_tui.tools.workspace import Workspace


def disguised(root: Path, how: str) -> Path:
    """A workspace whose `notes.txt` is really `.env`, by a symlink, a hardlink, or a link into a subfolder."""
    ws = make_workspace(root)
    if how == "symlink":
        (ws / "notes.txt").symlink_to(".env")
    elif how == "hardlink":
        os.link(ws / ".env", ws / "notes.txt")
    else:
        (ws / "docs").mkdir()
        (ws / "docs" / "notes.txt").symlink_to("../.env")
    return ws


@pytest.mark.parametrize("how", ["symlink", "hardlink", "nested-symlink"])
@pytest.mark.parametrize("ripgrep", [True, False])
async def test_search_never_returns_lines_of_a_disguised_secret(tmp_path: Path, how: str, ripgrep: bool) -> None:
    if ripgrep and shutil.which("rg") is None:
        pytest.skip("ripgrep is not installed; the Python search path is tested beside it")
    ws = disguised(tmp_path / "ws", how)
    ctx = ToolContext(plans=PlanKeeper(Conversation()), workspace=Workspace(ws), artifacts=ArtifactStore())
    for path in (".", "notes.txt" if how != "nested-symlink" else "docs/notes.txt"):
        result = await SearchTool(use_ripgrep=ripgrep).run(SearchParams(pattern="PASSWORD|postgres", path=path), ctx)
        assert SECRET_VALUE not in result.text and "postgres://" not in result.text, result.text


@pytest.mark.parametrize("how", ["symlink", "hardlink", "nested-symlink"])
@pytest.mark.parametrize("tool", ["read_file", "write_file", "edit_file"])
@pytest.mark.parametrize("policy", ["ask", "auto-edit"])
def test_every_file_tool_judges_the_real_target(tmp_path: Path, how: str, tool: str, policy: Approval) -> None:
    ws = disguised(tmp_path / "ws", how)
    ctx = ToolContext(plans=PlanKeeper(Conversation()), workspace=Workspace(ws), artifacts=ArtifactStore())
    t = default_tools().get(tool)
    assert t is not None
    path = "docs/notes.txt" if how == "nested-symlink" else "notes.txt"
    args = (
        {"path": path, "content": "x"}
        if tool == "write_file"
        else {"path": path, "old": "a", "new": "b"}
        if tool == "edit_file"
        else {"path": path}
    )
    reason = approval_reason(policy, t, t.Params.model_validate(args), ctx)
    assert reason is not None and "secret" in reason


@pytest.mark.slow
def test_exec_model_following_a_symlink_sees_nothing(fake, tmp_path: Path) -> None:
    ws = disguised(tmp_path / "ws", "symlink")
    fake.script.extend(
        [
            call("search", pattern="PASSWORD"),
            call("read_file", path="notes.txt"),
            call("list_dir", path="."),
            {"text": "done"},
        ]
    )
    proc = exec_attack(fake, ws)
    assert proc.returncode == 0
    sent = everything_sent(fake)
    assert SECRET_VALUE not in sent and "postgres://" not in sent
    search, read, listing = tool_messages(fake)
    assert search.startswith("no matches") and "denied" in read
    assert "notes.txt  (links to a secret file" in listing


@pytest.mark.slow
def test_shell_output_masks_credentials_in_urls_and_token_shapes(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    (ws / "settings.txt").write_text(
        f"DATABASE_URL=postgres://user:{SECRET_VALUE}@db/x\nredis=redis://:{SECRET_VALUE}@cache:6379\n"
        "auth = Bearer abcdefghijklmnop1234567890\nslack=xoxb-123456789012-abcdefghij\n"
    )
    fake.script.extend([call("run_shell", command="cat settings.txt"), {"text": "done"}])
    exec_attack(fake, ws, "--yes")
    (result,) = tool_messages(fake)
    assert SECRET_VALUE not in result and "abcdefghijklmnop1234567890" not in result and "xoxb-1234" not in result
    assert "postgres://user:[REDACTED]@db/x" in result


@pytest.mark.parametrize(
    "text",
    [
        "DATABASE_URL=postgres://user:p4ssw0rd-long@db.example.com:5432/app",
        "amqp://guest:guestsecret99@rabbit/",
        "https://deploy:ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/o/r.git",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n",
        "STRIPE_KEY=sk_live_abcdefghijklmnopqrstuvwx",
        "token: glpat-abcdefghijklmnopqrstu",
        "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        '{"password": "correct horse battery"}',
        "MYSQL_PWD=s3cr3tvalue",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
    ],
)
def test_masking_covers_common_credential_shapes(text: str) -> None:
    masked = redact(text)
    assert MASK in masked
    for secret in (
        "p4ssw0rd-long",
        "guestsecret99",
        "ghp_abc",
        "eyJzdWIi",
        "sk_live_",
        "glpat-",
        "wJalrXUtn",
        "correct",
        "s3cr3t",
        "b3BlbnNz",
    ):
        assert secret not in masked


@pytest.mark.parametrize(
    "text", ["primary_key=True", "see http://localhost:8080/v1/models", "user@example.com", "x = a:b@c"]
)
def test_masking_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text
