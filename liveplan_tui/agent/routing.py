"""How a turn is routed: the mode override, or the router's three levels with our LLM classifier."""

from __future__ import annotations

from ..choices import Mode
from ..events import Route
from ..llm.openai_compat import ChatClient
from ..prompts import load
from ..router import CLASSIFIER_SCHEMA, Strategy, route

MODE_TO_STRATEGY: dict[str, Strategy] = {"direct": "direct", "plan": "plan", "strict": "plan_and_subagent"}


async def classify(llm: ChatClient, message: str, timeout: float) -> str:
    """The router's level 2: one small tool-less call with a JSON-schema answer."""
    fmt = {"type": "json_schema", "json_schema": {"name": "route", "schema": CLASSIFIER_SCHEMA, "strict": True}}
    messages = [{"role": "system", "content": load("router_rubric.md")}, {"role": "user", "content": message}]
    completion = await llm.complete(
        messages, timeout=timeout, max_attempts=1, response_format=fmt, max_tokens=120, temperature=0
    )
    return completion.content


async def decide(text: str, mode: Mode, llm: ChatClient | None, timeout: float) -> Route:
    """The route for `text`: the mode when one is set, else the router (with the classifier when `llm` is given)."""
    if mode != "auto":
        return Route(strategy=MODE_TO_STRATEGY[mode], level="override", reason=f"mode set to {mode}")

    async def level_two(message: str) -> str:
        assert llm is not None
        return await classify(llm, message, timeout)

    decision, note = await route(text, level_two if llm is not None else None)
    reason = f"{decision.reason} ({note})" if note and llm is not None else decision.reason
    return Route(strategy=decision.strategy, level=decision.level, reason=reason)
