"""What a front-end may read of a session: a frozen view, taken when asked for.

Front-ends render from this and never from the session's parts, so the session can change how it holds its
state without touching them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from ..choices import Mode, PlanApproval
from ..plan import PlanBoard
from ..tools.reaper import sandbox_status


class RecordSnapshot(Sequence[dict[str, Any]]):
    """The chat record as it stood when a view was taken, without copying it on every view: the record only grows
    (a resume replaces the list whole), so its first `count` messages stay as they were under the snapshot."""

    __slots__ = ("_count", "_messages")

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self._messages, self._count = messages, len(messages)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[dict[str, Any], ...]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | tuple[dict[str, Any], ...]:
        if isinstance(index, slice):
            return tuple(self._messages[i] for i in range(self._count)[index])
        return self._messages[range(self._count)[index]]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self._messages[i] for i in range(self._count))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Sequence)
            and len(other) == self._count
            and all(a == b for a, b in zip(self, other, strict=True))
        )

    __hash__ = None  # type: ignore[assignment]  # dicts inside: no more hashable than the tuple it replaces


@dataclass(frozen=True)
class SessionView:
    """What a front-end may read of a session, frozen at the moment it was taken."""

    endpoint_label: str
    work: str  # the working memory as the model sees it
    model: str
    mode: Mode
    context_window: int
    board: PlanBoard
    record: RecordSnapshot
    session_id: str | None
    saving: bool
    approval: str
    plan_approval: PlanApproval
    shell_sandbox: str
    instructions: str  # which AGENTS.md files are in the prompt
    local: bool
    key_withheld: bool

    @property
    def sandbox(self) -> str:
        """The sandbox in force; asked only when shown, since it probes the kernel once (`exec` never shows it)."""
        return sandbox_status(self.shell_sandbox)
