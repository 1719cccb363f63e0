"""A review of a new plan that costs no model call: the defects a reader would flag before anything runs.

Each finding names its step and says what to change, so the model can revise in one go: a plan for a task that
changes files with nothing that runs or checks the change, vague steps, duplicate steps, steps that bundle several
actions, too many steps at one level, and dependencies that point nowhere or forward. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .model import Step

MAX_STEPS = 10
_CHANGES = re.compile(
    r"\b(?:fix|add|implement|refactor|write|create|update|change|rename|remove|delete|edit|migrate|replace|"
    r"move|build|port|upgrade|bump|introduce|support|make)\b",
    re.I,
)
_DOCS = re.compile(
    r"\b(?:notes|docs?|documentation|readme|changelog|explain|describe|summar\w*|comments?|compare|plan)\b", re.I
)  # writing prose needs no test run
_RUNS = re.compile(
    r"\b(?:run|runs|test|tests|testing|check|checks|verify|verifies|validate|lint|build|compile|execute|try|"
    r"confirm|reproduce|benchmark|pytest|npm|make|cargo|tox|ci)\b",
    re.I,
)
_VAGUE_WORDS = re.compile(
    r"\b(?:stuff|things?|etc|misc|whatever|as needed|if needed|somehow|various|everything|anything|"
    r"the rest|other changes)\b",
    re.I,
)
_VAGUE_WHOLE = re.compile(
    r"^(?:do|finish|complete|handle|work on|deal with|fix|make|start|continue|wrap up|improve|clean up|"
    r"finalize|implement|proceed)(?:\s+(?:it|this|that|the task|the work|everything|up|things|stuff|the thing))?"
    r"[.!]?$",
    re.I,
)
_VERBS = (
    "add|write|create|update|fix|run|test|implement|refactor|remove|delete|rename|move|document|deploy|install|"
    "configure|commit|push|build|edit|change|read|review|check|verify|migrate|replace|merge|publish|release|bump|tag|"
    "wire|upload|ship|convert|extract|translate|format|print|send|save|load|parse|split|clean|tidy|profile|package"
)
_BUNDLE = re.compile(rf"(?:,|;|\band\b|\bthen\b)\s+(?:then\s+)?(?:{_VERBS})\b", re.I)


@dataclass(frozen=True)
class Finding:
    step: int | None  # the step it is about; None for the plan as a whole
    problem: str

    def line(self) -> str:
        return f"step {self.step}: {self.problem}" if self.step is not None else self.problem


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*", text.lower())


def vague(description: str) -> bool:
    text = description.strip()
    return len(_words(text)) < 2 or bool(_VAGUE_WHOLE.match(text)) or bool(_VAGUE_WORDS.search(text))


def bundles(description: str) -> bool:
    """Several actions in one step: "Write the parser, add tests and update the docs"."""
    joints = _BUNDLE.findall(description)
    return len(joints) >= 2 or (len(joints) == 1 and len(_words(description)) >= 7)


def _same(a: str, b: str) -> bool:
    wa, wb = set(_words(a)) - {"the", "a", "an", "to", "of"}, set(_words(b)) - {"the", "a", "an", "to", "of"}
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= 0.8


def lint(task: str, steps: Sequence[Step]) -> list[Finding]:
    """What is wrong with a new plan for `task`, step by step; [] when nothing is."""
    findings: list[Finding] = []
    if len(steps) > MAX_STEPS:
        findings.append(Finding(None, f"{len(steps)} steps at one level; merge them into at most {MAX_STEPS}"))
    if (
        _CHANGES.search(task)
        and not _DOCS.search(task)
        and steps
        and not any(s.check or _RUNS.search(s.description) for s in steps)
    ):
        findings.append(
            Finding(None, "the task changes files, but no step runs or checks anything: add a step that runs the "
                    "tests (or give a step a `check` command)")
        )  # fmt: skip
    ids = {s.id for s in steps}
    for index, step in enumerate(steps):
        if vague(step.description):
            findings.append(Finding(step.id, f"“{step.description}” is vague: say what is done to what"))
        elif bundles(step.description):
            findings.append(Finding(step.id, f"“{step.description}” bundles several actions: split it"))
        if any(_same(step.description, other.description) for other in steps[:index]):
            findings.append(Finding(step.id, f"“{step.description}” repeats an earlier step: merge or remove it"))
        for dep in step.depends_on:
            if dep not in ids:
                findings.append(Finding(step.id, f"depends on step {dep}, which does not exist"))
            elif dep >= step.id:
                findings.append(Finding(step.id, f"depends on step {dep}, which comes after it: reorder the steps"))
    return findings
