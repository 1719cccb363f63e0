"""A resumed session's record as chat blocks: messages, and tool calls with their results."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.widgets import Static

from .widgets.chat import ToolBlock, UserBlock
from .widgets.reply import HistoryReply

Block = Static | HistoryReply | ToolBlock


def tail_start(record: Sequence[dict[str, Any]], limit: int) -> int:
    """Where the messages that make the last `limit` blocks begin: a resumed session of thousands of messages builds
    only the blocks it shows."""
    count = 0
    for index in range(len(record) - 1, -1, -1):
        msg = record[index]
        if msg.get("role") == "user":
            count += 1
        elif msg.get("role") == "assistant":
            count += bool(msg.get("content")) + len(msg.get("tool_calls") or ())
        if count >= limit:
            return index
    return 0


def history_blocks(
    record: Sequence[dict[str, Any]], describe_call: Callable[[str, str], str], limit: int | None = None
) -> list[Block]:
    """One block per message or call (the last `limit` of them); a call's result is kept on its block until the
    block is mounted."""
    blocks: list[Block] = []
    calls: dict[str, ToolBlock] = {}
    for msg in record[tail_start(record, limit) if limit else 0 :]:
        raw = msg.get("content")
        content = raw if isinstance(raw, str) else ""
        if msg.get("role") == "user":
            blocks.append(UserBlock(content))
        elif msg.get("role") == "assistant":
            if content:
                blocks.append(HistoryReply(content))
            for call in msg.get("tool_calls") or ():
                name, arguments = call["function"]["name"], call["function"].get("arguments", "")
                tool_block = ToolBlock(call["id"], name, arguments, describe_call(name, arguments))
                calls[call["id"]] = tool_block
                blocks.append(tool_block)
        elif msg.get("role") == "tool" and msg.get("tool_call_id") in calls:
            calls[msg["tool_call_id"]].pending_result = (content, content.startswith("error:"))
    return blocks[-limit:] if limit else blocks
