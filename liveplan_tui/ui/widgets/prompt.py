"""The prompt: multi-line input with history and slash-command completion.

Enter sends; Shift+Enter or Ctrl+J adds a newline; Up/Down at the first/last
line walk the history; Tab completes a slash command; Page Up/Down page through the chat. Each is a binding with an
id, so `keymap` in the config remaps them like every other key.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from ...commands import completions


class PromptInput(TextArea):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Send", id="prompt-submit", priority=True, show=False),
        Binding("shift+enter,ctrl+j", "newline", "Newline", id="prompt-newline", priority=True, show=False),
        Binding("up", "history_back", "Previous message", id="prompt-history-back", priority=True, show=False),
        Binding("down", "history_forward", "Next message", id="prompt-history-forward", priority=True, show=False),
        Binding("tab", "complete", "Complete command", id="prompt-complete", priority=True, show=False),
        Binding("pageup", "page_chat(-1)", "Scroll the chat back", id="chat-page-up", priority=True, show=False),
        Binding("pagedown", "page_chat(1)", "Scroll the chat on", id="chat-page-down", priority=True, show=False),
    ]

    class Submitted(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    class PageChat(Message):
        """Page Up/Down while typing: the chat, not the prompt's few lines, is what there is to page through."""

        def __init__(self, direction: int):
            super().__init__()
            self.direction = direction

    def __init__(self, **kwargs):
        super().__init__(
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            placeholder="Ask, or give a task · Enter sends · Ctrl+J newline · /help",
            **kwargs,
        )
        self.sent: list[str] = []
        self._cursor: int | None = None
        self._draft = ""

    def _submit(self) -> None:
        text = self.text.strip()
        if not text:
            return
        if not self.sent or self.sent[-1] != text:
            self.sent.append(text)
        self._cursor = None
        self.clear()
        self.post_message(self.Submitted(text))

    def _recall(self, step: int) -> bool:
        if not self.sent:
            return False
        if self._cursor is None:
            if step > 0:
                return False
            self._draft = self.text
            self._cursor = len(self.sent)
        self._cursor += step
        if self._cursor >= len(self.sent):
            self._cursor = None
            self.load_text(self._draft)
        else:
            self._cursor = max(0, self._cursor)
            self.load_text(self.sent[self._cursor])
        self.move_cursor(self.document.end)
        return True

    def complete(self) -> bool:
        matches = completions(self.text)
        if len(matches) != 1 or " " in self.text.strip():
            return False
        self.load_text(f"/{matches[0].name} ")
        self.move_cursor(self.document.end)
        return True

    def action_submit(self) -> None:
        # A priority binding runs as the app reads the key, before the keys that came with it in the same read
        # (tmux send-keys, expect, demo recorders, input methods) reach this widget's queue: submitting after
        # them sends the whole line, not an empty box.
        self.call_later(self._submit)

    def action_page_chat(self, direction: int) -> None:
        self.post_message(self.PageChat(direction))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_history_back(self) -> None:
        if not (self.cursor_location[0] == 0 and self._recall(-1)):
            self.action_cursor_up()

    def action_history_forward(self) -> None:
        if not (self.cursor_location[0] == self.document.line_count - 1 and self._recall(+1)):
            self.action_cursor_down()

    def action_complete(self) -> None:
        if not (self.text.startswith("/") and self.complete()):
            self.screen.focus_next()

    def take_command(self, usage: str) -> None:
        """Load a command from the palette, ready for its arguments (`/plan add TEXT` gives `/plan add `)."""
        words = []
        for word in usage.split(" "):
            if word.isupper() or word == "N" or "|" in word:
                break
            words.append(word)
        self.load_text(" ".join(words) + (" " if len(words) < len(usage.split(" ")) else ""))
        self.move_cursor(self.document.end)
        self.focus()
