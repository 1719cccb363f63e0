"""What the small model is asked for: the answer in the task's language, each named file in its own block, and a
fix that says what the check found. Python without files keeps the measured wording of `local_answer.md`."""

from __future__ import annotations

from ...prompts import load
from .blocks import is_test_file
from .checks import task_tables
from .kinds import FENCE_OF, Kind, kind_of_file, reads_stdin


def kind_instruction(task: str, kind: Kind | None) -> str:
    if kind == "python" and reads_stdin(task):
        return load("answer_kinds/python_stdin.md")
    if kind == "sql" and task_tables(task):  # the check makes the tables: the model writes the query alone
        return load("answer_kinds/sql_given.md")
    return load(f"answer_kinds/{kind or 'any'}.md")


def files_instruction(outputs: tuple[str, ...]) -> str:
    if not outputs:
        return ""
    names = ", ".join(f"`{name}`" for name in outputs)
    text = load("answer_kinds/files.md").format(names=names, example=outputs[0])
    return text + (" A test file imports what it tests from its module." if any(map(is_test_file, outputs)) else "")


def answer_instruction(task: str, kind: Kind | None, outputs: tuple[str, ...]) -> str:
    """Structured mode's request for the answer: brief, in the task's language, a block per named file."""
    how = kind_instruction(task, kind)
    return " ".join(filter(None, [how, files_instruction(outputs), "Do not repeat the plan."]))


def direct_instruction(outputs: tuple[str, ...]) -> str:
    """Direct mode stays as brief as it was; it only learns where each named file's block goes."""
    return " ".join(filter(None, ["Reply briefly.", files_instruction(outputs)]))


def fix_instruction(task: str, kind: Kind | None, outputs: tuple[str, ...], error: str) -> str:
    if kind in ("python", None) and not outputs and not reads_stdin(task):
        return load("local_fix.md").format(error=error)
    how = " ".join(filter(None, [kind_instruction(task, kind), files_instruction(outputs)]))
    return load("local_fix_any.md").format(error=error, how=how)


def one_file_instruction(name: str, others: list[str]) -> str:
    """A file the answer left out, asked for alone: a small model that skips the tests writes them when asked."""
    kind = kind_of_file(name)
    fence = FENCE_OF[kind] if kind else "text"
    modules = [o[:-3].replace("/", ".") for o in others if o.endswith(".py") and not is_test_file(o)]
    hint = load("answer_kinds/test_file.md").format(module=modules[0]) if is_test_file(name) and modules else ""
    return load("answer_kinds/one_file.md").format(name=name, fence=fence, hint=hint).strip()
