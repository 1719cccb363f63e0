"""The closed sets of choices a flag or setting takes, and the config error: what the CLI parser needs.

Kept apart from `config.py` so parsing flags (and drawing the TUI) never waits for pydantic-settings.
"""

from __future__ import annotations

from typing import Literal, get_args

from .errors import LivePlanError

Approval = Literal["ask", "auto-edit", "never-ask"]
Mode = Literal["auto", "direct", "plan", "strict"]
ToolMode = Literal["auto", "native", "structured"]
Sandbox = Literal["workspace", "off"]
PlanApproval = Literal["ask", "auto"]
PlanReviewMode = Literal["off", "lint", "model"]
APPROVALS: tuple[str, ...] = get_args(Approval)
MODES: tuple[str, ...] = get_args(Mode)
TOOL_MODES: tuple[str, ...] = get_args(ToolMode)
SANDBOXES: tuple[str, ...] = get_args(Sandbox)
PLAN_APPROVALS: tuple[str, ...] = get_args(PlanApproval)
PLAN_REVIEWS: tuple[str, ...] = get_args(PlanReviewMode)


class ConfigError(LivePlanError):
    """A configuration problem, phrased as one actionable line; the CLI exits 2, as for a bad flag."""

    exit_code = 2
