"""Reading and changing files in the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from .. import confined
from ..memory import Note
from ..plan.evidence import Evidence
from .base import Tool, ToolContext, ToolKind, ToolResult
from .workspace import PathError

MAX_READ_LINES = 400
MAX_READ_BYTES = 4_000_000
MAX_LIST_ENTRIES = 400


def _is_binary(head: bytes) -> bool:
    return b"\x00" in head


def _decode(root: Path, path: Path) -> str:
    data = confined.read_bytes(root, confined.relative(root, path), MAX_READ_BYTES + 1)
    if _is_binary(data[:8192]):
        raise PathError(f"{path.name} is a binary file; read_file only reads text")
    return data.decode("utf-8", errors="replace")


class ReadFileParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: StrictStr = Field(description="File path, relative to the workspace.")
    start_line: int | None = Field(default=None, ge=1, description="First line to show (1-based).")
    end_line: int | None = Field(default=None, ge=1, description="Last line to show (inclusive).")


class ReadFileTool(Tool):
    name: ClassVar[str] = "read_file"
    kind: ClassVar[ToolKind] = "read"
    Params: ClassVar[type[BaseModel]] = ReadFileParams

    target_key: ClassVar[str | None] = "path"

    def sensitive(self, params: ReadFileParams, ctx: ToolContext) -> bool:
        """Secret files (.env, keys) are read only after the user approves."""
        return ctx.workspace.sensitive(params.path)

    def remember(self, params: ReadFileParams, result: ToolResult, ctx: ToolContext) -> Note | None:
        return None if result.is_error else _file_note(params.path, "read", ctx)

    async def run(self, params: ReadFileParams, ctx: ToolContext) -> ToolResult:
        path = ctx.workspace.resolve(params.path)
        if not path.is_file():
            raise PathError(f"{params.path!r} is not a file" + ("" if path.exists() else " (it does not exist)"))
        if path.stat().st_size > MAX_READ_BYTES:
            raise PathError(f"{params.path!r} is {path.stat().st_size:,} bytes; use search to find the part you need")
        lines = _decode(ctx.workspace.root, path).splitlines()
        start = params.start_line or 1
        end = min(params.end_line or start + MAX_READ_LINES - 1, start + MAX_READ_LINES - 1, len(lines))
        if lines and start > len(lines):
            raise PathError(f"start_line {start} is past the end; {params.path!r} has {len(lines)} lines")
        width = len(str(max(end, 1)))
        body = "\n".join(f"{n:>{width}}  {lines[n - 1]}" for n in range(start, end + 1))
        header = (
            f"{ctx.workspace.rel(path)} (lines {start}-{end} of {len(lines)})"
            if lines
            else f"{ctx.workspace.rel(path)} (empty)"
        )
        more = (
            f"\n[{len(lines) - end} more lines: call read_file with start_line={end + 1}]" if end < len(lines) else ""
        )
        return ToolResult(f"{header}\n{body}{more}")


class ListDirParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: StrictStr = Field(default=".", description="Folder, relative to the workspace.")
    depth: int = Field(default=2, ge=1, le=8, description="How many levels to descend.")


def _file_note(path: str, action: str, ctx: ToolContext) -> Note | None:
    try:
        return Note("file", ctx.workspace.rel(ctx.workspace.resolve(path)), action)
    except PathError:
        return None


def _entry(ctx: ToolContext, path: Path, is_dir: bool) -> str:
    """One listing line; a link to a secret file says so, since reading it will ask the user."""
    text = ctx.workspace.rel(path) + ("/" if is_dir else "")
    if path.is_symlink() and not is_dir and ctx.workspace.is_secret(path):
        text += "  (links to a secret file: reading it asks the user)"
    return text


class ListDirTool(Tool):
    name: ClassVar[str] = "list_dir"
    kind: ClassVar[ToolKind] = "read"
    Params: ClassVar[type[BaseModel]] = ListDirParams

    target_key: ClassVar[str | None] = "path"

    async def run(self, params: ListDirParams, ctx: ToolContext) -> ToolResult:
        folder = ctx.workspace.resolve(params.path)
        if not folder.is_dir():
            raise PathError(f"{params.path!r} is not a folder")
        entries = sorted(_entry(ctx, p, is_dir) for p, is_dir in ctx.workspace.walk(folder, params.depth))
        shown = entries[:MAX_LIST_ENTRIES]
        text = "\n".join(shown) if shown else "(empty, or everything here is ignored)"
        if len(entries) > len(shown):
            text += f"\n[{len(entries) - len(shown)} more entries: list a subfolder or lower depth]"
        return ToolResult(text)


def _write_tracked(path: Path, content: str, ctx: ToolContext) -> None:
    """Write through the confined open (a temp file and a rename; a crash never leaves half a file, the file keeps
    its mode), and hand the bytes before and after to the session's checkpoints, so /undo and /rewind can revert it."""
    root = ctx.workspace.root
    rel = confined.relative(root, path)
    before = confined.read_bytes(root, rel) if confined.kind(root, rel) == "file" else None
    after = content.encode("utf-8")
    confined.write_bytes(root, rel, after)
    if ctx.checkpoint is not None:
        ctx.checkpoint(ctx.workspace.rel(path), before, after)


