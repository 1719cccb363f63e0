"""The text tool protocol, for a server that refuses the `tools` field. Pure: no I/O.

Some servers cannot take tool definitions for some models: vLLM started without
`--enable-auto-tool-choice`, llama-server without `--jinja`, Ollama and LM Studio
models whose template has no tools. The request then carries the tools as text
in the system prompt and the model writes its calls as `<tool_call>` JSON,
which every engine already reads (`json_actions`). The history is sent the same
way: the calls the model made as the text it would write, and their results as
user messages, since templates without tools drop or reject `tool` messages,
and some insist that user and assistant turns alternate.
"""

from __future__ import annotations

import json
from typing import Any

from ..prompts import load

RESULT_HEAD = "Tool result"


def describe(tools: list[dict[str, Any]]) -> str:
    """The protocol and one line per tool: its name, what it does and its arguments' schema."""
    lines = []
    for spec in tools:
        fn = spec.get("function", spec)
        schema = json.dumps(fn.get("parameters") or {"type": "object"}, separators=(",", ":"))
        lines.append(f"- {fn.get('name', '?')}: {fn.get('description', '').strip()}\n  arguments: {schema}")
    return load("text_tools.md") + "\n" + "\n".join(lines)


def _call_text(call: dict[str, Any]) -> str:
    fn = call.get("function") or {}
    try:
        arguments = json.loads(fn.get("arguments") or "{}")
    except json.JSONDecodeError:
        arguments = {}
    return f"<tool_call>{json.dumps({'name': fn.get('name', ''), 'arguments': arguments})}</tool_call>"


def _as_text(message: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """One message of the history as a server without tools reads it."""
    role = message.get("role")
    if role == "assistant" and message.get("tool_calls"):
        for call in message["tool_calls"]:
            names[call.get("id", "")] = (call.get("function") or {}).get("name", "")
        calls = "\n".join(_call_text(c) for c in message["tool_calls"])
        said = message.get("content") or ""
        return {"role": "assistant", "content": f"{said}\n{calls}" if said else calls}
    if role == "tool":
        name = names.get(message.get("tool_call_id", ""), "the tool")
        return {"role": "user", "content": f"{RESULT_HEAD} ({name}):\n{message.get('content') or ''}"}
    return message


def as_text_request(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The request's messages with the tools described in the system prompt and the history written as text."""
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for message in messages:
        message = _as_text(message, names)
        previous = out[-1] if out else None
        if previous and previous["role"] == message["role"] == "user" and isinstance(previous.get("content"), str):
            out[-1] = {"role": "user", "content": f"{previous['content']}\n\n{message.get('content') or ''}"}
        else:
            out.append(message)
    described = describe(tools)
    if out and out[0].get("role") == "system":
        out[0] = {**out[0], "content": f"{out[0].get('content') or ''}\n\n{described}"}
    else:
        out.insert(0, {"role": "system", "content": described})
    return out


def switch_notice(refusal: str, model: str) -> str:
    """What the user is told once: the server's refusal, what LivePlan does now, and how to get native calls."""
    said = refusal.lower()
    if "auto-tool-choice" in said or "tool choice requires" in said:
        fix = "start vLLM with --enable-auto-tool-choice and a --tool-call-parser for this model"
    elif "jinja" in said:
        fix = "start llama-server with --jinja"
    else:
        fix = f"use a model whose chat template supports tools, or a server that gives {model!r} one"
    return (
        f"{refusal}. LivePlan now describes its tools in the prompt and reads the calls {model!r} writes, "
        f"for the rest of this session; for native tool calls, {fix}"
    )
