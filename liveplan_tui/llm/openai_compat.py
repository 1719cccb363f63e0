"""One client for every OpenAI-compatible endpoint, through the real `openai` SDK.

We own the retry policy instead of the SDK's: one call gets a bounded time
budget (default 10 s) across 429, 5xx, connection errors and streams cut
mid-way, so an unreachable endpoint fails in seconds, and a cut stream is
retried whole; its partial text is voided with a StreamRestart item and its
partial tool calls are never run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import openai

from ..redact import redact
from .base import (
    ClientOptions,
    Completion,
    Endpoint,
    LLMError,
    RetryNotice,
    StreamItem,
    StreamRestart,
    TextChunk,
    ToolCall,
)

NO_KEY = "sk-no-key-configured"
__all__ = ["ChatClient", "ClientOptions", "Completion", "Endpoint", "LLMError", "ToolCall", "classify_error"]


def _body_error(exc: openai.APIStatusError) -> tuple[str, str]:
    """Return (code, message) from an error body of any of the usual shapes."""
    body: Any = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    if isinstance(body, dict):
        code = str(body.get("code") or body.get("type") or "")
        message = str(body.get("message") or exc.message)
        return code, message
    return "", str(body or exc.message)


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def classify_error(exc: BaseException, endpoint: Endpoint) -> LLMError:
    """Map SDK and transport errors to LLMError with an actionable message."""
    where = endpoint.base_url or "https://api.openai.com/v1"
    if isinstance(exc, openai.APIStatusError):
        code, detail = _body_error(exc)
        status = exc.status_code
        if status == 401:
            hint = "pass --api-key or set LIVEPLAN_API_KEY"
            if endpoint.key_withheld:
                hint += " (OPENAI_API_KEY is only sent to api.openai.com or to OPENAI_BASE_URL)"
            elif endpoint.base_url is None:
                hint = "check OPENAI_API_KEY or --api-key"
            return LLMError("auth", f"authentication failed at {where} (401): {hint}")
        if status == 403:
            return LLMError("auth", f"access denied at {where} (403): {detail}")
        if status == 404:
            return LLMError(
                "not_found",
                f"model {endpoint.model!r} not found at {where} (404): check --model / LIVEPLAN_MODEL, "
                "and that the base URL ends in /v1",
            )
        if status == 429:
            if code == "insufficient_quota":
                return LLMError("quota", f"quota exhausted at {where} (429): check your plan and billing")
            return LLMError(
                "rate_limit", f"rate limited by {where} (429)", retryable=True, retry_after=_retry_after(exc)
            )
        if status in (400, 413, 422):
            if "context_length" in code or "context length" in detail.lower() or "maximum context" in detail.lower():
                return LLMError("context_length", f"the prompt is larger than the model's context window: {detail}")
            return LLMError("bad_request", f"request rejected by {where} ({status}): {detail}")
        if status in (408, 409) or status >= 500:
            return LLMError(
                "server", f"server error at {where} ({status})", retryable=True, retry_after=_retry_after(exc)
            )
        return LLMError("http", f"unexpected reply from {where} ({status}): {detail}")
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("timeout", f"timed out waiting for {where}", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(
            "connection", f"cannot reach {where}: check --base-url and that the server is running", retryable=True
        )
    if isinstance(exc, openai.APIError):
        return LLMError("stream", f"the stream from {where} failed: {exc.message}", retryable=True)
    return LLMError("stream", f"the stream from {where} was cut ({type(exc).__name__})", retryable=True)


class _Assembler:
    """Joins streamed deltas; tool-call fragments arrive split across chunks."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.finish_reason: str | None = None
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None

    def feed(self, chunk: Any) -> str:
        if getattr(chunk, "usage", None):
            self.prompt_tokens = chunk.usage.prompt_tokens
            self.completion_tokens = chunk.usage.completion_tokens
        out = ""
        for choice in chunk.choices or ():
            delta = choice.delta
            if delta is not None:
                if delta.content:
                    out += delta.content
                for tc in delta.tool_calls or ():
                    slot = self.calls.setdefault(tc.index or 0, {"id": "", "name": "", "arguments": ""})
                    if tc.id:
                        slot["id"] = tc.id
                    fn = tc.function
                    if fn is not None:
                        if fn.name and fn.name != slot["name"]:
                            slot["name"] += fn.name
                        if fn.arguments:
                            slot["arguments"] += fn.arguments
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
        if out:
            self.text.append(out)
        return out

    def result(self) -> Completion:
        calls = [
            ToolCall(id=slot["id"] or f"call_{i}", name=slot["name"], arguments=slot["arguments"])
            for i, slot in sorted(self.calls.items())
        ]
        return Completion(
            content="".join(self.text),
            tool_calls=calls,
            finish_reason=self.finish_reason,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
        )


