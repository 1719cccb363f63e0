"""The one base of LivePlan's own errors, so front-ends catch them by type (a leaf: it imports nothing).

Each is a failure the user can act on, with a one-line message that names the fix; anything else that
escapes is a bug and is shown as one.
"""

from __future__ import annotations


class LivePlanError(Exception):
    """A failure with a one-line, actionable message; `exit_code` is what the CLI exits with."""

    exit_code = 1


class SessionBusy(LivePlanError):
    """Asked of a session while a turn runs, for something that must wait until the turn ends."""
