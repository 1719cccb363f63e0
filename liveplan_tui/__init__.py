"""LivePlan TUI: a terminal coding agent whose plan is live program state."""

__version__ = "0.1.0"
