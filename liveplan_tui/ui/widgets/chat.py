"""The chat log and its blocks: user, assistant (streamed Markdown), tool, error, notice.

Replies stream through `Markdown.get_stream()`, which merges fragments while
the widget is busy, instead of re-rendering the whole reply per token. The log
stays anchored to the bottom until the user scrolls up, and only the newest
blocks stay mounted: at most MAX_BLOCKS, and at most WIDGET_BUDGET widgets in all (Toad prunes by height;
we count widgets, because a layout pass costs per widget, not per line), but never less than two screens.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Collapsible, Static

from ...textsafe import terminal_safe as safe

MAX_BLOCKS = 150
WIDGET_BUDGET = 200  # widgets mounted in the chat, each block's parts counted: a layout pass walks them all
PRUNE_EVERY = 0.5  # seconds
READING_BACK = 4
FIRST_SCREEN = 24  # blocks mounted at once when a session is resumed: more than a screen holds
HISTORY_CHUNK = 8


class UserBlock(Static):
    def __init__(self, text: str):
        super().__init__(Content(safe(text)), classes="block user")
        self.text = text


WELCOME = (
    "LivePlan · give a task and watch its live plan in the Plan panel.\n"
    "Esc cancels a turn · /help lists commands · Ctrl+P opens the palette · Ctrl+C twice quits."
)


class NoticeBlock(Static):
    def __init__(self, text: str, kind: str = "info"):
        super().__init__(Content(safe(text)), classes=f"block notice notice-{kind}")


class ErrorBlock(Static):
    def __init__(self, text: str):
        super().__init__(Content(f"✘ {safe(text)}"), classes="block error")


class ToolBlock(Collapsible):
    """A tool call: one compact line, expandable to its arguments and result."""

    def __init__(self, call_id: str, name: str, arguments: str, summary: str = ""):
        arguments = safe(arguments)
        self.summary = safe(summary or name)
        self.detail = Static(Content(f"arguments: {arguments}"), classes="tool-detail")
        super().__init__(self.detail, title=f"⚙ {self.summary}", collapsed=True, classes="block tool running")
        self.call_id = call_id
        self.arguments = arguments
        self.pending_result: tuple[str, bool] | None = None  # a resumed call's result, shown once it is mounted

    def on_mount(self) -> None:
        if self.pending_result is not None:
            self.finish(*self.pending_result)

    def progress(self, detail: str) -> None:
        """A running tool's latest word, after its line (replaced by the result when it ends)."""
        self.title = f"⚙ {self.summary} · {safe(detail)}"

    def finish(self, result: str, is_error: bool) -> None:
        result = safe(result)
        self.remove_class("running")
        self.set_class(is_error, "failed")
        first = result.splitlines()[0] if result else ""
        mark = "✘" if is_error else "✔"
        self.title = f"{mark} {self.summary}" + (f" — {first[:80]}" if is_error else "")
        shown = result if len(result) < 4000 else result[:4000] + "\n…"
        self.detail.update(Content(f"arguments: {self.arguments}\n\n{shown}"))


def block_weight(block: Widget) -> int:
    """What a mounted block costs a layout pass: itself and each of its parts."""
    return 1 + sum(1 for _ in block.walk_children())


class ChatLog(VerticalScroll):
    def on_mount(self) -> None:
        self.anchor()
        self.set_interval(PRUNE_EVERY, self.prune, name="prune")  # Markdown grows after it is mounted

    async def add(self, block: Widget) -> None:
        await self.mount(block)
        await self.prune()

    async def add_history(self, blocks: Sequence[Widget]) -> None:
        """A resumed session's blocks: the newest screenful in one mount, so the first screen shows them; then the
        older ones above it, a few at a time, only while the chat is under its budget (more would be pruned)."""
        older, newest = blocks[:-FIRST_SCREEN], blocks[-FIRST_SCREEN:]
        if not newest:
            return
        await self.mount_all(newest)
        weight, oldest = sum(map(block_weight, self.children)), newest[0]
        while older and weight < WIDGET_BUDGET and len(self.children) < MAX_BLOCKS:
            chunk, older = older[-HISTORY_CHUNK:], older[:-HISTORY_CHUNK]
            await self.mount_all(chunk, before=oldest)
            weight, oldest = weight + sum(map(block_weight, chunk)), chunk[0]
        await self.prune()

    @property
    def reading_back(self) -> bool:
        """The user has scrolled more than a screen above the newest line."""
        return self.max_scroll_y - self.scroll_y > self.size.height

    async def prune(self) -> None:
        """The oldest blocks go until at most MAX_BLOCKS and WIDGET_BUDGET are mounted, but what stays always
        fills two screens, so the newest lines can be read back however heavy their Markdown. While the user reads
        back, the budget stretches READING_BACK times, so what they read does not vanish under them."""
        blocks = list(self.children)
        weights = [block_weight(block) for block in blocks]
        heights = [block.outer_size.height for block in blocks]
        total, lines, drop, floor = sum(weights), sum(heights), 0, 2 * max(self.size.height, 20)
        budget = WIDGET_BUDGET * (READING_BACK if self.reading_back else 1)
        while drop < len(blocks) - 1:
            over_budget = total > budget and lines - heights[drop] >= floor
            if len(blocks) - drop <= MAX_BLOCKS and not over_budget:
                break
            total, lines, drop = total - weights[drop], lines - heights[drop], drop + 1
        if drop:
            await self.remove_children(blocks[:drop])
