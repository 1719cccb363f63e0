"""Tools from MCP servers (stdio), through the official `mcp` SDK.

    [mcp_servers.docs]
    command = "uvx"
    args = ["some-mcp-server"]
    env = { TOKEN_NAME = "..." }
    approval = "ask"          # or "never-ask": trust this server's tools

Each server runs in one task of its own that owns the SDK's session (its context managers must be left in the
task that entered them), and calls reach it through a queue. Its tools join LivePlan's as `server__tool`, with the
server's own schema, and go through the same approval dialog, size limits and artifacts. A server that fails to
start, crashes or hangs costs one line and a timeout; the session goes on without it. The SDK is imported only
when a server is configured.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ..plan.evidence import Evidence
from .base import Tool, ToolContext, ToolKind, ToolResult
from .stderr_tail import StderrTail

SEPARATOR = "__"


@dataclass(frozen=True)
class ServerSpec:
    name: str
    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    trusted: bool = False  # approval = "never-ask"
    start_timeout: float = 15.0
    call_timeout: float = 60.0


class AnyArguments(BaseModel):
    """The server validates its own arguments; LivePlan passes the object through."""

    model_config = ConfigDict(extra="allow")


@dataclass
class McpServer:
    spec: ServerSpec
    state: str = "stopped"  # stopped | starting | running | failed
    error: str = ""
    tools: list[Any] = field(default_factory=list)  # the SDK's Tool objects
    _queue: asyncio.Queue[tuple[str, dict[str, Any], asyncio.Future[Any]] | None] | None = None
    _task: asyncio.Task[None] | None = None
    _inflight: Any = None  # the cancel scope of the call being served
    _errlog: StderrTail | None = None  # the tail of the server's stderr, kept to say why it failed

    async def start(self) -> None:
        """Start the server and list its tools, within `start_timeout`; a failure is kept in `error`."""
        self.state, self._queue = "starting", asyncio.Queue()
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._serve(ready), name=f"mcp:{self.spec.name}")
        try:  # the task keeps its own deadline; this one only guards against the SDK never returning
            await asyncio.wait_for(ready.wait(), self.spec.start_timeout + 15)
        except TimeoutError:
            self._fail(f"did not answer within {self.spec.start_timeout:g}s")

    async def _serve(self, ready: asyncio.Event) -> None:
        """Own the SDK's session for its whole life, leaving its contexts the way they were entered (never by
        a bare task.cancel(), which would skip the SDK's stopping of the server process)."""
        import anyio
        from mcp import ClientSession, StdioServerParameters, stdio_client

        spec = self.spec
        params = StdioServerParameters(command=spec.command, args=list(spec.args), env=dict(spec.env) or None)
        try:
            self._errlog = StderrTail()
            errlog = self._errlog.writer
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                with anyio.move_on_after(spec.start_timeout) as deadline:
                    await session.initialize()
                    self.tools = list((await session.list_tools()).tools)
                if deadline.cancelled_caught:
                    self._fail(f"did not answer within {spec.start_timeout:g}s")
                    return
                self.state = "running"
                ready.set()
                await self._answer(session)
        except Exception as exc:  # the SDK wraps a dead process in exception groups
            why = _reason(exc)
            self._fail(why)  # at once: no call is sent to a dead server while its last words are read
            if self._errlog is not None:
                await asyncio.to_thread(self._errlog.close, 0.5)  # the loop goes on while its last words arrive
                said = self._said()
                self.error = why + (f" (it said: {said})" if said else "")
        finally:
            if self.state == "running":
                self._fail("the server stopped")
            ready.set()
            self._drain()
            if self._errlog is not None:
                self._errlog.close()

    async def _answer(self, session: Any) -> None:
        """Serve queued calls until `close` sends None; a call that outlives its caller is cancelled."""
        import anyio

        assert self._queue is not None
        while (item := await self._queue.get()) is not None:
            name, arguments, reply = item
            with anyio.CancelScope() as scope:
                self._inflight = scope
                try:
                    result = await session.call_tool(name, arguments)
                except Exception as exc:
                    if not reply.done():
                        reply.set_exception(exc)
                    raise
                if not reply.done():
                    reply.set_result(result)
            self._inflight = None

    def _fail(self, why: str) -> None:
        if self.state != "failed":
            said = self._said()
            self.state, self.error = "failed", why + (f" (it said: {said})" if said else "")

    def _said(self) -> str:
        """The last line the server wrote on stderr: usually why it could not start."""
        return self._errlog.last_line() if self._errlog is not None else ""

    def _drain(self) -> None:
        while self._queue is not None and not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None and not item[2].done():
                item[2].set_exception(RuntimeError(self.error or "the server stopped"))

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if self.state != "running" or self._queue is None:
            return ToolResult(f"error: MCP server {self.spec.name!r} is not running ({self.error})", is_error=True)
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((name, arguments, reply))
        try:
            result = await asyncio.wait_for(asyncio.shield(reply), self.spec.call_timeout)
        except TimeoutError:
            if self._inflight is not None:
                self._inflight.cancel()  # the server may answer later; nobody waits for it
            return ToolResult(
                f"error: MCP server {self.spec.name!r} gave no answer within {self.spec.call_timeout:g}s", is_error=True
            )
        except Exception as exc:
            return ToolResult(f"error: MCP server {self.spec.name!r} failed: {_reason(exc)}", is_error=True)
        failed = getattr(result, "is_error", None) or getattr(result, "isError", None)  # SDK 2.x, 1.x
        return ToolResult(_text_of(result) or "(no output)", is_error=bool(failed))

    async def close(self) -> None:
        """Stop serving and let the SDK stop the server process (it closes stdin, then terminates)."""
        if self._task is None or self._task.done():
            return
        if self._inflight is not None:
            self._inflight.cancel()
        if self._queue is not None:
            self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 10)
        except (TimeoutError, Exception):
            self._task.cancel()
        if self.state == "running":
            self.state = "stopped"


