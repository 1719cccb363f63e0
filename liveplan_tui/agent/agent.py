"""The agent a front-end holds: settings, client, conversation, tools and modes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from ..config import Endpoint, Settings
from ..events import Condensed, Event, PlanUpdated, RouteDecided
from ..llm.openai_compat import ChatClient
from ..plan import PlanBoard, PlanError, PlanUpdate
from ..prompts import load
from ..router import CLASSIFIER_SCHEMA, GREETING_REASON, route
from ..store import SavedSession, Store
from ..tokens import context_window, counter_for
from ..tools import ToolRegistry, default_tools
from ..tools.artifacts import ArtifactStore
from ..tools.base import ToolContext
from ..tools.plan_tool import apply_update
from ..tools.workspace import Workspace
from .approvals import ApprovalGate, Approver, fixed_approver
from .condenser import Condenser, summary_section
from .conversation import Conversation
from .loop import react
from .orchestrator import Orchestrator
from .persistence import SessionRecorder
from .structured import StructuredTurn

Strategy = Literal["direct", "plan", "plan_and_subagent"]
MODE_TO_STRATEGY: dict[str, Strategy] = {"direct": "direct", "plan": "plan", "strict": "plan_and_subagent"}


class Agent:
    def __init__(
        self,
        settings: Settings,
        endpoint: Endpoint,
        *,
        tools: ToolRegistry | None = None,
        approver: Approver | None = None,
    ):
        self.settings = settings
        self.endpoint = endpoint
        self.llm = ChatClient(endpoint, settings)
        self.counter = counter_for(endpoint.model)
        self.conv = Conversation(self.counter)
        window = context_window(endpoint.model, settings.context_window or (settings.local_ctx if endpoint.local else None))
        self.condenser = Condenser(self.llm, settings, window)
        self.tools = tools or default_tools()
        secrets = tuple(k.get_secret_value() for k in (endpoint.api_key, settings.openai_api_key) if k)
        self.ctx = ToolContext(
            plans=self.conv,
            workspace=Workspace(settings.workspace),
            artifacts=ArtifactStore(),
            secrets=secrets,
            shell_env_allow=tuple(settings.shell_env_allow),
            sandbox=settings.shell_sandbox,
        )
        self.ctx.artifact_budget = min(self.ctx.artifact_budget, window // 8)
        deny = fixed_approver(False, "no one is there to approve it")
        self.gate: ApprovalGate | None = ApprovalGate(settings.approval, approver or deny)
        self.mode = settings.mode
        self.store: Store | None = None
        self.session_id: str | None = None
        self.recorder: SessionRecorder | None = None

    async def close(self) -> None:
        if self.store is not None and self.session_id is not None:
            self.store.unlock(self.session_id)
        await self.llm.close()

    def system_prompt(self, strategy: Strategy) -> str:
        """Rebuilt on every call, so the model always sees the current plan."""
        parts = [
            load("system.md"),
            f"Workspace: {self.ctx.workspace.root}",
            load("mode_direct.md" if strategy == "direct" else "mode_plan.md"),
        ]
        block = self.conv.board.prompt_block()
        if block:
            parts.append(block)
        if self.conv.summary:
            parts.append(summary_section(self.conv.summary))
        return "\n\n".join(parts)

    async def classify(self, message: str) -> str:
        """The router's level 2: one small tool-less call with a JSON-schema answer."""
        fmt = {"type": "json_schema", "json_schema": {"name": "route", "schema": CLASSIFIER_SCHEMA, "strict": True}}
        messages = [{"role": "system", "content": load("router_rubric.md")}, {"role": "user", "content": message}]
        completion = await self.llm.complete(
            messages, timeout=self.settings.router_timeout, max_attempts=1, response_format=fmt, max_tokens=120, temperature=0
        )
        return completion.content

    async def decide(self, text: str) -> RouteDecided:
        if self.mode != "auto":
            return RouteDecided(strategy=MODE_TO_STRATEGY[self.mode], level="override", reason=f"mode set to {self.mode}")
        use_llm = self.settings.router_llm and not self.endpoint.local
        decision, note = await route(text, self.classify if use_llm else None)
        reason = f"{decision.reason} ({note})" if note and use_llm else decision.reason
        return RouteDecided(strategy=decision.strategy, level=decision.level, reason=reason)

    @property
    def structured(self) -> bool:
        """Small local models drive the plan through constrained JSON moves."""
        mode = self.settings.tool_mode
        return mode == "structured" or (mode == "auto" and self.endpoint.local)

    async def run_turn(self, text: str) -> AsyncIterator[Event]:
        async for event in self._turn(text):
            if self.recorder is not None:
                self.recorder.event(event)
            yield event

    async def _turn(self, text: str) -> AsyncIterator[Event]:
        route = await self.decide(text)
        yield route
        if self.structured:
            small_talk = route.level == "prefilter" and route.reason == GREETING_REASON
            turn = StructuredTurn(self)
            async for event in turn.chat(text) if small_talk or route.level == "override" and route.strategy == "direct" else turn.run(text):
                yield event
            return
        if route.strategy == "plan_and_subagent":
            async for event in Orchestrator(self).run(text):
                yield event
            return
        self.conv.add({"role": "user", "content": text})
        strategy: Strategy = route.strategy
        async for event in react(
            self.llm,
            self.conv,
            self.tools,
            lambda: self.system_prompt(strategy),
            self.ctx,
            max_iterations=self.settings.max_iterations,
            gate=self.gate,
            text_tool_calls=self.endpoint.local,
            condenser=self.condenser,
        ):
            yield event

    def edit_plan(self, update: PlanUpdate) -> PlanUpdated:
        """A user's edit, through the same validated path as the model's; raises PlanError."""
        result = apply_update(self.ctx, update, source="user")
        if result.is_error:
            raise PlanError(result.text.removeprefix("error: ").split("\n", 1)[0])
        event = result.events[0]
        assert isinstance(event, PlanUpdated)
        return event

    def clear_plan(self) -> PlanUpdated:
        """Drop the active plan without archiving it (a user's /plan clear)."""
        old = self.conv.board
        self.conv.board = PlanBoard(archived=old.archived)
        return PlanUpdated(old=old.active, new=self.conv.board.active, source="user")

    def set_model(self, model: str) -> None:
        self.endpoint = self.endpoint.model_copy(update={"model": model})
        self.llm.endpoint = self.endpoint

    # -- persistence ------------------------------------------------------

    def attach(self, store: Store, session_id: str | None = None) -> str:
        """Record this conversation in `store` from now on (a new session unless one is given)."""
        self.store = store
        if self.session_id is not None and self.session_id != session_id:
            store.unlock(self.session_id)
        self.session_id = session_id or store.create_session(self.endpoint.model, str(self.ctx.workspace.root))
        store.lock(self.session_id)
        self.recorder = SessionRecorder(store, self.session_id)
        self.conv.recorder = self.recorder
        self.ctx.artifacts.on_add = self.recorder.artifact
        return self.session_id

    def resume(self, store: Store, session_id: str) -> SavedSession:
        """Reopen a saved session: chat record, condensed context, plan and artifacts."""
        saved = store.load(session_id)
        store.lock(saved.info.id)  # refused before anything here changes, when it is open elsewhere
        self.conv = Conversation(self.counter)
        self.conv.restore(saved.record, saved.context if saved.context is not None else saved.record, saved.summary, saved.board)
        self.ctx.plans = self.conv
        self.ctx.artifacts = ArtifactStore(saved.artifacts)
        self.attach(store, saved.info.id)
        for call_id in self.conv.dangling_tool_calls():  # a crash mid-tool leaves calls without results
            self.conv.add({"role": "tool", "tool_call_id": call_id, "content": "error: interrupted; the session closed before this tool finished"})
        return saved

    async def compact(self, focus: str = "") -> Condensed | None:
        """Condense now (the /compact command), whatever the threshold."""
        strategy: Strategy = "direct" if self.mode == "direct" else "plan"
        return await self.condenser.condense(
            self.conv, lambda: self.system_prompt(strategy), self.tools.specs(), focus=focus, force=True
        )

    def reset(self) -> None:
        """Start a new conversation: fresh messages, plan and artifacts; same endpoint and approvals."""
        self.conv = Conversation(self.counter)
        self.ctx.plans = self.conv
        self.ctx.artifacts = ArtifactStore()
        if self.store is not None:
            self.attach(self.store)
