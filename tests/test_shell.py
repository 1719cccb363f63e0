"""run_shell: exit codes, caps, and killing the whole process group."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from liveplan_tui.agent.conversation import Conversation
from liveplan_tui.plan.keeper import PlanKeeper
from liveplan_tui.tools.artifacts import ArtifactStore
from liveplan_tui.tools.base import ToolContext
from liveplan_tui.tools.shell import RunShellParams, RunShellTool
from liveplan_tui.tools.workspace import Workspace


def ctx(root: Path) -> ToolContext:
    return ToolContext(plans=PlanKeeper(Conversation()), workspace=Workspace(root), artifacts=ArtifactStore())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def test_captures_exit_code_and_streams(tmp_path: Path) -> None:
    result = await RunShellTool().run(RunShellParams(command="echo out; echo err >&2; pwd; exit 3"), ctx(tmp_path))
    assert result.is_error
    assert result.text.startswith("exit code: 3\n--- stdout ---\nout\n" + str(tmp_path.resolve()))
    assert "--- stderr ---\nerr" in result.text


async def test_timeout_kills_children(tmp_path: Path) -> None:
    command = "sleep 300 & echo $! > child.pid; sleep 300"
    started = time.monotonic()
    result = await RunShellTool().run(RunShellParams(command=command, timeout=1), ctx(tmp_path))
    assert time.monotonic() - started < 10
    assert result.is_error and "timed out after 1s" in result.text
    pid = int((tmp_path / "child.pid").read_text())
    for _ in range(50):
        if not alive(pid):
            break
        await asyncio.sleep(0.05)
    assert not alive(pid)


async def test_background_child_does_not_hold_the_call(tmp_path: Path) -> None:
    started = time.monotonic()
    result = await RunShellTool().run(RunShellParams(command="sleep 300 & echo $! > bg.pid; echo done"), ctx(tmp_path))
    assert time.monotonic() - started < 10
    assert result.text.startswith("exit code: 0\n--- stdout ---\ndone")
    pid = int((tmp_path / "bg.pid").read_text())
    await asyncio.sleep(0.2)
    assert not alive(pid)


async def test_output_is_capped(tmp_path: Path) -> None:
    result = await RunShellTool().run(RunShellParams(command="yes | head -c 500000"), ctx(tmp_path))
    assert "more bytes cut" in result.text and len(result.text) < 250_000


async def test_cancellation_kills_the_group(tmp_path: Path) -> None:
    task = asyncio.create_task(RunShellTool().run(RunShellParams(command="echo $$ > sh.pid; sleep 300"), ctx(tmp_path)))
    for _ in range(100):
        if (tmp_path / "sh.pid").exists() and (tmp_path / "sh.pid").read_text().strip():
            break
        await asyncio.sleep(0.05)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    pid = int((tmp_path / "sh.pid").read_text())
    await asyncio.sleep(0.2)
    assert not alive(pid)
