"""The LLM client's own small vocabulary: what it is given, what it streams, how it fails.

The client knows nothing of the app's events or settings; the agent relays
these items into events (see `agent/turn.py`). `ErrorKind` is the closed set of
failure kinds, shared with the `error` event, so a retryable failure stays
retryable from the SDK to strict mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, SecretStr

from ..errors import LivePlanError
from ..redact import redact

ErrorKind = Literal[
    # from the model endpoint
    "auth",
    "not_found",
    "quota",
    "rate_limit",
    "context_length",
    "bad_request",
    "server",
    "http",
    "timeout",
    "connection",
    "stream",
    "not_openai",
    "unsupported",
    "bad_response",
    "empty_reply",
    "truncated",
    # from the agent
    "max_iterations",
    "no_plan",
    "strict_failed",
    "step_open",
    "budget",
]
OPENAI_BASE_URL = "https://api.openai.com/v1"
RETRYABLE_KINDS: frozenset[str] = frozenset({"rate_limit", "server", "timeout", "connection", "stream"})


class Endpoint(BaseModel):
    """Where requests go; `api_key` is the only place the key lives after resolution."""

    base_url: str | None
    model: str
    api_key: SecretStr | None
    key_withheld: bool = False
    local: bool = False

    @property
    def url(self) -> str:
        """Where requests go, and what every message names: the base URL, or OpenAI's when none is set."""
        return self.base_url or OPENAI_BASE_URL

    @property
    def label(self) -> str:
        if self.local:
            return f"local · {self.model}"
        host = urlparse(self.base_url).netloc if self.base_url else "api.openai.com"
        return f"{host} · {self.model}"


@dataclass(frozen=True)
class ClientOptions:
    """The slice of the settings a client needs."""

    retry_budget: float = 10.0
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 120.0
    temperature: float | None = None
    stream: bool = True  # false for servers that can't stream with tools (older llama-server, llama-cpp-python)


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass
class Completion:
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None  # prompt_tokens_details.cached_tokens, where a server sends it
    reasoning: str = ""  # thinking, kept out of `content` (reasoning_content, reasoning, <think> blocks)


@dataclass(frozen=True)
class TextChunk:
    """A piece of the reply as it streams."""

    text: str


@dataclass(frozen=True)
class StreamRestart:
    """The text streamed so far is void: the stream was cut and is tried again."""

    reason: str


@dataclass(frozen=True)
class RetryNotice:
    """A failed attempt that will be retried after `delay` seconds."""

    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True)
class SwitchNotice:
    """The client changed how it talks to this endpoint for the rest of the session (said once, with the fix)."""

    feature: str
    message: str


StreamItem = TextChunk | StreamRestart | RetryNotice | SwitchNotice | Completion


class LLMError(LivePlanError):
    """A failed model call, with a one-line message that names the fix."""

    def __init__(
        self, kind: ErrorKind, message: str, *, retryable: bool | None = None, retry_after: float | None = None
    ):
        message = redact(message)  # server error bodies may echo keys or credentials back
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.retryable = kind in RETRYABLE_KINDS if retryable is None else retryable
        self.retry_after = retry_after
        self.window: int | None = None  # the real context window, when an overflow error names it
        self.unsupported: str | None = None  # what a server refused (see errors.UNSUPPORTED)
