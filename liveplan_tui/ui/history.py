"""A resumed session's record as chat blocks: messages, and tool calls with their results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.widgets import Static

from .widgets.chat import ToolBlock, UserBlock
from .widgets.reply import HistoryReply

Block = Static | HistoryReply | ToolBlock


def history_blocks(record: tuple[dict[str, Any], ...], describe_call: Callable[[str, str], str]) -> list[Block]:
    """One block per message or call; a call's result is kept on its block until the block is mounted."""
    blocks: list[Block] = []
    calls: dict[str, ToolBlock] = {}
    for msg in record:
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
    return blocks
