"""Checking an answer, repairing it at most twice, and writing the files it names: the I/O half of `answers`.

Every run and every write goes through the turn's approval gate, as the model's own `run_shell` and `write_file`
calls do: a run in a fresh temp dir first (nothing in the workspace changes until the code has been checked), then
one write per named file, then the tests the task asks for against the written files.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ...events import ToolCallFinished, ToolCallStarted
from ...llm.assemble import new_call_id
from ...llm.base import ToolCall
from ...plan import Verification
from ...tools import ToolRegistry
from ...tools.base import ToolResult
from ..tool_runs import run_call, run_tool
from ..turn import TurnContext
from .blocks import assign, blocks_in, files_named, is_test_file
from .checks import PYTEST_OR_PLAIN, Judged, Run, check_for
from .kinds import kind_of
from .prompting import fix_instruction, one_file_instruction
from .running import RunAnswerTool, code_in, failure_line, shape_problems

MAX_FIXES = 2
Ask = Callable[[str], Awaitable[str]]  # an instruction for the model -> its whole new answer
_NOT_FOUND = re.compile(r"command not found|: not found$|No such file or directory", re.M)
TIMES = {1: "once", 2: "twice"}


@dataclass
class Checked:
    """The answer to show, its files, and what its check found ("" when there was nothing to check)."""

    answer: str
    files: dict[str, str]
    verification: Verification = ""
    result: str = ""


def tail(text: str, limit: int = 1200) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]


@dataclass
class AnswerWork:
    ctx: TurnContext
    task: str
    ask: Ask
    written: dict[str, ToolResult] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.kind = kind_of(self.task)
        self.outputs = files_named(self.task).outputs

    def files_of(self, answer: str) -> dict[str, str]:
        return assign(answer, self.outputs) if self.outputs else {}

    def _check_of(self, answer: str) -> tuple[Run | Judged | None, dict[str, str]]:
        files = self.files_of(answer)
        if missing := [name for name in self.outputs if name not in files]:
            why = f"the answer has no block for {', '.join(missing)}: put each file's name on the line before its block"
            return Judged("failed", why), files
        return check_for(self.task, self.kind, answer, files, node=shutil.which("node") is not None), files

    async def _verdict(self, check: Run | Judged, answer: str) -> tuple[Verification, str, str]:
        """passed / failed / unverified, the step's words for it, and the output a repair is asked with."""
        if isinstance(check, Judged):
            return check.verification, check.text, check.text
        outcome = await self.run(check)
        if outcome.denied:
            return "unverified", "not run: the run was not approved", ""
        problems = [] if outcome.is_error else self._misses(check, answer, outcome.text)
        if outcome.is_error or problems:
            detail = "error: " + "; ".join(problems) if problems else outcome.text
            return "failed", failure_line(detail), detail
        return "passed", f"{check.what}: passed", ""

    def _misses(self, check: Run, answer: str, output: str) -> list[str]:
        """What makes a check that ran still a failure: a missing command, or Python that misses the task."""
        if _NOT_FOUND.search(output):
            return [f"it ran, but: {_NOT_FOUND.search(output).group(0)}"]  # type: ignore[union-attr]
        if "answer.py" in check.files:
            return shape_problems(self.task, code_in(answer))
        return []

    def check_step(self, answer: str) -> str | None:
        """The check step's description for this answer, or None when there is nothing to check."""
        check, _ = self._check_of(answer)
        return None if check is None else describe(check, bool(self.outputs))

    async def check(self, answer: str) -> Checked:
        """Check the answer; a failure goes back to the model, at most twice. When no version passes, the first is
        shown with its failure: a fix that fails too is no better evidence."""
        answer = await self._complete_files(answer)
        check, files = self._check_of(answer)
        if check is None:
            return Checked(answer, files)
        first: tuple[str, dict[str, str], str] | None = None
        failures = 0
        while True:
            verification, result, detail = await self._verdict(check, answer)
            ran = "Its code failed when run" if isinstance(check, Run) else "Its check failed"
            first = first or (answer, files, f"{ran}: {result}")
            if verification != "failed" or failures >= MAX_FIXES:
                break
            failures += 1
            fixed = await self._complete_files(
                await self.ask(fix_instruction(self.task, self.kind, self.outputs, tail(detail)))
            )
            new_check, new_files = self._check_of(fixed)
            if new_check is None:
                break
            answer, check, files = fixed, new_check, new_files
        if verification == "passed" and failures:
            result += f" after {failures} fix{'es' if failures != 1 else ''}"
        if verification == "failed":
            answer, files = f"{first[0]}\n\n({first[2]})", first[1]
            result = f"failed {TIMES.get(failures + 1, f'{failures + 1} times')}: {result}"
        return Checked(answer, files, verification, result)

    async def _complete_files(self, answer: str) -> str:
        """A small model often leaves out a file the task names (most often the tests): each is asked for alone."""
        files = self.files_of(answer)
        for name in [n for n in self.outputs if n not in files]:
            extra = await self.ask(one_file_instruction(name, list(files)))
            block = next((b for b in blocks_in(extra) if b.body.strip()), None)
            if block is not None:
                answer += f"\n\n{name}:\n```{block.lang}\n{block.body}```"
                files = self.files_of(answer)
        return answer

    async def run(self, check: Run) -> ToolResult:
        """One check run, through the approval gate like a shell command, shown as a call."""
        arguments = json.dumps({"files": check.files, "command": check.command})
        call = ToolCall(id=new_call_id(), name=RunAnswerTool.name, arguments=arguments)
        summary = f"check the answer: {check.command}"
        await self.ctx.emit(ToolCallStarted(call_id=call.id, name=call.name, arguments=arguments, summary=summary))
        result = await run_tool(ToolRegistry([RunAnswerTool()]), call, self.ctx.tool_ctx, self.ctx.gate)
        await self.ctx.emit(
            ToolCallFinished(call_id=call.id, name=call.name, result=result.text, is_error=result.is_error)
        )
        return result

    async def _call(self, name: str, arguments: dict[str, object]) -> ToolResult:
        call = ToolCall(id=new_call_id(), name=name, arguments=json.dumps(arguments))
        message = {"id": call.id, "type": "function", "function": {"name": name, "arguments": call.arguments}}
        self.ctx.conv.add({"role": "assistant", "content": None, "tool_calls": [message]})
        result, _ = await run_call(self.ctx, call)
        return result

    async def write(self, name: str, body: str) -> ToolResult:
        """One named file, through `write_file` (its approval, its workspace confinement, its evidence)."""
        if name not in self.written:
            self.written[name] = await self._call("write_file", {"path": name, "content": body})
        return self.written[name]

    async def test(self, tests: tuple[str, ...]) -> ToolResult:
        """The tests the task asks for, run with `run_shell` in the workspace, against the written files."""
        modules = " ".join(t[:-3].replace("/", ".") for t in tests)
        command = PYTEST_OR_PLAIN.format(files=" ".join(tests), modules=modules)
        return await self._call("run_shell", {"command": command, "timeout": 120})


def describe(check: Run | Judged, files: bool) -> str:
    if isinstance(check, Judged):
        return "Check the answer"
    return "Check the code in a scratch folder" if files else "Run the answer's code and check it"


def wrote(name: str, body: str, result: ToolResult) -> str:
    if result.denied:
        return f"{name} not written: {why_denied(result.text)}"
    if result.is_error:
        return f"{name} not written: {failure_line(result.text)}"
    lines = body.count("\n") + (0 if body.endswith("\n") else 1)
    return f"wrote {name} ({lines} line{'s' if lines != 1 else ''})"


def why_denied(text: str) -> str:
    """The approver's reason, for the user ("liveplan exec runs unattended without --yes ..."), else the plain fact."""
    found = re.search(r"denied \w+: (.+?)(?:;|\. Nothing was run)", text)
    return found.group(1).strip() if found else "the write was not approved"


def tests_in(files: dict[str, str]) -> tuple[str, ...]:
    return tuple(name for name in files if is_test_file(name) and name.endswith(".py"))
