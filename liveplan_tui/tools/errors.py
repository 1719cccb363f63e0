"""Errors the tools raise for the model to act on (a leaf module, so every tool module can use it)."""

from __future__ import annotations


class ToolError(Exception):
    """A tool refused or failed in a way the model can fix; the message is its `error:` text."""
