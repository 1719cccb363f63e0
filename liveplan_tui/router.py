"""The three-level task router: pre-filter, LLM classifier, keyword fallback.

Level 1 decides only the obvious `direct` cases (greetings, thanks, one-line
questions, a short request naming one file or symbol), with no LLM call.
Level 2 is one small tool-less call whose JSON answer must be valid, or it
counts as a failure. Level 3 always answers, from scope words, multi-step
connectives, action verbs and length. Everything here but `route` is pure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from . import jsonsafe

Strategy = Literal["direct", "plan", "plan_and_subagent"]
STRATEGIES: tuple[str, ...] = ("direct", "plan", "plan_and_subagent")
GREETING_REASON = "a greeting or thanks"


class RouteDecision(BaseModel):
    strategy: Strategy
    level: Literal["prefilter", "llm", "keyword"]
    reason: str


CLASSIFIER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"strategy": {"type": "string", "enum": list(STRATEGIES)}, "reason": {"type": "string"}},
    "required": ["strategy", "reason"],
    "additionalProperties": False,
}

_GREETING = re.compile(
    r"^(hi|hello|hey|yo|howdy|hiya|thanks|thank you|thx|ty|cheers|good (morning|afternoon|evening)|ok(ay)?|cool|great|nice|bye)\b",  # noqa: E501
    re.I,
)
# Words that widen the scope from one place to many.
_SWEEP = re.compile(
    r"\b(all|every|each)\s+(the\s+)?(files?|modules?|packages?|functions?|classes|endpoints?|tests?|components?|services?|"
    r"source files?|python files?|places?|occurrences?|call ?sites?)\b"
    r"|\b(entire|whole)\s+(project|repo|repository|codebase|code ?base|app|application|package|module)\b"
    r"|\b(codebase|code base|project-wide|repo-wide|repository-wide|everywhere|throughout)\b"
    r"|\bacross\s+(the\s+)?(project|repo|repository|codebase|code base|modules|files|services|packages)\b",
    re.I,
)
_HEAVY = re.compile(
    r"\b(refactor\w*|migrat\w*|rewrit\w*|port(ing)?\s+\w+\s+to|overhaul\w*|restructur\w*|moderni[sz]\w*)\b", re.I
)
_CONNECTIVES = re.compile(
    r"\b(then|after that|afterwards|and finally|finally|first|next|once that|followed by|as well as|also)\b|;|\n\s*(\d+[.)]|[-*])\s",  # noqa: E501
    re.I,
)
_VERBS = re.compile(
    r"\b(add|write|create|implement|build|fix|update|change|remove|delete|rename|move|test|run|document|deploy|"
    r"configure|set up|install|design|refactor|migrate|optimi[sz]e|debug|review|convert|extract|replace|integrate|"
    r"generate|profile|benchmark|upgrade|validate|parse|show|explain|compare)\b",
    re.I,
)
_FEATURE = re.compile(
    r"\b(implement|build|create|add|develop|design|set up)\b.*\b(feature|endpoint|api|service|server|system|"
    r"integration|authentication|auth|login|pipeline|dashboard|cli|tool|app|application|plugin|database|schema|cache)\b",
    re.I,
)
_PATH = re.compile(
    r"(?:[\w.-]+/)+[\w.-]+|\b[\w-]+\.(?:py|js|ts|tsx|jsx|go|rs|rb|java|kt|c|cc|cpp|h|hpp|cs|md|txt|toml|ya?ml|json|ini|cfg|sh|sql|html|css)\b"
)
_SYMBOL = re.compile(r"`[^`]+`|\b\w+\(\)|\b[a-z]+_[a-z0-9_]+\b|\b[A-Z][a-z]+[A-Z]\w*\b")


def _words(message: str) -> list[str]:
    return re.findall(r"[\w'./()-]+", message)


def _signals(message: str) -> tuple[int, int, int, int]:
    """(sweep, heavy, connectives, distinct verbs) counts."""
    verbs = {m.group(0).lower() for m in _VERBS.finditer(message)}
    return (
        len(_SWEEP.findall(message)),
        len(_HEAVY.findall(message)),
        len(_CONNECTIVES.findall(message)),
        len(verbs),
    )


def prefilter(message: str) -> RouteDecision | None:
    """Decide `direct` without an LLM when the request is obviously small; else pass (None)."""
    text = message.strip()
    words = _words(text)
    if not text:
        return RouteDecision(strategy="direct", level="prefilter", reason="empty message")
    sweep, heavy, connectives, verbs = _signals(text)
    if sweep or heavy or connectives or "\n" in text:
        return None
    if _GREETING.match(text) and len(words) <= 6:
        return RouteDecision(strategy="direct", level="prefilter", reason=GREETING_REASON)
    if text.endswith("?") and len(words) <= 15 and verbs <= 1:
        return RouteDecision(strategy="direct", level="prefilter", reason="a one-line question")
    if len(words) <= 10 and verbs <= 1 and (_PATH.search(text) or _SYMBOL.search(text)):
        return RouteDecision(strategy="direct", level="prefilter", reason="a short request about one file or symbol")
    return None


def keyword_route(message: str) -> RouteDecision:
    """The last level: always answers, from scope, steps and size."""
    text = message.strip()
    sweep, heavy, connectives, verbs = _signals(text)
    words = len(_words(text))
    if sweep:
        return RouteDecision(
            strategy="plan_and_subagent", level="keyword", reason="project-wide scope: one subagent per part"
        )
    if heavy and words > 12:
        return RouteDecision(strategy="plan_and_subagent", level="keyword", reason="a large refactor or migration")
    if verbs >= 2 or connectives >= 2 or words > 40:
        return RouteDecision(strategy="plan", level="keyword", reason="several steps")
    if heavy or (_FEATURE.search(text) and words >= 6):
        return RouteDecision(strategy="plan", level="keyword", reason="a feature-sized change")
    return RouteDecision(strategy="direct", level="keyword", reason="a single, small request")


def parse_classifier(content: str) -> RouteDecision | None:
    """The classifier's JSON answer, or None when it is not exactly valid."""
    try:
        data = jsonsafe.loads(content.strip())
    except (json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(data, dict) or data.get("strategy") not in STRATEGIES:
        return None
    reason = data.get("reason")
    try:
        return RouteDecision(
            strategy=data["strategy"],
            level="llm",
            reason=reason.strip() if isinstance(reason, str) and reason.strip() else "classifier",
        )
    except ValidationError:
        return None


Classifier = Callable[[str], Awaitable[str]]


async def route(message: str, classify: Classifier | None = None) -> tuple[RouteDecision, str | None]:
    """Route a message; also return why the LLM level was skipped or failed, if it was."""
    decided = prefilter(message)
    if decided is not None:
        return decided, None
    if classify is None:
        return keyword_route(message), "LLM level skipped"
    try:
        content = await classify(message)
    except Exception as exc:  # any classifier failure (timeout, HTTP, transport) falls through to keywords
        return keyword_route(message), f"LLM classifier failed: {getattr(exc, 'message', None) or type(exc).__name__}"
    decided = parse_classifier(content)
    if decided is None:
        return keyword_route(message), "LLM classifier gave an invalid answer"
    return decided, None
