"""Class 6: nothing a tool starts outlives its call, the turn, or LivePlan (SIGTERM and SIGKILL included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from attack import call, make_workspace

from liveplan_tui.agent.conversation import Conversation
from liveplan_tui.plan.keeper import PlanKeeper
from liveplan_tui.tools.artifacts import ArtifactStore
from liveplan_tui.tools.base import ToolContext
from liveplan_tui.tools.shell import RunShellParams, RunShellTool
from liveplan_tui.tools.workspace import Workspace

ESCAPES = [
    "setsid sleep 300 & echo $! >> pids",
    "(sleep 301 & echo $! >> pids) ",
    "nohup sleep 302 >/dev/null 2>&1 & echo $! >> pids",
    "setsid sh -c 'sleep 303 & echo $! >> pids; sleep 304' & echo $! >> pids",
    'python3 -c "import os,time\nif os.fork()==0:\n os.setsid()\n if os.fork()==0:\n  '
    "open('pids','a').write(str(os.getpid())+'\\\\n'); time.sleep(305)\" ",
]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def pids(ws: Path, count: int, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [int(p) for p in (ws / "pids").read_text().split()] if (ws / "pids").exists() else []
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"only {found} started")


def all_gone(found: list[int], timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(p) for p in found):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("escape", ESCAPES)
async def test_escaped_children_end_with_the_call(tmp_path: Path, escape: str) -> None:
    ws = make_workspace(tmp_path / "ws")
    ctx = ToolContext(plans=PlanKeeper(Conversation()), workspace=Workspace(ws), artifacts=ArtifactStore())
    result = await RunShellTool().run(RunShellParams(command=f"{escape}; sleep 0.3; echo started"), ctx)
    assert "started" in result.text
    assert all_gone(pids(ws, 1))


def _exec_that_waits(fake, ws: Path) -> subprocess.Popen[str]:
    command = "; ".join(ESCAPES) + "; sleep 300"
    fake.script.extend([call("run_shell", command=command, timeout=600), {"text": "done"}])
    env = dict(os.environ)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liveplan_tui.cli",
            "exec",
            "--yes",
            "--mode",
            "direct",
            "--base-url",
            fake.base_url,
            "--model",
            "m",
            "--workspace",
            str(ws),
            "go",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_sigterm_exits_143_with_one_line_and_no_children(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    proc = _exec_that_waits(fake, ws)
    found = pids(ws, 6)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert len(err.strip().splitlines()) == 1 and "terminated" in err and "Traceback" not in err
    assert all_gone(found)


@pytest.mark.slow
def test_sigkill_of_liveplan_still_ends_its_children(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    proc = _exec_that_waits(fake, ws)
    found = pids(ws, 6)
    proc.kill()
    proc.communicate(timeout=30)
    assert all_gone(found, timeout=10)
