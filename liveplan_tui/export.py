"""A readable Markdown transcript of a session, with its plan."""

from __future__ import annotations

import json
import time

from . import jsonsafe
from .plan import STATUS_TABLE
from .store import SavedSession


def _fence(text: str) -> str:
    ticks = "````" if "```" in text else "```"
    return f"{ticks}\n{text.rstrip()}\n{ticks}"


def export_markdown(saved: SavedSession) -> str:
    info = saved.info
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created))
    out = [f"# {info.title}", "", f"- session `{info.id}`, started {when}", f"- model: {info.model}", ""]
    plans = [*saved.board.archived, *([saved.board.active] if not saved.board.active.is_empty else [])]
    if plans:
        out += ["## Plan", ""]
        for plan in plans:
            state = "finished" if plan.is_finished else "in progress"
            out += [f"**{plan.goal or 'Plan'}** ({state}, {plan.progress()})", ""]
            for depth, step in plan.rows():
                result = f" → {step.result}" if step.result else ""
                badge = f" [{step.badge}]" if step.badge else ""
                record = f" ({step.shown_evidence})" if step.shown_evidence else ""
                mark = STATUS_TABLE[step.status].ascii
                out.append(f"{'  ' * depth}- {mark} {step.key}. {step.description}{badge}{record}{result}")
            out.append("")
    out += ["## Transcript", ""]
    for msg in saved.record:
        role = msg.get("role")
        raw = msg.get("content")
        content = raw if isinstance(raw, str) else ""
        if role == "user":
            out += ["### You", "", content, ""]
        elif role == "assistant":
            if content:
                out += ["### LivePlan", "", content, ""]
            for call in msg.get("tool_calls") or ():
                fn = call.get("function", {})
                try:
                    args = json.dumps(jsonsafe.loads(fn.get("arguments") or "{}"), ensure_ascii=False)
                except json.JSONDecodeError:
                    args = fn.get("arguments", "")
                out += [f"- tool `{fn.get('name')}` {args}"]
        elif role == "tool":
            short = content if len(content) <= 2000 else content[:2000] + "\n…"
            out += ["<details><summary>result</summary>", "", _fence(short), "", "</details>", ""]
    return "\n".join(out).rstrip() + "\n"
