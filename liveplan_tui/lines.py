"""Where the line chat reads from: the line editor on a terminal, plain lines from a pipe or a file.

`echo TASK | liveplan chat --plain` and `liveplan chat --plain < script.txt` must not go through prompt-toolkit,
which warns that input is not a terminal, reads a 10 MB line for a minute and turns SIGTERM into "Press ENTER".
A pipe is read by a daemon thread, a line at a time and never more than the limit, so a stuck or endless input never
holds the process (or its exit) hostage.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, BinaryIO, Protocol


class LineTooLong(Exception):
    """A line past the limit: refused whole, and the rest of it skipped."""


class Lines(Protocol):
    async def read(self, prompt: str) -> str:
        """The next line; EOFError at the end of input, LineTooLong for a line past the limit."""
        ...


class EditorLines:
    """A terminal: prompt-toolkit's editor, with history and completion."""

    def __init__(self, session: Any):
        self.session = session

    async def read(self, prompt: str) -> str:
        return str(await self.session.prompt_async(prompt))


class PipedLines:
    """A pipe or a file, read plainly; `limit` is in bytes."""

    def __init__(self, stream: BinaryIO, limit: int):
        self.queue: asyncio.Queue[str | LineTooLong | None] = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self.stream, self.limit = stream, limit
        threading.Thread(target=self._pump, name="piped-lines", daemon=True).start()

    def _put(self, item: str | LineTooLong | None) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the loop has closed: nobody is reading any more
            pass

    def _pump(self) -> None:
        try:
            while raw := self.stream.readline(self.limit + 1):
                if len(raw) > self.limit and not raw.endswith(b"\n"):
                    while (rest := self.stream.readline(65536)) and not rest.endswith(b"\n"):
                        pass
                    self._put(LineTooLong())
                else:
                    self._put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        except (OSError, ValueError):
            pass
        finally:
            self._put(None)

    async def read(self, prompt: str) -> str:
        item = await self.queue.get()
        if item is None:
            self.queue.put_nowait(None)  # the end stays the end for every later read
            raise EOFError
        if isinstance(item, LineTooLong):
            raise item
        return item
