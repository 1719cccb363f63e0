"""Helpers for driving the Textual app in tests and the screenshot script."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from liveplan_tui.agent.session import Session as Agent
from liveplan_tui.config import load_settings, resolve_endpoint
from liveplan_tui.ui.app import LivePlanApp
from liveplan_tui.ui.widgets.chat import ToolBlock


def make_app(base_url: str, workspace: Path | None = None, **settings) -> LivePlanApp:
    kw = dict(base_url=base_url, model="fake-model")
    if workspace is not None:
        kw["workspace"] = str(workspace)
    kw.update(settings)
    s = load_settings(**kw)
    keymap = s.keymap
    return LivePlanApp(
        lambda approver, reviewer: Agent(s, resolve_endpoint(s), approver=approver, plan_reviewer=reviewer),
        keymap=keymap,
    )


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


async def started(pilot) -> None:
    """The app draws first and builds its session after; tests that read the session wait for it."""
    await wait_for(pilot, lambda: pilot.app.ready)


async def submit(pilot, text: str) -> None:
    """Type `text` and press Enter; returns once the prompt has sent it (Enter submits after the keys queued
    before it, so the turn starts a moment after the key)."""
    pilot.app.prompt.load_text(text)
    await pilot.press("enter")
    if text.strip():
        await wait_for(pilot, lambda: pilot.app.prompt.text == "")


def chat_text(app: LivePlanApp) -> str:
    parts = []
    for block in app.chat.children:
        if hasattr(block, "text") and isinstance(block.text, str) and block.has_class("assistant"):
            parts.append(block.text)
        elif isinstance(block, ToolBlock):
            parts.append(block.title)
        else:
            parts.append(str(block.render()))
    return "\n".join(parts)