def unified_diff(rel: str, old: str, new: str, context: int = 3) -> str:
    import difflib

    diff = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{rel}", f"b/{rel}", n=context
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff).rstrip("\n")


class WriteFileParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: StrictStr = Field(description="File path, relative to the workspace.")
    content: StrictStr = Field(description="The whole new content of the file.")


class WriteFileTool(Tool):
    name: ClassVar[str] = "write_file"
    kind: ClassVar[ToolKind] = "write"
    Params: ClassVar[type[BaseModel]] = WriteFileParams

    target_key: ClassVar[str | None] = "path"

    def remember(self, params: WriteFileParams, result: ToolResult, ctx: ToolContext) -> Note | None:
        if result.is_error:
            return None
        return _file_note(params.path, "created" if result.text.startswith("created") else "wrote", ctx)

    def evidence(self, params: WriteFileParams, result: ToolResult, ctx: ToolContext) -> Evidence | None:
        return Evidence(kind="file", what=params.path, ok=not result.is_error)

    def sensitive(self, params: WriteFileParams, ctx: ToolContext) -> bool:
        """Changing a secret file needs a yes under every policy but never-ask, and so does previewing it."""
        return ctx.workspace.sensitive(params.path)

    def preview(self, params: WriteFileParams, ctx: ToolContext) -> str:
        path = ctx.workspace.resolve(params.path)
        old = _decode(ctx.workspace.root, path) if path.is_file() else ""
        verb = "overwrite" if path.exists() else "create"
        return f"{verb} {ctx.workspace.rel(path)}\n" + (
            unified_diff(ctx.workspace.rel(path), old, params.content) or "(no change)"
        )

    async def run(self, params: WriteFileParams, ctx: ToolContext) -> ToolResult:
        path = ctx.workspace.resolve(params.path)
        if path.is_dir():
            raise PathError(f"{params.path!r} is a folder")
        existed = path.exists()
        _write_tracked(path, params.content, ctx)
        lines = params.content.count("\n") + (0 if params.content.endswith("\n") or not params.content else 1)
        return ToolResult(
            f"{'wrote' if existed else 'created'} {ctx.workspace.rel(path)} "
            f"({lines} lines, {len(params.content.encode()):,} bytes)"
        )


class EditFileParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: StrictStr = Field(description="File path, relative to the workspace.")
    old: StrictStr = Field(description="Exact text to replace, including indentation.")
    new: StrictStr = Field(description="Replacement text.")
    count: int | None = Field(
        default=None, ge=1, description="How many occurrences to replace; needed when `old` occurs more than once."
    )


def _edited(params: EditFileParams, text: str, rel: str) -> str:
    if not params.old:
        raise PathError("`old` is empty; give the exact text to replace")
    found = text.count(params.old)
    if found == 0:
        raise PathError(
            f"`old` was not found in {rel}; read the file again and copy the exact text, whitespace included"
        )
    if params.count is None and found > 1:
        raise PathError(
            f"`old` occurs {found} times in {rel}; add surrounding lines to make it unique, or pass count={found}"
        )
    if params.count is not None and params.count != found:
        raise PathError(f"`old` occurs {found} times in {rel}, not {params.count}; adjust count or `old`")
    return text.replace(params.old, params.new)


class EditFileTool(Tool):
    name: ClassVar[str] = "edit_file"
    kind: ClassVar[ToolKind] = "write"
    Params: ClassVar[type[BaseModel]] = EditFileParams

    target_key: ClassVar[str | None] = "path"

    def remember(self, params: EditFileParams, result: ToolResult, ctx: ToolContext) -> Note | None:
        return None if result.is_error else _file_note(params.path, "edited", ctx)

    def evidence(self, params: EditFileParams, result: ToolResult, ctx: ToolContext) -> Evidence | None:
        return Evidence(kind="file", what=params.path, ok=not result.is_error)

    def sensitive(self, params: EditFileParams, ctx: ToolContext) -> bool:
        """Changing a secret file needs a yes under every policy but never-ask, and so does previewing it."""
        return ctx.workspace.sensitive(params.path)

    def preview(self, params: EditFileParams, ctx: ToolContext) -> str:
        path = ctx.workspace.resolve(params.path)
        rel = ctx.workspace.rel(path)
        old = _decode(ctx.workspace.root, path)
        return f"edit {rel}\n" + unified_diff(rel, old, _edited(params, old, rel))

    async def run(self, params: EditFileParams, ctx: ToolContext) -> ToolResult:
        path = ctx.workspace.resolve(params.path)
        if not path.is_file():
            raise PathError(f"{params.path!r} does not exist; use write_file to create it")
        rel = ctx.workspace.rel(path)
        old = _decode(ctx.workspace.root, path)
        new = _edited(params, old, rel)
        _write_tracked(path, new, ctx)
        return ToolResult(f"edited {rel}\n{unified_diff(rel, old, new)}")
