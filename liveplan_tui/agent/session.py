"""The Session: the one object a front-end holds.

Front-ends submit text and get events back, edit the plan, set the mode or the
model, compact, reset and resume through it, and read a frozen `SessionView`.
The approver is given at construction; nothing is swapped in later. Inside,
the session builds a `TurnContext` per turn and hands it to the engine the
router picks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..choices import Mode, PlanApproval
from ..config import Endpoint, Settings, client_options
from ..errors import SessionBusy
from ..events import Condensed, Event, Notice, PlanUpdated, Route
from ..instructions import Instructions
from ..instructions import load as load_instructions
from ..llm.assemble import new_call_id
from ..llm.base import ToolCall
from ..llm.openai_compat import ChatClient
from ..memory import Note, WorkMemory
from ..plan import PlanUpdate
from ..plan.keeper import PlanKeeper
from ..prompts import load
from ..store import SavedSession, Store, StoreError
from ..tokens import LazyCounter, context_window
from ..tools import ToolRegistry, default_tools
from ..tools.artifact_store import ArtifactStore
from ..tools.base import CheckOutcome, ToolContext, ToolResult
from ..tools.mcp import McpHub
from ..tools.workspace import Workspace
from .approvals import ApprovalGate, ApprovalRequest, Approver, Decision, fixed_approver
from .checks import run_check
from .condenser import Condenser, summary_section
from .conversation import Conversation
from .critique import PlanCritic
from .engines import pick
from .hooks import Hooks
from .masking import mask_event
from .persistence import SessionRecorder, close_dangling, refused_by, restored
from .reviews import PlanReview, PlanReviewer, defer_review, resolve_pending
from .rewind import ChangeLog, Outcome, RewindError, change_to_json, log_from_rows, settle, tool_change
from .routing import decide
from .tool_runs import run_tool
from .turn import Emit, Limits, TurnContext, ending, pushed
from .view import RecordSnapshot, SessionView

__all__ = ["ApprovalRequest", "Approver", "Decision", "Outcome", "PlanReview"]
__all__ += ["PlanReviewer", "RewindError", "Session", "SessionView", "fixed_approver"]


class Session:
    def __init__(
        self,
        settings: Settings,
        endpoint: Endpoint,
        *,
        approver: Approver | None = None,
        plan_reviewer: PlanReviewer = defer_review,
        tools: ToolRegistry | None = None,
    ):
        self.settings = settings
        self.endpoint = endpoint
        self.llm = ChatClient(endpoint, client_options(settings))
        self.counter = LazyCounter(endpoint.model)
        self.conv = Conversation(self.counter)
        local_window = settings.local_ctx if endpoint.local else None
        window = context_window(endpoint.model, settings.context_window or local_window)
        self.tools = tools or default_tools()
        self.condenser = Condenser(self.llm, settings, window, target=self.tools.target, asks=not endpoint.local)
        self.keeper = PlanKeeper(self.conv)
        secrets = tuple(k.get_secret_value() for k in (endpoint.api_key, settings.openai_api_key) if k)
        self.ctx = ToolContext(
            plans=self.keeper,
            workspace=Workspace(settings.workspace),
            artifacts=ArtifactStore(),
            secrets=secrets,
            shell_env_allow=tuple(settings.shell_env_allow),
            sandbox=settings.shell_sandbox,
            reviews_plans=lambda: self.plan_approval == "ask",
        )
        self.ctx.artifact_budget = min(self.ctx.artifact_budget, window // 8)
        self.gate = ApprovalGate(settings.approval, approver or fixed_approver(False, "no one is there to approve it"))
        self.ctx.run_check = self._run_check
        self.ctx.remember = self._remember
        self.ctx.checkpoint = self._checkpoint
        self.changes = ChangeLog(self.ctx.workspace.root)
        self.hooks = Hooks.wired(settings.hooks, self.ctx, lambda: self.conv.board.latest)
        self.mcp = McpHub.configured(settings.mcp_servers)
        self.instructions = (
            load_instructions(self.ctx.workspace.root) if settings.project_instructions else Instructions()
        )
        self._first_turn_done = False  # what the first turn says once: instructions cut, the server's window
        self.mode: Mode = settings.mode
        self.plan_approval: PlanApproval = settings.plan_approval
        self.plan_reviewer = plan_reviewer
        self.critic: PlanCritic | None = None  # the turn's plan review; its findings show in the approval view
        self._approve_pending = False
        self.store: Store | None = None
        self.session_id: str | None = None
        self.recorder: SessionRecorder | None = None
        self._turn_lock = asyncio.Lock()  # one turn at a time; commands that must wait for it check `busy`

    @property
    def view(self) -> SessionView:
        return SessionView(
            endpoint_label=self.endpoint.label,
            work=self.conv.memory.render(),
            model=self.endpoint.model,
            mode=self.mode,
            context_window=self.condenser.window,
            board=self.conv.board,
            record=RecordSnapshot(self.conv.record),
            session_id=self.session_id,
            saving=self.store is not None,
            approval=self.settings.approval,
            plan_approval=self.plan_approval,
            shell_sandbox=self.settings.shell_sandbox,
            instructions=self.instructions.describe(),
            local=self.endpoint.local,
            key_withheld=self.endpoint.key_withheld,
        )

    async def close(self) -> None:
        await self.mcp.close()
        if self.store is not None and self.session_id is not None:
            self.store.unlock(self.session_id)
        await self.llm.close()

    # -- turns ------------------------------------------------------------

    def system_prompt(self, strategy: str) -> str:
        """Rebuilt on every call, so the model always sees the current plan."""
        parts = [
            load("system.md"),
            f"Workspace: {self.ctx.workspace.root}",
            load("mode_direct.md" if strategy == "direct" else "mode_plan.md"),
        ]
        if self.instructions.text:
            parts.append(self.instructions.text)
        block = self.keeper.prompt_block(self.settings.plan_reminder_after)
        if block:
            parts.append(block)
        if work := self.conv.memory.render():
            parts.append(work)
        if self.conv.summary:
            parts.append(summary_section(self.conv.summary))
        return "\n\n".join(parts)

    @property
    def structured(self) -> bool:
        """Small local models drive the plan through constrained JSON moves."""
        mode = self.settings.tool_mode
        return mode == "structured" or (mode == "auto" and self.endpoint.local)

    def turn_context(self, strategy: str) -> TurnContext:
        return TurnContext(
            llm=self.llm,
            conv=self.conv,
            keeper=self.keeper,
            tools=self.tools,
            tool_ctx=self.ctx,
            system_prompt=lambda: self.system_prompt(strategy),
            limits=Limits.of(self.settings),
            gate=self.gate,
            condenser=self.condenser,
            review_plan=self.plan_reviewer if self.plan_approval == "ask" else None,
        )

    @property
    def busy(self) -> bool:
        """A turn is running: `/compact`, `/resume`, `/undo`, `/rewind` and `/init` wait for its end."""
        return self._turn_lock.locked()

    async def submit(self, text: str) -> AsyncIterator[Event]:
        """Run one turn for the user's `text` (after the one running, if any); every event is masked and recorded,
        then yielded."""
        async with self._turn_lock:
            async for event in self._masked(text):
                yield event

    async def _masked(self, text: str) -> AsyncIterator[Event]:
        secrets = self.ctx.secrets
        async for event in pushed(lambda emit: self._turn(text, emit)):
            shown = mask_event(event, secrets)
            if self.recorder is not None:
                self.recorder.event(shown)
            yield shown
            if self.hooks.specs:  # nothing per streamed token when no hook is configured
                await self.hooks.observe(event, self.conv.board.latest)
                for notice in self.hooks.take_notices():
                    yield mask_event(notice, secrets)

    async def _turn(self, text: str, emit: Emit) -> None:
        if self.mcp.servers and not self.mcp.started:  # on the loop the turns run on, once
            for line in await self.mcp.start():
                await emit(Notice(message=line))
            self.tools = self.tools.plus(list(self.mcp.tools()))
        if not self._first_turn_done:
            self._first_turn_done = True
            fitted = await self.condenser.fit_to_server(self.endpoint.base_url, self.endpoint.model)
            for message in [*self.instructions.notices(), *([fitted] if fitted else [])]:
                await emit(Notice(message=message))
        approved = self._approve_pending and self.conv.board.awaiting_approval
        events, told = resolve_pending(self.keeper, self._approve_pending, text)
        self._approve_pending = False
        for event in events:
            await emit(event)
        if told:
            self._set_memory(self.conv.memory.tell(told))
        await self._routed(text, approved, emit)
        self._set_memory(self.conv.memory.read_out())

    async def _routed(self, text: str, approved: bool, emit: Emit) -> None:
        """Route the turn; an approved plan goes on in plan mode, whatever the router would say of "go"."""
        if approved:
            route = Route(
                strategy="plan_and_subagent" if self.mode == "strict" else "plan",
                level="override",
                reason="running the plan you approved",
            )
        else:
            use_llm = self.settings.router_llm and not self.endpoint.local
            route = await decide(text, self.mode, self.llm if use_llm else None, self.settings.router_timeout)
        await emit(route)
        critic = self.critic = PlanCritic(self.settings.plan_review, text, self.llm, self.ctx.workspace)
        ctx = replace(self.turn_context(route.strategy), continue_plan=approved, emit=emit, critic=critic)
        outcome = await pick(route, structured=self.structured)(ctx, text)
        for event in ending(ctx.conv, outcome, ctx.tool_ctx.secrets):  # the one place a turn ends
            await emit(event)

    def findings(self) -> list[str]:
        """What the review of the plan now proposed found (the approval view shows it beside the plan)."""
        last = self.critic.last if self.critic is not None else None
        return list(last.findings) if last is not None else []

    def describe_call(self, name: str, arguments: str) -> str:
        """A tool call's one line, in the tool's own words (for replaying saved history)."""
        return self.tools.summary(name, arguments)

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """A tool call the user asked for (like `/init`), through the same approval as the model's."""
        call = ToolCall(id=new_call_id(), name=name, arguments=json.dumps(arguments))
        return await run_tool(self.tools, call, self.ctx, self.gate)

    def reload_instructions(self) -> None:
        if self.settings.project_instructions:
            self.instructions = load_instructions(self.ctx.workspace.root)

    def _remember(self, note: Note) -> None:
        self._set_memory(self.conv.memory.remember(note))

    def _set_memory(self, memory: WorkMemory) -> None:
        """The working memory changes, and is saved, so a resumed session still knows what was done."""
        if memory == self.conv.memory:
            return
        self.conv.memory = memory
        if self.store is not None and self.session_id is not None:
            self.store.save_memory(self.session_id, memory.model_dump_json())

    def _checkpoint(self, path: str, before: bytes | None, after: bytes | None) -> None:
        self.changes.add(tool_change(self.conv.board, path, before, after))

    async def _run_check(self, command: str) -> CheckOutcome:
        return await run_check(command, self.tools, self.ctx, self.gate)

    async def classify(self, message: str) -> str:
        """The router's LLM level alone (for `liveplan route`)."""
        from .routing import classify

        return await classify(self.llm, message, self.settings.router_timeout)

    # -- what a user changes ----------------------------------------------

    def edit_plan(self, update: PlanUpdate) -> PlanUpdated:
        """A user's edit, through the same keeper as the model's; raises PlanError."""
        return self.keeper.apply(update, source="user")

    def clear_plan(self) -> PlanUpdated:
        return self.keeper.clear()

    def set_mode(self, mode: Mode) -> None:
        self.mode = mode

    def _idle(self, what: str) -> None:
        if self.busy:
            raise SessionBusy(f"{what} waits until the turn ends (Esc or Ctrl+C cancels it)")

    def undo(self, force: bool = False) -> tuple[Outcome, PlanUpdated | None]:
        """Revert the last tool change to a file (or the last rewind); raises RewindError, or SessionBusy mid-turn."""
        self._idle("/undo")
        return settle(self.changes.undo(self.conv.board, force), self.keeper, self._tell)

    def rewind(self, step: int, force: bool = False) -> tuple[Outcome, PlanUpdated | None]:
        """Restore every file changed since step `step` started, and set it and later steps pending."""
        self._idle("/rewind")
        return settle(self.changes.rewind(self.conv.board, step, force), self.keeper, self._tell)

    def _tell(self, text: str) -> None:
        self._set_memory(self.conv.memory.tell(text))

    def set_plan_approval(self, value: PlanApproval) -> None:
        self.plan_approval = value

    def approve_pending_plan(self) -> bool:
        """Approve the plan an earlier turn left awaiting review; the next submit runs it. False if none."""
        self._approve_pending = self.conv.board.awaiting_approval
        return self._approve_pending

    def set_model(self, model: str) -> None:
        self.endpoint = self.endpoint.model_copy(update={"model": model})
        self.llm.use(self.endpoint)

    async def compact(self, focus: str = "") -> Condensed | None:
        """Condense now (the /compact command), whatever the threshold; the latest turn stays whole."""
        strategy = "direct" if self.mode == "direct" else "plan"
        async with self._turn_lock:  # mid-turn, it waits: the turn's own calls and results stay in the view
            return await self.condenser.condense(
                self.conv,
                lambda: self.system_prompt(strategy),
                self.tools.specs(),
                focus=focus,
                force=True,
                keep_turn=True,
            )

    def reset(self) -> None:
        """Start a new conversation: fresh messages, plan and artifacts; same endpoint and approvals."""
        self._use(Conversation(self.counter), ArtifactStore())
        self.changes = ChangeLog(self.ctx.workspace.root)
        if self.store is not None:
            self.attach(self.store)

    def _use(self, conv: Conversation, artifacts: ArtifactStore) -> None:
        """Fresh objects for another conversation: a turn still running keeps the ones it was given."""
        self.conv = conv
        self.keeper = PlanKeeper(conv)
        self.ctx = replace(self.ctx, plans=self.keeper, artifacts=artifacts)

    # -- persistence ------------------------------------------------------

    def attach(self, store: Store, session_id: str | None = None) -> str:
        """Record this conversation in `store` from now on (a new session unless one is given)."""
        self.store = store
        if self.session_id is not None and self.session_id != session_id:
            store.unlock(self.session_id)
        self.session_id = session_id or store.create_session(self.endpoint.model, str(self.ctx.workspace.root))
        store.lock(self.session_id)
        self.hooks.session_id = self.session_id
        self.recorder = recorder = SessionRecorder(store, self.session_id, self.ctx.secrets)
        self.llm.on_refusal = lambda feature: recorder.refused(feature, self.endpoint.model)
        self.conv.recorder = self.recorder
        self.ctx.artifacts.on_add = self.recorder.artifact
        sid = self.session_id
        self.changes.persist = lambda change: store.add_change(sid, change_to_json(change))
        self.changes.mark = store.mark_change
        return self.session_id

    def resume_saved(self, store: Store, session_id: str) -> SavedSession:
        """Reopen a saved session: chat record, condensed context, plan and artifacts."""
        saved = store.load(session_id)
        store.lock(saved.info.id)  # refused before anything here changes, when it is open elsewhere
        conv = restored(saved, Conversation(self.counter))
        self._use(conv, ArtifactStore(saved.artifacts))
        self.changes = log_from_rows(self.ctx.workspace.root, store.changes(saved.info.id))
        self.attach(store, saved.info.id)
        self.llm.refused |= refused_by(store, saved.info.id, self.endpoint.model)  # the switch lasts the session
        close_dangling(self.conv)
        return saved

    def resume(self, prefix: str | None = None) -> SavedSession:
        """Reopen session `prefix` (an id or its start), or the latest other one; raises StoreError."""
        if self.store is None:
            raise StoreError("sessions are not being saved (save_sessions = false)")
        if prefix:
            return self.resume_saved(self.store, self.store.resolve(prefix))
        others = [s for s in self.store.sessions(10) if s.id != self.session_id]
        if not others:
            raise StoreError("no other saved session to resume")
        return self.resume_saved(self.store, others[0].id)

    def export(self, path: str = "") -> Path:
        """Write this session as Markdown; raises StoreError or OSError."""
        from ..export import export_markdown

        if self.store is None or self.session_id is None:
            raise StoreError("sessions are not being saved (save_sessions = false)")
        target = Path(path or f"liveplan-{self.session_id}.md").expanduser()
        target.write_text(export_markdown(self.store.load(self.session_id)), encoding="utf-8")
        return target
