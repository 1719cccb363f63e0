"""The plan a checked answer is carried out by: the model's steps, each given the role the harness can prove.

A step that names a file the task asks for (or says "save the file") is completed by that file's write and its
evidence, never by "answered"; the check of the code gets a step of its own, and so does the run of the tests the
task asks for, against the written files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .blocks import is_test_file

Role = Literal["answer", "check", "write", "test"]
_FILE_WORDS = re.compile(r"\b(?:save|saves|file|files|store|write\b.*\bto)\b", re.I)


@dataclass(frozen=True)
class StepSpec:
    description: str
    role: Role
    files: tuple[str, ...] = ()


def _names(description: str, outputs: tuple[str, ...]) -> tuple[str, ...]:
    named = tuple(f for f in outputs if re.search(rf"(?<![\w.-]){re.escape(f)}(?![\w-])", description))
    if named or not outputs or not _FILE_WORDS.search(description):
        return named
    tests = tuple(f for f in outputs if is_test_file(f))
    return tests if tests and re.search(r"\btests?\b", description, re.I) else outputs


def plan_steps(model_steps: list[str], outputs: tuple[str, ...], check: str | None) -> list[StepSpec]:
    """Answer steps, then the check (`check` is its description; None: nothing to check), then a write step for
    every named file (the model's own, else one of ours), then the tests the task asks for."""
    answers: list[StepSpec] = []
    writes: list[StepSpec] = []
    for description in model_steps:
        files = _names(description, outputs)
        (writes if files else answers).append(StepSpec(description, "write" if files else "answer", files))
    covered = {f for spec in writes for f in spec.files}
    writes += [StepSpec(f"Write {name}", "write", (name,)) for name in outputs if name not in covered]
    tests = tuple(f for f in outputs if is_test_file(f) and f.endswith(".py"))
    ran = [StepSpec(f"Run {', '.join(tests)} against the written files", "test", tests)] if tests else []
    checking = [StepSpec(check, "check")] if check else []
    return answers + checking + writes + ran
