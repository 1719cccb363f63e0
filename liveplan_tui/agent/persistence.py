"""Binds a conversation to a stored session, so every change is written as it happens."""

from __future__ import annotations

from typing import Any

from ..events import Event
from ..memory import WorkMemory
from ..plan import PlanBoard
from ..redact import redact
from ..store import SavedSession, Store
from .conversation import Conversation
from .masking import mask_board, mask_message

RECORDED_EVENTS = {"route", "condensed", "error"}


class SessionRecorder:
    """Writes what the session holds to the store, masked: nothing stored (and so nothing `watch`, `export` or a
    resumed session shows) holds a secret the model or a tool repeated."""

    def __init__(self, store: Store, session_id: str, secrets: tuple[str, ...] = ()):
        self.store = store
        self.session_id = session_id
        self.secrets = secrets

    def message(self, message: dict[str, Any]) -> None:
        self.store.add_message(self.session_id, mask_message(message, self.secrets))

    def board(self, board: PlanBoard) -> None:
        self.store.save_board(self.session_id, mask_board(board, self.secrets))

    def replaced(self, messages: list[dict[str, Any]], summary: str) -> None:
        masked = [mask_message(m, self.secrets) for m in messages]
        self.store.save_context(self.session_id, masked, redact(summary, self.secrets))

    def artifact(self, artifact_id: str, text: str) -> None:
        self.store.save_artifact(self.session_id, artifact_id, redact(text, self.secrets))

    def refused(self, feature: str, model: str) -> None:
        """A feature the server refused for `model` (the `tools` field): a resumed session goes on without it."""
        self.store.add_event(self.session_id, "refused", {"feature": feature, "model": model})

    def event(self, event: Event) -> None:
        if event.type in RECORDED_EVENTS:
            self.store.add_event(self.session_id, event.type, event.model_dump())


def restored(saved: SavedSession, conv: Conversation) -> Conversation:
    """A saved session's record, condensed context, plan and working memory, in a fresh conversation."""
    conv.restore(saved.record, saved.context if saved.context is not None else saved.record, saved.summary, saved.board)
    try:
        conv.memory = WorkMemory.model_validate_json(saved.memory) if saved.memory else WorkMemory()
    except ValueError:
        conv.memory = WorkMemory()  # the tools rebuild it as they work
    return conv


def close_dangling(conv: Conversation) -> None:
    """A crash mid-tool leaves calls without results; each gets one, so the history stays valid."""
    for call_id in conv.dangling_tool_calls():
        conv.add(
            {
                "role": "tool",
                "tool_call_id": call_id,
                "content": "error: interrupted; the session closed before this tool finished",
            }
        )


def refused_by(store: Store, session_id: str, model: str) -> set[str]:
    """What the server refused `model` in this session before, so a resumed session does not ask again."""
    return {
        body["feature"]
        for body in store.events(session_id, "refused")
        if body.get("model") == model and isinstance(body.get("feature"), str)
    }
