"""Every new plan is reviewed before it runs (`plan_review`): by lint, free, or by one fresh-context model call.

The model review sees the task, the plan and the workspace's file list, never the conversation, so it judges the
plan and not the reasoning that made it. Its findings go to the model once, in the result of the `update_plan`
call that made the plan; a revised plan is not reviewed again in the same turn, so the review cannot loop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..events import PlanCritique
from ..llm.base import LLMError
from ..llm.json_actions import json_objects
from ..llm.openai_compat import ChatClient
from ..plan import LivePlan
from ..plan.lint import lint
from ..prompts import load
from ..tools.workspace import Workspace

MAX_FILES = 200
REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verdict": {"enum": ["ok", "revise"]},
        "issues": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"step": {"type": "integer"}, "problem": {"type": "string"}},
                "required": ["step", "problem"],
            },
        },
    },
    "required": ["verdict", "issues"],
}


def told(critique: PlanCritique) -> str:
    """What the model reads, after the plan, in the result of the call that made it."""
    if critique.verdict == "ok":
        return ""
    lines = "\n".join(f"- {finding}" for finding in critique.findings)
    return (
        f"Review of this plan before it runs ({critique.by}):\n{lines}\nRevise the plan with update_plan if they hold."
    )


SKIPPED = ("node_modules", "__pycache__", "venv")


def file_list(workspace: Workspace) -> list[str]:
    """The workspace's files, at most MAX_FILES; hidden and dependency folders are never entered, so a large tree
    costs what is listed, not all of it."""
    root = workspace.root
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED)
        base = Path(folder).relative_to(root)
        for name in sorted(f for f in files if not f.startswith(".")):
            found.append((base / name).as_posix())
            if len(found) >= MAX_FILES:
                return found
    return found


@dataclass
class PlanCritic:
    """One per turn: `used` once it has reviewed a plan."""

    mode: str
    task: str
    llm: ChatClient | None = None
    workspace: Workspace | None = None
    used: bool = field(default=False)
    last: PlanCritique | None = None  # what the plan approval view shows beside the plan

    async def review(self, plan: LivePlan) -> PlanCritique | None:
        if self.mode == "off" or self.used or not plan.steps:
            return None
        self.used = True
        findings = [f.line() for f in lint(self.task, plan.steps)]
        if self.mode == "model" and self.llm is not None:
            self.last = await self._by_model(plan, findings)
        else:
            self.last = PlanCritique(by="lint", verdict="revise" if findings else "ok", findings=findings)
        return self.last

    async def _by_model(self, plan: LivePlan, linted: list[str]) -> PlanCritique:
        """Lint's findings, and the model's; a reply that can't be read leaves lint's alone."""
        assert self.llm is not None
        files = "\n".join(file_list(self.workspace)) if self.workspace else ""
        user = f"Task:\n{self.task}\n\nPlan:\n{plan.render()}\n\nFiles in the workspace:\n{files or '(none)'}"
        messages = [{"role": "system", "content": load("plan_review.md")}, {"role": "user", "content": user}]
        fmt = {"type": "json_schema", "json_schema": {"name": "plan_review", "schema": REVIEW_SCHEMA}}
        try:
            completion = await self.llm.complete(messages, response_format=fmt, max_tokens=600)
        except LLMError:
            return PlanCritique(by="lint", verdict="revise" if linted else "ok", findings=linted)
        found = _issues(completion.content or completion.reasoning or "")
        if found is None:
            return PlanCritique(by="lint", verdict="revise" if linted else "ok", findings=linted)
        verdict, issues = found
        findings = linted + [i for i in issues if i not in linted]
        return PlanCritique(
            by="model", verdict="revise" if findings or verdict == "revise" else "ok", findings=findings
        )


def _issues(text: str) -> tuple[str, list[str]] | None:
    for obj in json_objects(text):
        verdict, issues = obj.get("verdict"), obj.get("issues")
        if verdict in ("ok", "revise") and isinstance(issues, list):
            lines = []
            for issue in issues:
                if isinstance(issue, dict) and str(issue.get("problem", "")).strip():
                    step = issue.get("step")
                    where = f"step {step}: " if isinstance(step, int) and step > 0 else ""
                    lines.append(where + str(issue["problem"]).strip()[:300])
            return verdict, lines
    return None
