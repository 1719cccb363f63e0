"""Tool calls written as JSON in plain content, for models and servers without native tool calls.

Small models often answer with ```json {...}``` (or a bare object) instead of
`tool_calls`. This finds every balanced JSON object in the text and keeps
those shaped like a call to a known tool. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .openai_compat import ToolCall

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)


def _balanced_objects(text: str) -> list[str]:
    """Top-level `{...}` spans, respecting strings and escapes."""
    spans, depth, start, in_str, escape = [], 0, -1, False, False
    for i, ch in enumerate(text):
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"' and depth > 0:
            in_str = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start : i + 1])
    return spans


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object in fenced blocks, else bare in the text; invalid ones are skipped."""
    blocks = _FENCE.findall(text)
    candidates = [span for block in blocks for span in _balanced_objects(block)] if blocks else _balanced_objects(text)
    found = []
    for raw in candidates:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def _as_call(obj: dict[str, Any], tools: set[str]) -> tuple[str, dict[str, Any]] | None:
    if isinstance(obj.get("function"), dict):
        obj = obj["function"]
    action = obj.get("action")
    if action == "update_plan" and "update_plan" in tools:
        return "update_plan", {k: v for k, v in obj.items() if k != "action"}
    name = obj.get("name") or obj.get("tool")
    args = obj.get("arguments", obj.get("args", obj.get("parameters", {})))
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return None
    if isinstance(name, str) and name in tools and isinstance(args, dict) and action in (None, "tool"):
        return name, args
    return None


def tool_calls_in(text: str, tools: set[str]) -> list[ToolCall]:
    calls = []
    for i, obj in enumerate(json_objects(text)):
        parsed = _as_call(obj, tools)
        if parsed:
            calls.append(ToolCall(id=f"call_text_{i}", name=parsed[0], arguments=json.dumps(parsed[1])))
    return calls
