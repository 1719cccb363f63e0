"""The working memory: what the work has touched, kept beside the plan. Pure.

Files read and changed (with the last action on each), the last commands with
their exit codes, and the last failure. The tools report to it themselves
(`Tool.remember`), and it is rendered into the system prompt after `[PLAN]` on
every call, within a fixed budget, so condensation cannot lose it: changed files
and the last failure are always kept; reads and old commands go first.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

MAX_COMMANDS = 5
BUDGET_CHARS = 1600  # about 400 tokens
CHANGES = ("created", "wrote", "edited", "deleted")


@dataclass(frozen=True)
class Note:
    """One thing a tool call did: a file action, or a command and its exit code."""

    kind: str  # "file" | "command"
    subject: str
    action: str = ""
    exit_code: int | None = None
    failure: str = ""


class WorkMemory(BaseModel):
    model_config = ConfigDict(frozen=True)

    files: tuple[tuple[str, str], ...] = ()  # (path, last action), oldest first
    commands: tuple[tuple[str, int], ...] = ()
    last_failure: str = ""
    told: tuple[str, ...] = ()  # what the user changed between turns (a rewind, a plan review), until read

    @property
    def is_empty(self) -> bool:
        return not (self.files or self.commands or self.last_failure or self.told)

    def tell(self, text: str) -> WorkMemory:
        return self.model_copy(update={"told": (*self.told, text)})

    def read_out(self) -> WorkMemory:
        """Once a turn has run with them, the user's changes are history, not news."""
        return self.model_copy(update={"told": ()}) if self.told else self

    def render_told(self) -> str:
        return "\n".join(["Changed by the user since your last turn:", *self.told]) if self.told else ""

    @property
    def changed(self) -> list[str]:
        return [path for path, action in self.files if action in CHANGES]

    def remember(self, note: Note) -> WorkMemory:
        if note.kind == "file":
            kept = tuple((p, a) for p, a in self.files if p != note.subject)
            previous = dict(self.files).get(note.subject, "")
            action = note.action if note.action in CHANGES or previous not in CHANGES else f"{previous}, then read"
            return self.model_copy(update={"files": (*kept, (note.subject, action))})
        commands = (*self.commands, (note.subject, note.exit_code if note.exit_code is not None else -1))
        update: dict[str, object] = {"commands": commands[-MAX_COMMANDS:]}
        if note.failure:
            update["last_failure"] = note.failure
        return self.model_copy(update=update)

    def render(self, budget: int = BUDGET_CHARS) -> str:
        """The `[WORK]` block; changed files and the last failure always stay, the rest fits the budget."""
        if self.is_empty:
            return ""
        changed = [f"- {p}: {a}" for p, a in self.files if a in CHANGES or a.split(",")[0] in CHANGES]
        read = [f"- {p}: {a}" for p, a in self.files if f"- {p}: {a}" not in changed]
        commands = [f"- `{c[:120]}` → exit {code}" for c, code in self.commands]
        failure = [f"Last failure: {self.last_failure[:300]}"] if self.last_failure else []
        told = [self.render_told()] if self.told else []
        head = ["[WORK]", *told, "Files changed (already done; don't redo):", *(changed or ["- none"])]
        tail = [*failure, "[/WORK]"]
        optional = [("Files read (unchanged since; no need to read again):", read), ("Last commands:", commands)]
        lines = list(head)
        size = sum(len(x) + 1 for x in head + tail)
        for title, items in optional:
            kept: list[str] = []
            for item in reversed(items):  # newest first when the budget runs out
                if size + len(item) + len(title) + 2 > budget:
                    break
                kept.insert(0, item)
                size += len(item) + 1
            if kept:
                lines += [title, *kept]
                size += len(title) + 1
        return "\n".join(lines + tail)
