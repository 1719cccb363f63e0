"""Replies in the chat, as Markdown: streamed while the model writes, or rendered once from a saved session.

Kept apart from the other chat blocks so the Markdown parser is imported with the first reply, not before the
first frame.
"""

from __future__ import annotations

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream

from ...textsafe import terminal_safe as safe


class AssistantBlock(Markdown):
    """A reply, or one segment of a long one (see `ui/segments.py`); the stream starts on the first fragment and
    stops when the reply ends."""

    def __init__(self, continued: bool = False) -> None:
        super().__init__("", classes="block assistant continued" if continued else "block assistant")
        self._stream: MarkdownStream | None = None
        self.text = ""

    async def write(self, fragment: str) -> None:
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        fragment = safe(fragment)
        self.text += fragment
        await self._stream.write(fragment)

    async def finish(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()


class HistoryReply(Markdown):
    """A reply from a resumed session: rendered once, not streamed."""

    def __init__(self, text: str):
        text = safe(text)
        super().__init__(text, classes="block assistant")
        self.text = text
