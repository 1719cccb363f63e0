"""Hooks: the user's own commands, run on plan and tool events with one JSON object on stdin.

    [[hooks]]
    event = "step_completed"
    command = "notify-send 'step done'"
    timeout = 10

Plan events are read off the `PlanUpdated` events themselves (a plan made, a step started or completed, a plan
finished), so every engine fires them alike. `before_tool` runs before the approval gate: exit code 2 blocks the
call, and its stderr is the reason the model reads. A hook that fails or times out becomes a notice; it never
ends the turn. Hooks get the same scrubbed environment as `run_shell`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import jsonsafe
from ..events import Event, Notice, PlanUpdated, TurnFinished
from ..plan import LivePlan, StepStatus
from ..tools.base import ToolContext
from ..tools.shell import exited, read_tail, reaped, shell_env, stop_process

BLOCK = 2  # the exit code of a `before_tool` hook that refuses the call
OUTPUT_LIMIT = 2000


@dataclass(frozen=True)
class HookSpec:
    event: str
    command: str
    timeout: float = 10.0


@dataclass
class Ran:
    code: int | None  # None: it timed out or could not start
    stderr: str


def plan_events(event: PlanUpdated) -> list[tuple[str, dict[str, Any]]]:
    """The hook events one plan change means, with what each adds to the payload. Pure."""
    old, new = event.old, event.new
    found: list[tuple[str, dict[str, Any]]] = []
    if not new.is_empty and (old.is_empty or old.goal != new.goal):
        found.append(("plan_created", {}))
    before = {s.id: s.status for s in old.steps} if old.goal == new.goal else {}
    for step in new.steps:
        if step.status != before.get(step.id):
            if step.status == StepStatus.IN_PROGRESS:
                found.append(("step_started", {"step": step.model_dump()}))
            elif step.status == StepStatus.COMPLETED:
                found.append(("step_completed", {"step": step.model_dump()}))
    if event.archived:
        found.append(("plan_finished", {}))
    return found


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    """The event's JSON on the hook's stdin; a hook that does not read it is not an error."""
    try:
        stdin.write(data)
        await stdin.drain()
        stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        pass


@dataclass
class Hooks:
    specs: tuple[HookSpec, ...]
    workspace: Path
    secrets: tuple[str, ...] = ()
    env_allow: tuple[str, ...] = ()
    session_id: str | None = None
    notices: list[Notice] = field(default_factory=list)  # failures waiting to be shown

    def wanted(self, name: str) -> list[HookSpec]:
        return [h for h in self.specs if h.event == name]

    async def _run(self, hook: HookSpec, payload: dict[str, Any]) -> Ran:
        data = json.dumps(payload).encode()
        try:
            proc = await asyncio.create_subprocess_exec(
                *reaped(hook.command),
                cwd=self.workspace,
                env=shell_env(self.secrets, self.env_allow),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            return Ran(None, f"could not start: {exc.strerror}")
        assert proc.stdin is not None and proc.stderr is not None
        try:
            err, _ = await asyncio.wait_for(
                asyncio.gather(read_tail(proc.stderr, OUTPUT_LIMIT * 4), _feed(proc.stdin, data)), hook.timeout
            )
            code = await asyncio.wait_for(exited(proc), hook.timeout)
        except TimeoutError:
            await stop_process(proc)
            return Ran(None, f"timed out after {hook.timeout:g}s")
        return Ran(code, err.decode("utf-8", errors="replace")[-OUTPUT_LIMIT:].strip())

    async def fire(self, name: str, plan: LivePlan | None, extra: dict[str, Any] | None = None) -> list[Ran]:
        """Run every hook for `name`, in config order; failures (not blocks) are noted for the user."""
        payload = {
            "event": name,
            "session_id": self.session_id,
            "plan": plan.model_dump() if plan is not None else None,
            **(extra or {}),
        }
        results = []
        for hook in self.wanted(name):
            ran = await self._run(hook, payload)
            results.append(ran)
            blocked = name == "before_tool" and ran.code == BLOCK
            if ran.code != 0 and not blocked:
                why = f"exit {ran.code}" if ran.code is not None else ran.stderr
                detail = f": {ran.stderr.splitlines()[-1]}" if ran.code is not None and ran.stderr else ""
                self.notices.append(Notice(message=f"{name} hook `{hook.command}` failed ({why}){detail}"))
        return results

    async def observe(self, event: Event, plan: LivePlan) -> None:
        """Fire the hooks an event means: plan changes and the end of a turn."""
        if isinstance(event, PlanUpdated):
            for name, extra in plan_events(event):
                if self.wanted(name):
                    await self.fire(name, event.new, extra)
        elif isinstance(event, TurnFinished) and self.wanted("turn_finished"):
            await self.fire("turn_finished", plan, {"answer": event.answer, "reason": event.reason})

    async def before_tool(self, name: str, arguments: str, plan: LivePlan) -> str | None:
        """The reason a `before_tool` hook blocked this call (exit 2), or None to let it go on."""
        if not self.wanted("before_tool"):
            return None
        for ran in await self.fire("before_tool", plan, {"tool": name, "arguments": _parsed(arguments)}):
            if ran.code == BLOCK:
                return ran.stderr or "a before_tool hook refused it"
        return None

    async def after_tool(self, name: str, arguments: str, result: str, is_error: bool, plan: LivePlan) -> None:
        if self.wanted("after_tool"):
            extra = {
                "tool": name,
                "arguments": _parsed(arguments),
                "result": result[:OUTPUT_LIMIT],
                "is_error": is_error,
            }
            await self.fire("after_tool", plan, extra)

    @classmethod
    def wired(cls, configured: list[Any], ctx: ToolContext, plan_of: Callable[[], LivePlan]) -> Hooks:
        """The session's hooks, with the tool hooks set on `ctx` when any are configured."""
        specs = tuple(HookSpec(h.event, h.command, h.timeout) for h in configured)
        hooks = cls(specs, ctx.workspace.root, ctx.secrets, ctx.shell_env_allow)
        if hooks.wanted("before_tool"):
            ctx.before_tool = lambda name, args: hooks.before_tool(name, args, plan_of())
        if hooks.wanted("after_tool"):
            ctx.after_tool = lambda name, args, result: hooks.after_tool(
                name, args, result.text, result.is_error, plan_of()
            )
        return hooks

    def take_notices(self) -> list[Notice]:
        taken, self.notices = self.notices, []
        return taken


def _parsed(arguments: str) -> Any:
    try:
        return jsonsafe.loads(arguments or "{}")
    except json.JSONDecodeError:
        return arguments
