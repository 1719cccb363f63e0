"""The three ways of running a turn, as strategies over a `TurnContext`.

- guided (`react.py`): the ReAct loop; the model follows and updates the plan;
- strict (`strict.py`): the model plans, our code walks the steps with subagents;
- structured (`structured.py`): small models; the harness owns the plan's moves.

Strict and structured are imported with their first turn: a one-shot `exec` of a plain question needs neither.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ...events import Route
from ...router import GREETING_REASON
from ..turn import TurnContext, TurnOutcome
from .react import run_guided

Engine = Callable[[TurnContext, str], Awaitable[TurnOutcome]]  # pushes events through ctx.emit, returns how it ended


async def run_strict(ctx: TurnContext, text: str) -> TurnOutcome:
    from .strict import Orchestrator

    return await Orchestrator(ctx).run(text)


async def run_structured(ctx: TurnContext, text: str) -> TurnOutcome:
    from .structured import StructuredTurn

    return await StructuredTurn(ctx).run(text)


async def run_structured_chat(ctx: TurnContext, text: str) -> TurnOutcome:
    from .structured import StructuredTurn

    return await StructuredTurn(ctx).chat(text)


def pick(route: Route, *, structured: bool) -> Engine:
    """The engine for a routed turn."""
    if structured:
        small_talk = route.level == "prefilter" and route.reason == GREETING_REASON
        direct = route.level == "override" and route.strategy == "direct"
        return run_structured_chat if small_talk or direct else run_structured
    return run_strict if route.strategy == "plan_and_subagent" else run_guided


__all__ = ["Engine", "pick", "run_guided", "run_strict", "run_structured", "run_structured_chat"]
