"""Full garbage collections in the quiet moments, not under the user's fingers.

A full (generation 2) collection walks every tracked object: in the TUI that is the SDK's and Textual's
half a million objects from start-up, plus every strip and cache the chat renders, and it measured 200-600 ms
while a reply streamed, each time freezing the prompt. So, once the app is up, the start-up objects are
frozen out of every later collection (`gc.freeze`), and the full collections that the automatic schedule
would run are held until no key has been typed for `QUIET` seconds, or `LONGEST` has passed since the last
one, so garbage never piles up for long. The young generations are collected as usual: they are fast.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

QUIET = 1.0
LONGEST = 60.0
TICK = 0.5
HELD = 1_000_000  # the third threshold while held: never reached, so only `tick` runs a full collection


class IdleCollector:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.typed_at = float("-inf")
        self.collected_at = clock()
        self.saved: tuple[int, int, int] | None = None

    def start(self, app: Any | None = None) -> None:
        """Freeze what start-up made and hold full collections; with an app, check every TICK seconds."""
        if self.saved is None:
            self.saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(self.saved[0], self.saved[1], HELD)
            self.collected_at = self.clock()
        if app is not None:
            app.set_interval(TICK, self.tick, name="idle-gc")

    def stop(self) -> None:
        """The interpreter's own schedule again (tests run many apps in one process)."""
        if self.saved is not None:
            gc.set_threshold(*self.saved)
            gc.unfreeze()
            self.saved = None

    def typed(self) -> None:
        self.typed_at = self.clock()

    def due(self) -> bool:
        """As many young collections since the last full one as the default schedule allows."""
        return self.saved is not None and gc.get_count()[2] >= self.saved[2]

    def tick(self) -> bool:
        """Run a full collection if one is due and the user is not typing, or if the last was long ago."""
        if not self.due():
            return False
        now = self.clock()
        if now - self.typed_at >= QUIET or now - self.collected_at >= LONGEST:
            gc.collect()
            self.collected_at = now
            return True
        return False
