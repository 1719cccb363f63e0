"""Tool calls written as text in the content, for every endpoint.

Small models answer with ```json {...}``` (or a bare object) instead of
`tool_calls`; Hermes/Qwen-family models behind a server with a mismatched
parser write `<tool_call>{"name": …, "arguments": …}</tool_call>`; Mistral's
write `[TOOL_CALLS][{…}]`. This finds every balanced JSON object in the text
and keeps those shaped like a call to a known tool. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .. import jsonsafe
from .assemble import new_call_id
from .base import ToolCall

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
            value = jsonsafe.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def call_of(obj: dict[str, Any], tools: set[str]) -> tuple[str, dict[str, Any]] | None:
    """(name, arguments) when `obj` is shaped like a call to one of `tools`: OpenAI's, Hermes', or a JSON action."""
    if isinstance(obj.get("function"), dict):
        obj = obj["function"]
    action = obj.get("action")
    if action == "update_plan" and "update_plan" in tools:
        return "update_plan", {k: v for k, v in obj.items() if k != "action"}
    name = obj.get("name") or obj.get("tool")
    args = obj.get("arguments", obj.get("args", obj.get("parameters", {})))
    if isinstance(args, str):
        try:
            args = jsonsafe.loads(args)
        except json.JSONDecodeError:
            return None
    if isinstance(name, str) and name in tools and isinstance(args, dict) and action in (None, "tool"):
        return name, args
    return None


_MARKUP = re.compile(r"</?tool_call>|\[/?TOOL_CALLS\]|```(?:json|JSON)?|<\|python_tag\|>", re.S)


def tool_calls_in(text: str, tools: set[str]) -> list[ToolCall]:
    """Calls to known tools written in `text`."""
    calls = []
    for obj in json_objects(text):
        parsed = call_of(obj, tools)
        if parsed:
            calls.append(ToolCall(id=new_call_id(), name=parsed[0], arguments=json.dumps(parsed[1])))
    return calls


def only_a_call(text: str) -> ToolCall | None:
    """The call, when a reply is nothing but one JSON object shaped like a tool call (known tool or not).

    Such a reply is never an answer: an unknown tool gets an `unknown tool` result the model can act on.
    """
    bare = _MARKUP.sub("", text).strip().strip("[]").strip()
    if not bare.startswith("{") or not bare.endswith("}"):
        return None
    objects = json_objects(bare)
    if len(objects) != 1:
        return None
    obj = objects[0]
    obj = obj["function"] if isinstance(obj.get("function"), dict) else obj
    name, args = obj.get("name"), obj.get("arguments", obj.get("parameters"))
    if not isinstance(name, str) or not isinstance(args, dict | str):
        return None
    return ToolCall(id=new_call_id(), name=name, arguments=args if isinstance(args, str) else json.dumps(args))
