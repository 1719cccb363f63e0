"""The turn worker's relay: core events to Textual messages, with streamed text coalesced per frame.

A fast server sends a token per chunk; posting each as its own message costs the app a message round trip and
a Markdown update per token, and the chat falls behind the stream. Text that arrives within one frame (1/60 s)
is posted as one delta, and a timer posts what is left when the stream pauses, so nothing waits on the next
chunk. Every other event flushes the text first, so order is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

FRAME = 1 / 60


class TextCoalescer:
    def __init__(self, post: Callable[[Any], object], wrap: Callable[[Any], Any]):
        self.post = post  # posts a message
        self.wrap = wrap  # an event as the message to post
        self.parts: list[str] = []
        self.last = 0.0
        self.timer: asyncio.TimerHandle | None = None

    def add(self, text: str) -> None:
        self.parts.append(text)
        now = asyncio.get_running_loop().time()
        if now - self.last >= FRAME:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(FRAME - (now - self.last), self.flush)

    def flush(self) -> None:
        from ..events import TextDelta

        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.parts:
            text, self.parts = "".join(self.parts), []
            self.post(self.wrap(TextDelta(text=text)))
        self.last = asyncio.get_running_loop().time()


async def relay(events: AsyncIterator[Any], post: Callable[[Any], object], wrap: Callable[[Any], Any]) -> None:
    """Post every event of a turn, in order, with text deltas coalesced per frame."""
    text = TextCoalescer(post, wrap)
    try:
        async for event in events:
            if event.type == "text_delta":
                text.add(event.text)
                continue
            text.flush()
            post(wrap(event))
    finally:
        text.flush()
