"""Regex search over the workspace: ripgrep when installed, pure Python otherwise.

Both paths honour .gitignore and print `file:line: text`, capped.
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import json
import re
import shutil
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from .. import confined
from .base import Tool, ToolContext, ToolKind, ToolResult
from .errors import ToolError
from .workspace import Workspace

MAX_MATCHES = 200
MAX_LINE = 300
MAX_FILE_BYTES = 2_000_000


class SearchParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: StrictStr = Field(description="A regular expression (Python/ripgrep syntax).")
    path: StrictStr = Field(default=".", description="File or folder to search, relative to the workspace.")
    glob: StrictStr | None = Field(default=None, description="Only files whose name matches, e.g. '*.py'.")


def _clip(line: str) -> str:
    line = line.rstrip("\r\n")
    return line if len(line) <= MAX_LINE else line[:MAX_LINE] + " …"


def python_search(ws: Workspace, start: Path, regex: re.Pattern[str], glob: str | None) -> list[str]:
    files = [start] if start.is_file() else [p for p, is_dir in ws.walk(start) if not is_dir]
    hits: list[str] = []
    for path in sorted(files):
        if glob and not (fnmatch.fnmatch(path.name, glob) or fnmatch.fnmatch(ws.rel(path), glob)):
            continue
        if ws.is_secret(path):  # judged on the real file: a link to .env is skipped too
            continue
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            data = confined.read_bytes(ws.root, confined.relative(ws.root, path.resolve()), MAX_FILE_BYTES)
        except (OSError, RuntimeError):
            continue
        if b"\x00" in data[:8192]:
            continue
        for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            if regex.search(line):
                hits.append(f"{ws.rel(path)}:{n}: {_clip(line)}")
                if len(hits) > MAX_MATCHES:
                    return hits
    return hits


def _rg_text(field: dict[str, str], errors: str) -> str:
    """ripgrep's JSON gives text as `text`, or as base64 `bytes` when it is not UTF-8: a file name keeps its bytes
    (`surrogateescape`, so it still opens), a line's are shown as U+FFFD."""
    if "text" in field:
        return field["text"]
    return base64.b64decode(field.get("bytes", "")).decode("utf-8", errors=errors)


async def ripgrep_search(rg: str, ws: Workspace, start: Path, pattern: str, glob: str | None) -> list[str]:
    """ripgrep's JSON output, so a name holding `:` or a single searched file (printed without a name in
    the text format) cannot be misread; each file is judged by `is_secret` before any of its lines is kept."""
    args = [rg, "--json", "--max-filesize", "2M", "--sort=path"]
    args += ["--hidden", "--no-require-git", "--glob", "!.git/"]  # same files as the Python walker
    if glob:
        args += ["--glob", glob]
    args += ["--regexp", pattern, "--", str(start.relative_to(ws.root)) or "."]
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=ws.root, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if proc.returncode not in (0, 1):
        raise ToolError(f"search failed: {err.decode(errors='replace').strip()[:300]}")
    hits: list[str] = []
    secret: dict[str, bool] = {}
    for raw in out.splitlines():
        message = json.loads(raw)
        if message.get("type") != "match":
            continue
        data = message["data"]
        file = _rg_text(data["path"], "surrogateescape")
        path = ws.root / file
        if secret.setdefault(file, ws.is_secret(path)):
            continue
        hits.append(f"{ws.rel(path)}:{data['line_number']}: {_clip(_rg_text(data['lines'], 'replace'))}")
        if len(hits) > MAX_MATCHES:
            break
    return hits


class SearchTool(Tool):
    name: ClassVar[str] = "search"
    kind: ClassVar[ToolKind] = "read"
    Params: ClassVar[type[BaseModel]] = SearchParams
    target_key: ClassVar[str | None] = "pattern"

    def __init__(self, use_ripgrep: bool = True):
        self.rg = shutil.which("rg") if use_ripgrep else None

    async def run(self, params: SearchParams, ctx: ToolContext) -> ToolResult:
        try:
            regex = re.compile(params.pattern)
        except re.error as exc:
            raise ToolError(
                f"bad regular expression {params.pattern!r}: {exc}; escape special characters like ( [ . *"
            ) from None
        start = ctx.workspace.resolve(params.path)
        if not start.exists():
            raise ToolError(f"{params.path!r} does not exist")
        if start.is_file() and ctx.workspace.is_secret(start):
            return ToolResult(f"no matches: {params.path!r} is a secret file (credentials), which search never reads")
        if self.rg:
            hits = await ripgrep_search(self.rg, ctx.workspace, start, params.pattern, params.glob)
        else:
            hits = await asyncio.to_thread(python_search, ctx.workspace, start, regex, params.glob)
        if not hits:
            return ToolResult(f"no matches for {params.pattern!r} in {ctx.workspace.rel(start)}")
        text = "\n".join(hits[:MAX_MATCHES])
        if len(hits) > MAX_MATCHES:
            text += f"\n[more than {MAX_MATCHES} matches: narrow the pattern, path or glob]"
        return ToolResult(text)
