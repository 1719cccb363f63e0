"""Errors the tools raise for the model to act on (a leaf module, so every tool module can use it)."""

from __future__ import annotations

from ..errors import LivePlanError


class ToolError(LivePlanError):
    """A tool refused or failed in a way the model can fix; the message is its `error:` text."""
