"""The tool base class: a pydantic parameter model, a description file, `run`, and hooks.

A tool describes itself: its approval preview and sensitivity, the one-line
summary the chat shows, the target a fallback summary names, whether its output
may be shrunk into an artifact, and the lexer of its preview. Nothing elsewhere
is keyed by a tool's name, so adding a tool is its file, its prompt file and
one registry line. JSON schemas are generated from the parameter models, so the
schema the model sees and the validation we apply can't drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ValidationError

from .. import jsonsafe
from ..events import PlanUpdated
from ..memory import Note
from ..plan.evidence import Evidence
from ..plan.keeper import PlanKeeper
from ..prompts import load
from .artifact_store import ArtifactStore
from .errors import ToolError
from .workspace import Workspace

ToolKind = Literal["read", "write", "shell", "plan", "mcp"]
__all__ = ["Tool", "ToolContext", "ToolError", "ToolKind", "ToolResult"]


@dataclass
class ToolResult:
    text: str
    is_error: bool = False
    plan: PlanUpdated | None = None
    denied: bool = False  # the approval was refused (or unavailable): nothing ran
    evidence: Evidence | None = None  # what the call did, for the record of the step in progress


@dataclass(frozen=True)
class CheckOutcome:
    """What running a step's check showed: passed, failed (with its output), or unverified (not run, and why)."""

    verdict: Literal["passed", "failed", "unverified"]
    detail: str = ""


CheckRunner = Callable[[str], Awaitable[CheckOutcome]]


class Tool:
    """A tool; subclasses set the class attributes and `run`, and override the hooks they need."""

    name: ClassVar[str]
    kind: ClassVar[ToolKind]
    Params: ClassVar[type[BaseModel]]
    shrinkable: ClassVar[bool] = True  # a long output may become an artifact the model pages through
    preview_lexer: ClassVar[str] = "diff"
    target_key: ClassVar[str | None] = None  # the argument that names what the call acts on
    arguments_hint: ClassVar[str] = ""  # added to a validation error, so the model knows what is valid

    def description(self) -> str:
        return load(f"tools/{self.name}.md")

    async def run(self, params: Any, ctx: ToolContext) -> ToolResult:
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """The function the model is offered (MCP tools bring their server's own schema)."""
        return function_spec(self)

    @property
    def trusted(self) -> bool:
        """A tool whose calls never ask (an MCP server configured with approval = "never-ask")."""
        return False

    def preview(self, params: Any, ctx: ToolContext) -> str | None:
        """What an approval shows; None shows the raw arguments."""
        return None

    def sensitive(self, params: Any, ctx: ToolContext) -> bool:
        """True when the call touches something that may hold secrets: it then always asks."""
        return False

    def remember(self, params: Any, result: ToolResult, ctx: ToolContext) -> Note | None:
        """What the working memory keeps of this call (a file action, a command and its exit code), if anything."""
        return None

    def evidence(self, params: Any, result: ToolResult, ctx: ToolContext) -> Evidence | None:
        """What this call did, for the record of the step in progress (reads do nothing to record)."""
        return None

    def target(self, args: dict[str, Any]) -> str:
        value = args.get(self.target_key) if self.target_key else None
        return value if isinstance(value, str) else ""

    def summary(self, args: dict[str, Any]) -> str:
        """The chat's one line for a call: the name and what it acts on."""
        value = self.target(args).replace("\n", " ")
        return f"{self.name} {value[:70]}{'…' if len(value) > 70 else ''}".rstrip()


PROGRESS: ContextVar[Callable[[str], Awaitable[None]] | None] = ContextVar("liveplan_tool_progress", default=None)


@dataclass
class ToolContext:
    """What tools may touch: the plan, the workspace, the session's artifacts, and secrets to mask."""

    plans: PlanKeeper
    workspace: Workspace
    artifacts: ArtifactStore
    secrets: tuple[str, ...] = ()
    artifact_budget: int = 2000
    shell_env_allow: tuple[str, ...] = ()
    run_check: CheckRunner | None = None  # runs a step's check through the run_shell approval path
    remember: Callable[[Note], None] | None = None  # where the working memory is kept
    checkpoint: Callable[[str, bytes | None, bytes | None], None] | None = None  # (path, before, after) of a change
    before_tool: Callable[[str, str], Awaitable[str | None]] | None = None  # a hook's reason to block a call
    after_tool: Callable[[str, str, ToolResult], Awaitable[None]] | None = None
    sandbox: str = "workspace"
    sandbox_noted: bool = False
    reviews_plans: Callable[[], bool] | None = None  # whether new plans wait for the user's review (plan_approval)

    async def progress(self, detail: str) -> None:
        """Say how a running call goes; shown on its line while it runs (nothing outside a turn)."""
        if (report := PROGRESS.get()) is not None:
            await report(detail)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """Resolve `$ref`s and drop titles: small local servers handle flat schemas best."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        out = {k: _inline(v, defs) for k, v in node.items() if k not in ("title", "$defs")}
        if "anyOf" in out:
            options = [o for o in out.pop("anyOf") if o != {"type": "null"}]
            if len(options) == 1:
                out.update(options[0])
            else:
                out["anyOf"] = options
        if out.get("default", object()) is None:
            out.pop("default")
        return out
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def params_schema(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema()
    return _inline(raw, raw.get("$defs", {}))


def function_spec(tool: Tool) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description(), "parameters": params_schema(tool.Params)},
    }


def explain_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def parse_arguments(tool: Tool, raw: str) -> BaseModel | str:
    """Return validated params, or an `error: ...` text the model can act on."""
    try:
        data = jsonsafe.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return (
            f"error: arguments for {tool.name} are not valid JSON ({exc.msg} at position {exc.pos}); "
            "resend them as one JSON object"
        )
    if isinstance(data, str):  # arguments encoded twice, as a JSON string holding the object
        try:
            data = jsonsafe.loads(data)
        except json.JSONDecodeError:
            pass
    if not isinstance(data, dict):
        return f"error: arguments for {tool.name} must be a JSON object, got {type(data).__name__}"
    try:
        return tool.Params.model_validate(data)
    except ValidationError as exc:
        hint = tool.arguments_hint or "valid arguments: " + ", ".join(tool.Params.model_fields)
        return f"error: invalid arguments for {tool.name}: {explain_validation(exc)}; {hint}"
