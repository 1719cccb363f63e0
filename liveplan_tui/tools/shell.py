"""`run_shell`: a command in the workspace, under a supervisor that outlives nothing it starts.

The supervisor (`reaper.py`) is a child subreaper in its own session: when the
command ends, times out, is cancelled, or LivePlan dies, everything it started
is killed, including children that called `setsid` or daemonized. The command
gets an environment without the app's secrets, and with `shell_sandbox =
"workspace"` it is sandboxed (see `reaper.py`): it can write only in the workspace and
the temp dir, and reach no process, socket or file metadata outside them.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import tempfile
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from ..memory import Note
from ..plan.evidence import Evidence
from ..redact import redact
from .base import Tool, ToolContext, ToolKind, ToolResult
from .errors import ToolError
from .reaper import landlock_abi, parts_in_force

REAPER = Path(__file__).with_name("reaper.py")
SECRET_ENV = re.compile(
    r"(?i)(api_?key|secret|token|passw(or)?d|passphrase|credential|(^|_)(key|keys|pat|pwd|pass)(_|$))"
)
# Names that say a credential or a door to one: DSNs, auth settings, agent and daemon sockets, ticket caches.
CREDENTIAL_ENV = re.compile(
    r"(?i)(_DSN$|^DSN$|_AUTH$|^AUTH_|_AUTH_|AUTH_SOCK|AGENT_INFO|AGENT_SOCK|_SOCK$|_SOCKET$|^DOCKER_HOST$|^KRB5CCNAME$"
    r"|^DBUS_SESSION_BUS_ADDRESS$|COOKIE)"
)
NOT_SECRET_ENV = {"PWD", "OLDPWD"}
TERM_GRACE = 2.0

DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 600.0
STREAM_CAP = 200_000


class RunShellParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: StrictStr = Field(description="A shell command, run with /bin/sh in the workspace.")
    timeout: float | None = Field(
        default=None, gt=0, le=MAX_TIMEOUT, description="Seconds before it is killed (default 60)."
    )


async def read_tail(stream: asyncio.StreamReader, keep: int) -> bytes:
    """The last `keep` bytes of a stream, read to its end without holding more."""
    tail = bytearray()
    while chunk := await stream.read(65536):
        tail += chunk
        del tail[: max(0, len(tail) - keep)]
    return bytes(tail)


def reaped(command: str, *flags: str) -> list[str]:
    """The argv that runs `command` under the supervisor, so whatever it starts, detached or not, ends with it;
    `flags` are the sandbox's (none for hooks: the user's own commands)."""
    supervisor = [sys.executable, "-I", "-S", str(REAPER), "--parent", str(os.getpid())]
    return [*supervisor, *flags, "--", "/bin/sh", "-c", command]


async def read_capped(stream: asyncio.StreamReader) -> tuple[bytes, int]:
    kept = bytearray()
    total = 0
    while chunk := await stream.read(65536):
        total += len(chunk)
        if len(kept) < STREAM_CAP:
            kept += chunk[: STREAM_CAP - len(kept)]
    return bytes(kept), total


async def exited(proc: asyncio.subprocess.Process) -> int:
    """The exit code, as soon as the shell exits; Process.wait() on 3.11 also waits for pipes to close."""
    while proc.returncode is None:
        await asyncio.sleep(0.02)
    return proc.returncode


def _failure_line(text: str) -> str:
    """The telling line of a failed command's output: its last non-empty line of stderr, else stdout."""
    for section in ("--- stderr ---", "--- stdout ---", ""):
        body = text.split(section, 1)[1] if section and section in text else text
        lines = [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.startswith("---")]
        if lines:
            return lines[-1][:200]
    return "failed"


def secret_variable(name: str, value: str, secrets: tuple[str, ...]) -> bool:
    """Whether a variable carries a credential, by its name or by the shape of its value: a URL with a password
    (`DATABASE_URL`, `HTTPS_PROXY=http://user:pass@…`), a provider token (`sk-…`, `ghp_…`, `AKIA…`), a private key,
    or one of our own keys."""
    if name in NOT_SECRET_ENV:
        return False
    if name.startswith("LIVEPLAN_API") or SECRET_ENV.search(name) or CREDENTIAL_ENV.search(name):
        return True
    return any(s and s in value for s in secrets) or redact(value) != value


def shell_env(secrets: tuple[str, ...], allow: tuple[str, ...]) -> dict[str, str]:
    """The environment a command sees: ours, less anything named or valued like a secret, unless allowed."""
    return {n: v for n, v in os.environ.items() if n in allow or not secret_variable(n, v, secrets)}


