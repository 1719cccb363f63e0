"""The prompt: multi-line input with history and slash-command completion.

Enter sends; Shift+Enter or Ctrl+J adds a newline; Up/Down at the first/last
line walk the history; Tab completes a slash command.
"""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from ...commands import completions


class PromptInput(TextArea):
    class Submitted(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

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

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        handled = True
        if key == "enter":
            self._submit()
        elif key in ("shift+enter", "ctrl+j"):
            self.insert("\n")
        elif key == "up" and self.cursor_location[0] == 0:
            handled = self._recall(-1)
        elif key == "down" and self.cursor_location[0] == self.document.line_count - 1:
            handled = self._recall(+1)
        elif key == "tab" and self.text.startswith("/"):
            handled = self.complete()
        else:
            handled = False
        if handled:
            event.stop()
            event.prevent_default()
        else:
            await super()._on_key(event)
