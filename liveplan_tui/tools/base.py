"""The tool protocol: a pydantic parameter model, a description file, and `run`.

JSON schemas are generated from the parameter models, so the schema the model
sees and the validation we apply can't drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ValidationError

from ..events import Event
from ..plan import PlanBoard

if TYPE_CHECKING:
    from .artifacts import ArtifactStore
    from .workspace import Workspace

ToolKind = Literal["read", "write", "shell", "plan"]


class ToolError(Exception):
    """A tool refused or failed in a way the model can fix; the message is its `error:` text."""


@dataclass
class ToolResult:
    text: str
    is_error: bool = False
    events: list[Event] = field(default_factory=list)


class PlanHolder(Protocol):
    """Where the live plan lives; tools change it only through this."""

    board: PlanBoard


class Tool(Protocol):
    name: ClassVar[str]
    kind: ClassVar[ToolKind]
    Params: ClassVar[type[BaseModel]]

    def description(self) -> str: ...

    async def run(self, params: Any, ctx: ToolContext) -> ToolResult: ...


@dataclass
class ToolContext:
    """What tools may touch: the plan, the workspace, the session's artifacts, and secrets to mask."""

    plans: PlanHolder
    workspace: Workspace
    artifacts: ArtifactStore
    secrets: tuple[str, ...] = ()
    artifact_budget: int = 2000
    shell_env_allow: tuple[str, ...] = ()
    sandbox: str = "workspace"
    sandbox_noted: bool = False


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
        data = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return (
            f"error: arguments for {tool.name} are not valid JSON ({exc.msg} at position {exc.pos}); "
            "resend them as one JSON object"
        )
    if not isinstance(data, dict):
        return f"error: arguments for {tool.name} must be a JSON object, got {type(data).__name__}"
    try:
        return tool.Params.model_validate(data)
    except ValidationError as exc:
        return f"error: invalid arguments for {tool.name}: {explain_validation(exc)}"
