"""`run_shell`: a command in the workspace, in its own process group.

On timeout or cancellation the whole group is killed, so a test runner's
children or a stray `sleep &` never outlive the call.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from ..prompts import load
from .base import ToolContext, ToolError, ToolKind, ToolResult

DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 600.0
STREAM_CAP = 200_000


class RunShellParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: StrictStr = Field(description="A shell command, run with /bin/sh in the workspace.")
    timeout: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT, description="Seconds before it is killed (default 60).")


async def _read_capped(stream: asyncio.StreamReader) -> tuple[bytes, int]:
    kept = bytearray()
    total = 0
    while chunk := await stream.read(65536):
        total += len(chunk)
        if len(kept) < STREAM_CAP:
            kept += chunk[: STREAM_CAP - len(kept)]
    return bytes(kept), total


async def _exited(proc: asyncio.subprocess.Process) -> int:
    """The exit code, as soon as the shell exits; Process.wait() on 3.11 also waits for pipes to close."""
    while proc.returncode is None:
        await asyncio.sleep(0.02)
    return proc.returncode


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _section(name: str, data: bytes, total: int) -> str:
    text = data.decode("utf-8", errors="replace").rstrip("\n")
    if total > len(data):
        text += f"\n[{total - len(data):,} more bytes cut]"
    return f"--- {name} ---\n{text}" if text else f"--- {name} --- (empty)"


class RunShellTool:
    name: ClassVar[str] = "run_shell"
    kind: ClassVar[ToolKind] = "shell"
    Params: ClassVar[type[BaseModel]] = RunShellParams

    def description(self) -> str:
        return load("tools/run_shell.md")

    def preview(self, params: RunShellParams, ctx: ToolContext) -> str:
        return f"$ {params.command}\n(in {ctx.workspace.root}, timeout {params.timeout or DEFAULT_TIMEOUT:g}s)"

    async def run(self, params: RunShellParams, ctx: ToolContext) -> ToolResult:
        if not params.command.strip():
            raise ToolError("empty command")
        timeout = params.timeout or DEFAULT_TIMEOUT
        proc = await asyncio.create_subprocess_shell(
            params.command,
            cwd=ctx.workspace.root,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        readers = [asyncio.create_task(_read_capped(proc.stdout)), asyncio.create_task(_read_capped(proc.stderr))]
        timed_out = False
        try:
            try:
                code = await asyncio.wait_for(_exited(proc), timeout)
            except TimeoutError:
                timed_out = True
                _kill_group(proc.pid)
                code = await _exited(proc)
            # A child left in the background may hold the pipes open: a short grace, then it goes too.
            _, pending = await asyncio.wait(readers, timeout=1.0)
            if pending:
                _kill_group(proc.pid)
            (out, out_n), (err, err_n) = await asyncio.gather(*readers)
        finally:
            _kill_group(proc.pid)
            for task in readers:
                task.cancel()
        body = f"{_section('stdout', out, out_n)}\n{_section('stderr', err, err_n)}"
        if timed_out:
            return ToolResult(f"error: timed out after {timeout:g}s; the command and its children were killed\n{body}", is_error=True)
        return ToolResult(f"exit code: {code}\n{body}", is_error=code != 0)
