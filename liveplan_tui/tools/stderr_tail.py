"""A child's stderr, kept only as far as it is shown: its last few kilobytes, never the whole stream.

A server or hook that writes without end must cost neither memory nor disk. The child writes into a pipe; a
daemon thread drains it and keeps the tail, so the child never blocks on a full pipe either.
"""

from __future__ import annotations

import os
import threading

KEEP_BYTES = 16_384


class StderrTail:
    def __init__(self, keep: int = KEEP_BYTES):
        self.keep = keep
        self._tail = bytearray()
        self._lock = threading.Lock()
        read_fd, write_fd = os.pipe()
        os.set_inheritable(write_fd, True)
        self.writer = os.fdopen(write_fd, "w", encoding="utf-8", errors="replace")  # what the child gets as stderr
        self._reader = os.fdopen(read_fd, "rb", buffering=0)
        self._thread = threading.Thread(target=self._drain, name="stderr-tail", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while chunk := self._reader.read(65536):
            with self._lock:
                self._tail += chunk
                del self._tail[: max(0, len(self._tail) - self.keep)]
        self._reader.close()

    def text(self) -> str:
        with self._lock:
            return bytes(self._tail).decode("utf-8", errors="replace")

    def last_line(self, width: int = 200) -> str:
        lines = [line.strip() for line in self.text().splitlines() if line.strip()]
        return lines[-1][:width] if lines else ""

    def close(self, wait: float = 0.0) -> None:
        """Close our copy of the write end; the thread ends when the child's copy closes too. `wait` gives a
        child that just died the moment its last words need to be read."""
        if not self.writer.closed:
            self.writer.close()
        if wait:
            self._thread.join(wait)
