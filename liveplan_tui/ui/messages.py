"""The TUI's Textual messages: the turn worker posts these, handlers take them with `@on`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from ..events import Event


class CoreEvent(Message):
    """One event from the core, in the order the turn produced it."""

    def __init__(self, event: Event):
        super().__init__()
        self.event = event


class TurnStarted(Message):
    """A turn began; the status bar shows it."""


class TurnEnded(Message):
    """The turn's events are all posted (it finished, failed or was cancelled)."""