def supervised(command: str, ctx: ToolContext, writable: tuple[Path, ...] | None = None) -> tuple[list[str], str]:
    """The argv that runs `command` under the supervisor, and a note when the sandbox is missing.

    `writable` are the folders the sandbox leaves writable (default: the workspace, the temp dir, /dev/shm).
    """
    argv: list[str] = []
    note = ""
    if ctx.sandbox == "workspace":
        if landlock_abi() >= 1:
            folders = writable or (ctx.workspace.root, Path(tempfile.gettempdir()), Path("/dev/shm"))
            for folder in folders:
                argv += ["--write", str(folder)]
            if parts_in_force()["metadata"]:
                argv.append("--isolate")
        else:
            note = "note: the command ran without a sandbox: this kernel has no Landlock\n"
    return reaped(command, *argv), note


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    """Ask the supervisor to kill everything below it; force the group if it does not answer."""
    if proc.returncode is None:
        try:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(exited(proc), TERM_GRACE)
        except (ProcessLookupError, TimeoutError):
            pass
    _kill_group(proc.pid)


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


PROGRESS_EVERY = 2.0  # seconds between "still running" reports of a long command


async def _tick(ctx: ToolContext) -> None:
    """A long command says it is still running, and for how long, until it ends."""
    elapsed = 0.0
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        elapsed += PROGRESS_EVERY
        await ctx.progress(f"running for {elapsed:g}s")


class RunShellTool(Tool):
    name: ClassVar[str] = "run_shell"
    kind: ClassVar[ToolKind] = "shell"
    Params: ClassVar[type[BaseModel]] = RunShellParams

    preview_lexer: ClassVar[str] = "bash"
    target_key: ClassVar[str | None] = "command"

    def remember(self, params: RunShellParams, result: ToolResult, ctx: ToolContext) -> Note | None:
        if result.denied:
            return None
        match = re.search(r"^exit code: (-?\d+)", result.text, re.M)
        code = int(match.group(1)) if match else -1
        failure = "" if code == 0 else f"`{params.command[:120]}` → {_failure_line(result.text)}"
        return Note("command", params.command, exit_code=code, failure=failure)

    def evidence(self, params: RunShellParams, result: ToolResult, ctx: ToolContext) -> Evidence | None:
        match = re.search(r"^exit code: (-?\d+)", result.text, re.M)
        detail = f"exit code {match.group(1)}" if match else "timed out" if "timed out" in result.text[:60] else ""
        return Evidence(kind="command", what=params.command, ok=not result.is_error, detail=detail)

    def preview(self, params: RunShellParams, ctx: ToolContext) -> str:
        return f"$ {params.command}\n(in {ctx.workspace.root}, timeout {params.timeout or DEFAULT_TIMEOUT:g}s)"

    async def run(self, params: RunShellParams, ctx: ToolContext) -> ToolResult:
        if not params.command.strip():
            raise ToolError("empty command")
        timeout = params.timeout or DEFAULT_TIMEOUT
        argv, note = supervised(params.command, ctx)
        if note and ctx.sandbox_noted:
            note = ""
        ctx.sandbox_noted = True
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=ctx.workspace.root,
            env=shell_env(ctx.secrets, ctx.shell_env_allow),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        readers = [asyncio.create_task(read_capped(proc.stdout)), asyncio.create_task(read_capped(proc.stderr))]
        ticker = asyncio.create_task(_tick(ctx))
        timed_out = False
        try:
            try:
                code = await asyncio.wait_for(exited(proc), timeout)
            except TimeoutError:
                timed_out = True
                await stop_process(proc)
                code = await exited(proc)
            # A child left in the background may hold the pipes open: a short grace, then it goes too.
            _, pending = await asyncio.wait(readers, timeout=1.0)
            if pending:
                _kill_group(proc.pid)
            (out, out_n), (err, err_n) = await asyncio.gather(*readers)
        finally:
            ticker.cancel()
            await stop_process(proc)
            for task in readers:
                task.cancel()
        body = f"{_section('stdout', out, out_n)}\n{_section('stderr', err, err_n)}"
        if timed_out:
            return ToolResult(
                f"error: timed out after {timeout:g}s; the command and its children were killed\n{body}", is_error=True
            )
        return ToolResult(f"{note}exit code: {code}\n{body}", is_error=code != 0)
