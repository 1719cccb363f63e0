"""`read_artifact`: page through a tool output that was too big to show whole."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from .artifact_store import PAGE_LINES, ArtifactStore, shrink
from .base import Tool, ToolContext, ToolKind, ToolResult
from .errors import ToolError

__all__ = ["ArtifactStore", "ReadArtifactTool", "shrink"]


class ReadArtifactParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: StrictStr = Field(description="Artifact id, e.g. a1.")
    start: int = Field(default=1, ge=1, description="First line (1-based).")
    end: int | None = Field(default=None, ge=1, description="Last line (inclusive); at most 100 lines a call.")


class ReadArtifactTool(Tool):
    name: ClassVar[str] = "read_artifact"
    kind: ClassVar[ToolKind] = "read"
    Params: ClassVar[type[BaseModel]] = ReadArtifactParams
    shrinkable: ClassVar[bool] = False  # it is already the paging tool
    target_key: ClassVar[str | None] = "id"

    async def run(self, params: ReadArtifactParams, ctx: ToolContext) -> ToolResult:
        lines = ctx.artifacts.get(params.id).splitlines()
        if params.start > len(lines):
            raise ToolError(f"start {params.start} is past the end; artifact {params.id} has {len(lines)} lines")
        end = min(params.end or params.start + PAGE_LINES - 1, params.start + PAGE_LINES - 1, len(lines))
        body = "\n".join(line if len(line) <= 400 else line[:400] + " …" for line in lines[params.start - 1 : end])
        more = (
            f"\n[lines {params.start}-{end} of {len(lines)}; next: start={end + 1}]"
            if end < len(lines)
            else f"\n[lines {params.start}-{end} of {len(lines)}; end]"
        )
        return ToolResult(body + more)
