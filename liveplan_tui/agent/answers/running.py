"""Running the code an answer contains, so a small model's plan does real work.

The harness puts the files of an answer's check (`checks.Run`) in a fresh
temp dir and runs its command there (timeout, closed stdin, writes confined to that dir where Landlock
exists) after the same approval as `run_shell`, and reports what happened in
words a step result can carry: "ran 3 asserts: passed", "failed: NameError: …".
Extraction and reporting are pure; `RunAnswerTool` is the one I/O part.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from ...tools.base import Tool, ToolContext, ToolKind, ToolResult
from ...tools.shell import exited, read_capped, shell_env, stop_process, supervised

RUN_TIMEOUT = 20
_BLOCK = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.S)
PYTHON = {"python", "py", "python3", ""}
SHELL = {"sh", "bash", "shell", "console"}


@dataclass(frozen=True)
class AnswerCode:
    python: str
    shell: str

    @property
    def runnable(self) -> bool:
        return bool(self.python.strip() or self.shell.strip())

    @property
    def asserts(self) -> int:
        return len(re.findall(r"^\s*assert\b", self.python, re.M))

    def script(self) -> str:
        """The one command that runs it all, in the temp dir."""
        parts = ["python3 answer.py"] if self.python.strip() else []
        parts += ["sh answer.sh"] if self.shell.strip() else []
        return " && ".join(parts)


def code_in(answer: str) -> AnswerCode:
    """The runnable code of an answer: Python blocks joined in order, then shell blocks (no `$ ` prompts)."""
    python, shell = [], []
    for lang, body in _BLOCK.findall(answer):
        lang = lang.lower()
        if lang in PYTHON and _looks_like_python(body):
            python.append(body)
        elif lang in SHELL:
            lines = [ln[2:] if ln.startswith("$ ") else ln for ln in body.splitlines() if not ln.startswith("#")]
            shell.append("\n".join(ln for ln in lines if ln.strip() and not ln.strip().startswith(("pip ", "sudo "))))
    return AnswerCode("\n\n".join(python), "\n".join(s for s in shell if s.strip()))


def _looks_like_python(body: str) -> bool:
    return bool(re.search(r"^\s*(def |class |import |from |print\(|assert |for |if |[A-Za-z_]\w* ?=)", body, re.M))


_ASKED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def shape_problems(task: str, code: AnswerCode) -> list[str]:
    """What makes code that runs still miss the task: a function the task names is missing, or prints its
    result when the task asks for it to be returned. Code that doesn't parse is left to the run to report."""
    asked = [n for n in dict.fromkeys(_ASKED.findall(task)) if not hasattr(builtins, n) and n not in ("e", "i")]
    if not asked or not code.python.strip():
        return []
    try:
        tree = ast.parse(code.python)
    except SyntaxError:
        return []
    defined = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    problems = []
    for name in asked:
        found = defined.get(name)
        if found is None:
            others = ", ".join(f"`{d}`" for d in defined) or "no function"
            problems.append(f"the task asks for a function named `{name}`, but the code defines {others}")
        elif "return" in task.lower() and not any(
            isinstance(n, ast.Return) and n.value is not None for n in ast.walk(found)
        ):
            problems.append(
                f"`{name}` does not return its result (the task asks for it to be returned); print at the call site"
            )
    return problems


def ran(code: AnswerCode) -> str:
    """What running the code checks, in the words of a step result: "ran 3 asserts", "ran the example calls"."""
    return f"ran {code.asserts} assert{'s' if code.asserts != 1 else ''}" if code.asserts else "ran the example calls"


def report(code: AnswerCode, outcome: ToolResult) -> str:
    """A step result for a run: what ran and how it went, in one line."""
    if not outcome.is_error:
        return f"{ran(code)}: passed"
    return f"failed: {failure_line(outcome.text)}"


def failure_line(text: str) -> str:
    """The line that says what went wrong: the exception, the failed assert, or the timeout."""
    if "timed out" in text:
        return "timed out (waiting for input, or an endless loop)"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith(("---", "exit code"))]
    lines = [ln[1:].strip() if re.match(r"^E\s", ln) else ln for ln in lines]  # pytest's "E   NameError: ..."
    errors = [
        ln
        for ln in lines
        if re.match(r"^[A-Za-z_.]*(Error|Exception|Interrupt)\b", ln) or ln.startswith(("AssertionError", "assert "))
    ]
    chosen = errors[-1] if errors else (lines[-1] if lines else "non-zero exit")
    return chosen[:160]


class RunAnswerParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    files: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    command: StrictStr


class RunAnswerTool(Tool):
    """Runs an answer's check in a fresh temp dir; only the harness calls it, so the model never sees it."""

    name: ClassVar[str] = "run_answer_code"
    kind: ClassVar[ToolKind] = "shell"
    Params: ClassVar[type[BaseModel]] = RunAnswerParams
    preview_lexer: ClassVar[str] = "text"

    def description(self) -> str:
        return "Run the code of an answer in a fresh temp dir."

    def preview(self, params: RunAnswerParams, ctx: ToolContext) -> str:
        """Every file the command can read, whole: what is approved is the command over exactly these."""
        head = f"# in a fresh temp dir, {RUN_TIMEOUT}s timeout, no input, run: {params.command}"
        files = [f"# --- {name} ---\n{body}".rstrip() for name, body in params.files.items() if body]
        return "\n".join([head, *files])

    async def run(self, params: RunAnswerParams, ctx: ToolContext) -> ToolResult:
        with tempfile.TemporaryDirectory(prefix="liveplan-answer-") as folder:
            root = Path(folder).resolve()
            for name, body in params.files.items():
                target = (root / name).resolve()
                if not target.is_relative_to(root) or target == root:
                    return ToolResult(f"error: {name!r} is not a file name inside the check's folder", is_error=True)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(body)
            return await _run_in(folder, params.command, ctx)


async def _run_in(folder: str, command: str, ctx: ToolContext) -> ToolResult:
    argv, _ = supervised(command, ctx, writable=(Path(folder), Path(tempfile.gettempdir())))
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=folder,
        env=shell_env(ctx.secrets, ctx.shell_env_allow),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    reader = asyncio.create_task(read_capped(proc.stdout))
    try:
        code = await asyncio.wait_for(exited(proc), RUN_TIMEOUT)
    except TimeoutError:
        await stop_process(proc)
        reader.cancel()
        return ToolResult(f"error: timed out after {RUN_TIMEOUT}s", is_error=True)
    finally:
        await stop_process(proc)
    out, _ = await reader
    text = out.decode("utf-8", errors="replace")[-3000:]
    return ToolResult(f"exit code: {code}\n{text}", is_error=code != 0)
