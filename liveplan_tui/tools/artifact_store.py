"""Big tool outputs become artifacts: stored whole, shown to the model as a short head.

This keeps a 50k-line test log from flooding the context (and the condenser),
while `read_artifact` still lets the model page through all of it.
"""

from __future__ import annotations

from collections.abc import Callable

from ..tokens import estimate_tokens
from .errors import ToolError

DEFAULT_BUDGET_TOKENS = 2000
HEAD_LINES = 40
PAGE_LINES = 100


class ArtifactStore:
    """Artifacts of one session, by id; a store can persist them (see store.py)."""

    def __init__(self, items: dict[str, str] | None = None) -> None:
        self.items: dict[str, str] = dict(items or {})
        self.on_add: Callable[[str, str], None] | None = None

    def add(self, text: str) -> str:
        artifact_id = f"a{len(self.items) + 1}"
        self.items[artifact_id] = text
        if self.on_add is not None:
            self.on_add(artifact_id, text)
        return artifact_id

    def get(self, artifact_id: str) -> str:
        if artifact_id not in self.items:
            known = ", ".join(self.items) or "none"
            raise ToolError(f"no artifact {artifact_id!r}; known artifacts: {known}")
        return self.items[artifact_id]


def shrink(text: str, store: ArtifactStore, budget_tokens: int = DEFAULT_BUDGET_TOKENS) -> str:
    """Return `text`, or a head plus a pointer to the stored whole when it is over budget."""
    if estimate_tokens(text) <= budget_tokens:
        return text
    artifact_id = store.add(text)
    lines = text.splitlines()
    head: list[str] = []
    size = 0
    for line in lines[:HEAD_LINES]:
        line = line if len(line) <= 400 else line[:400] + " …"
        size += len(line) + 1
        if size > budget_tokens * 2:
            break
        head.append(line)
    shown = len(head)
    return (
        "\n".join(head)
        + f"\n[output too large: {len(text):,} chars, {len(lines):,} lines, stored as artifact {artifact_id}; "
        + f"showing lines 1-{shown}. Read more with "
        + f'read_artifact(id="{artifact_id}", start={shown + 1}, end={shown + PAGE_LINES})]'
    )
