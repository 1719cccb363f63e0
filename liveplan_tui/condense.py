"""Pure condensation logic: where to cut, what to mask, and the fallback summary.

The plan is not here on purpose: it lives in the system prompt, rebuilt on
every call, so nothing below can drop or contradict it. Messages are cut only
at the start of a unit (a user or assistant message with the tool results
that answer it), so no tool result is orphaned and no tool call unanswered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from . import jsonsafe

Message = dict[str, Any]
MASK_MIN_TOKENS = 200
SUMMARY_HEADER = "Earlier conversation (condensed; the current plan above is authoritative for step statuses):"


def units(messages: Sequence[Message]) -> list[tuple[int, int]]:
    """(start, end) index ranges: each non-tool message with the tool messages after it."""
    spans: list[tuple[int, int]] = []
    for i, msg in enumerate(messages):
        if msg.get("role") == "tool" and spans:
            spans[-1] = (spans[-1][0], i + 1)
        else:
            spans.append((i, i + 1))
    return spans


def split_point(messages: Sequence[Message], counts: Sequence[int], keep_budget: int) -> int:
    """Index where the kept (recent) part starts: whole units, newest first, within budget.

    The newest unit is always kept, even over budget.
    """
    spans = units(messages)
    if not spans:
        return 0
    kept = 0
    start = spans[-1][0]
    for s, e in reversed(spans):
        size = sum(counts[s:e])
        if kept and kept + size > keep_budget:
            break
        kept += size
        start = s
    return start


def is_consistent(messages: Sequence[Message]) -> bool:
    """No tool result without its call before it, and every call answered before the next turn."""
    pending: set[str] = set()
    for msg in messages:
        role = msg.get("role")
        if role == "tool":
            if msg.get("tool_call_id") not in pending:
                return False
            pending.discard(msg["tool_call_id"])
        else:
            if pending:
                return False
            if role == "assistant":
                pending = {c["id"] for c in msg.get("tool_calls") or ()}
    return not pending


def mask_tool_outputs(
    messages: Sequence[Message], counts: Sequence[int], upto: int, min_tokens: int = MASK_MIN_TOKENS
) -> tuple[list[Message], int]:
    """Replace big tool results before `upto` with a one-line stub; returns (messages, how many)."""
    out: list[Message] = []
    masked = 0
    for i, msg in enumerate(messages):
        if (
            i < upto
            and msg.get("role") == "tool"
            and counts[i] >= min_tokens
            and not str(msg.get("content", "")).startswith("[masked")
        ):
            content = str(msg.get("content", ""))
            first = content.splitlines()[0][:80] if content else ""
            msg = {
                **msg,
                "content": f"[masked old tool output: {len(content):,} chars, ~{counts[i]:,} tokens; began: {first}]",
            }
            masked += 1
        out.append(msg)
    return out, masked


def _text(msg: Message) -> str:
    content = msg.get("content")
    return content if isinstance(content, str) else ""


def transcript(messages: Sequence[Message], limit: int = 1500) -> str:
    """A compact rendering of messages for the summarizer, each clipped."""
    lines = []
    for msg in messages:
        role = msg.get("role", "?")
        body = _text(msg)
        for call in msg.get("tool_calls") or ():
            fn = call.get("function", {})
            body += f"\n→ {fn.get('name')}({fn.get('arguments', '')[:200]})"
        body = body.strip()
        if len(body) > limit:
            body = body[:limit] + " …"
        lines.append(f"[{role}] {body}")
    return "\n".join(lines)


def _first_text_argument(name: str, args: dict[str, Any]) -> str:
    return next((v for v in args.values() if isinstance(v, str)), "")


def fallback_summary(
    old: Sequence[Message],
    previous: str = "",
    max_chars: int = 2400,
    target: Callable[[str, dict[str, Any]], str] = _first_text_argument,
) -> str:
    """A deterministic summary for when the LLM summary fails: requests, tools used, answers.

    `target(name, args)` names what a call acted on; the tools say it themselves (ToolRegistry.target).
    """
    requests = [_text(m).strip().replace("\n", " ")[:200] for m in old if m.get("role") == "user" and _text(m).strip()]
    tools: list[str] = []
    for m in old:
        for call in m.get("tool_calls") or ():
            fn = call.get("function", {})
            try:
                args = jsonsafe.loads(fn.get("arguments") or "{}")
            except json.JSONDecodeError:
                args = {}
            what = target(str(fn.get("name")), args) if isinstance(args, dict) else ""
            tools.append(f"{fn.get('name')} {what}".strip()[:100])
    answers = [_text(m).strip().splitlines()[0][:200] for m in old if m.get("role") == "assistant" and _text(m).strip()]
    parts = []
    if previous:
        parts.append(previous.strip())
    if requests:
        parts.append("User asked: " + " | ".join(requests[-6:]))
    if tools:
        parts.append("Tools used: " + "; ".join(dict.fromkeys(tools[-15:])))
    if answers:
        parts.append("Assistant said: " + " | ".join(answers[-4:]))
    text = "\n".join(parts) or "(earlier messages had no text)"
    return text if len(text) <= max_chars else text[:max_chars] + " …"


def recent_user_requests(old: Sequence[Message], keep: int = 3) -> list[str]:
    """The user's own words from the condensed part, kept verbatim in the summary."""
    return [_text(m).strip() for m in old if m.get("role") == "user" and _text(m).strip()][-keep:]


def last_user_request(record: Sequence[Message]) -> str:
    """The user's latest words, from the full record (which condensation never touches)."""
    for msg in reversed(record):
        if msg.get("role") == "user" and _text(msg).strip():
            return _text(msg)
    return ""


def request_messages(messages: Sequence[Message], task: str) -> list[Message]:
    """The conversation as strict chat templates accept it, whatever condensation left.

    Qwen3's template wants a user message ("No user query found in messages"), and Mistral's
    wants user and assistant to alternate. So the user's task leads when condensation cut it
    away, and neighbours of one role with plain text are joined.
    """
    out: list[Message] = []
    if not any(m.get("role") == "user" for m in messages) or (messages and messages[0].get("role") != "user"):
        out.append({"role": "user", "content": task or "Continue with the task."})
    return extend_request(out, messages)


def extend_request(out: list[Message], messages: Sequence[Message]) -> list[Message]:
    """`out` with `messages` appended, joining plain neighbours of one role (in place, and returned)."""
    for msg in messages:
        role = msg.get("role")
        prev = out[-1] if out else None
        mergeable = role in ("user", "assistant") and not msg.get("tool_calls")
        if prev is not None and mergeable and prev.get("role") == role and not prev.get("tool_calls"):
            out[-1] = {**prev, "content": f"{_text(prev)}\n\n{_text(msg)}".strip()}
        else:
            out.append(msg)
    return out