class ChatClient:
    """Streaming chat completions with bounded retries, for one endpoint."""

    def __init__(self, endpoint: Endpoint, options: ClientOptions):
        self.endpoint = endpoint
        self.options = options
        key = endpoint.api_key.get_secret_value() if endpoint.api_key else NO_KEY
        self._client = openai.AsyncOpenAI(
            api_key=key,
            base_url=endpoint.base_url or "https://api.openai.com/v1",
            max_retries=0,
            timeout=openai.Timeout(options.read_timeout, connect=options.connect_timeout),
        )

    async def close(self) -> None:
        await self._client.close()

    def _delay(self, attempt: int, err: LLMError) -> float:
        if err.retry_after is not None:
            return max(0.0, err.retry_after)
        base = 0.5 * (2 ** (attempt - 1))
        return base * (0.75 + random.random() / 2)

    async def _retrying(self, attempt_fn: Any, max_attempts: int | None = None) -> AsyncIterator[StreamItem]:
        """Run `attempt_fn()` (an async iterator) until it succeeds or the budget is spent."""
        budget = self.options.retry_budget
        limit = max_attempts or self.options.max_attempts
        deadline = time.monotonic() + budget
        attempt = 0
        while True:
            attempt += 1
            emitted = False
            try:
                async for item in attempt_fn():
                    emitted = emitted or isinstance(item, TextChunk)
                    yield item
                return
            except LLMError as err:
                refused = err.kind == "connection" and attempt >= 2
                delay = self._delay(attempt, err)
                if not err.retryable or attempt >= limit or refused or time.monotonic() + delay > deadline:
                    if err.retryable and attempt > 1:
                        err.message += f" (gave up after {attempt} attempts)"
                    raise err from None
                if emitted:
                    yield StreamRestart(reason=err.message)
                yield RetryNotice(attempt=attempt, delay=round(delay, 2), reason=err.message)
                await asyncio.sleep(delay)

    def _error(self, exc: BaseException, started: bool) -> LLMError:
        """Once the reply has begun, any transport failure is a cut stream, not an unreachable host."""
        if started and not isinstance(exc, openai.APIStatusError):
            where = self.endpoint.base_url or "https://api.openai.com/v1"
            return LLMError("stream", f"the stream from {where} was cut mid-way", retryable=True)
        err = classify_error(exc, self.endpoint)
        if self.endpoint.api_key is not None:
            err.message = redact(err.message, [self.endpoint.api_key.get_secret_value()])
        return err

    def _check_content_type(self, response: Any) -> None:
        """A web page where an API should be (a wrong base URL, a login portal) fails at once, not after retries."""
        raw = getattr(response, "response", None)
        kind = raw.headers.get("content-type", "") if raw is not None else ""
        if kind.startswith("text/html"):
            where = self.endpoint.base_url or "https://api.openai.com/v1"
            raise LLMError(
                "not_openai",
                f"{where} answered with a web page (text/html), not an OpenAI-compatible endpoint: "
                "check --base-url (it usually ends in /v1)",
            )

    async def stream(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        *,
        max_attempts: int | None = None,
        **extra: Any,
    ) -> AsyncIterator[StreamItem]:
        """Yield TextChunk / StreamRestart / RetryNotice items, then one Completion last."""

        async def once() -> AsyncIterator[Any]:
            kwargs: dict[str, Any] = dict(
                model=self.endpoint.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
            )
            if tools:
                kwargs["tools"] = tools
            if self.options.temperature is not None:
                kwargs["temperature"] = self.options.temperature
            kwargs.update(extra)
            asm = _Assembler()
            started = False
            try:
                response = await self._client.chat.completions.create(**kwargs)
                self._check_content_type(response)
                started = True
                async with response as stream:
                    async for chunk in stream:
                        text = asm.feed(chunk)
                        if text:
                            yield TextChunk(text=text)
            except (openai.OpenAIError, OSError) as exc:
                raise self._error(exc, started) from None
            except Exception as exc:  # transport errors from the HTTP layer, e.g. a cut body
                if type(exc).__module__.split(".")[0] not in ("httpx", "httpx2", "httpcore", "h11", "anyio"):
                    raise
                raise self._error(exc, started) from None
            if asm.finish_reason is None:
                raise LLMError("stream", "the stream ended before the model finished", retryable=True)
            yield asm.result()

        async for item in self._retrying(once, max_attempts):
            yield item

    async def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        timeout: float | None = None,
        max_attempts: int | None = None,
        **extra: Any,
    ) -> Completion:
        """A tool-less helper call (classifier, summary): the whole reply at once."""
        result: Completion | None = None

        async def run() -> None:
            nonlocal result
            async for item in self.stream(messages, max_attempts=max_attempts, **extra):
                if isinstance(item, Completion):
                    result = item

        try:
            await asyncio.wait_for(run(), timeout)
        except TimeoutError:
            raise LLMError("timeout", f"no answer within {timeout:g}s", retryable=True) from None
        assert result is not None
        return result