def _reason(exc: BaseException) -> str:
    """The innermost message of an exception (group): what actually went wrong."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _text_of(result: Any) -> str:
    parts = []
    for item in getattr(result, "content", None) or []:
        text = getattr(item, "text", None)
        parts.append(text if isinstance(text, str) else f"[{getattr(item, 'type', 'content')} content]")
    structured = getattr(result, "structured_content", None) or getattr(result, "structuredContent", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured))
    return "\n".join(parts)


class McpTool(Tool):
    """One tool of one MCP server, named `server__tool`."""

    kind: ClassVar[ToolKind] = "mcp"
    Params: ClassVar[type[BaseModel]] = AnyArguments
    preview_lexer: ClassVar[str] = "json"

    def __init__(self, server: McpServer, remote: Any):
        self.server = server
        self.remote_name: str = remote.name
        self.tool_name = f"{server.spec.name}{SEPARATOR}{remote.name}"
        self.text = (remote.description or f"{remote.name} from MCP server {server.spec.name}").strip()
        schema = getattr(remote, "input_schema", None) or getattr(remote, "inputSchema", None)  # SDK 2.x, 1.x
        self.schema: dict[str, Any] = dict(schema or {"type": "object", "properties": {}})

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.tool_name

    @property
    def trusted(self) -> bool:
        return self.server.spec.trusted

    def description(self) -> str:
        return f"{self.text} (from MCP server {self.server.spec.name})"

    def evidence(self, params: Any, result: ToolResult, ctx: ToolContext) -> Evidence | None:
        return Evidence(kind="mcp", what=self.tool_name, ok=not result.is_error)

    def spec(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description(), "parameters": self.schema},
        }

    def preview(self, params: Any, ctx: ToolContext) -> str:
        return json.dumps(params.model_dump(), indent=2, ensure_ascii=False)

    async def run(self, params: Any, ctx: ToolContext) -> ToolResult:
        return await self.server.call(self.remote_name, params.model_dump())


@dataclass
class McpHub:
    """Every configured server: started once, listed, and closed with the session."""

    servers: list[McpServer]
    started: bool = False

    @classmethod
    def configured(cls, servers: dict[str, Any]) -> McpHub:
        """From the `[mcp_servers.NAME]` tables of the settings."""
        specs = [
            ServerSpec(
                name,
                c.command,
                tuple(c.args),
                tuple(c.env.items()),
                trusted=c.approval == "never-ask",
                start_timeout=c.start_timeout,
                call_timeout=c.timeout,
            )
            for name, c in servers.items()
        ]
        return cls([McpServer(spec) for spec in specs])

    async def start(self) -> list[str]:
        """Start the servers side by side; one line for each that failed."""
        self.started = True
        await asyncio.gather(*(server.start() for server in self.servers))
        return [f"MCP server {s.spec.name!r} is unavailable: {s.error}" for s in self.servers if s.state == "failed"]

    def tools(self) -> list[McpTool]:
        return [McpTool(s, remote) for s in self.servers if s.state == "running" for remote in s.tools]

    async def close(self) -> None:
        await asyncio.gather(*(server.close() for server in self.servers))
