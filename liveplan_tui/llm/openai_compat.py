"""One client for every OpenAI-compatible endpoint, through the real `openai` SDK.

We own the retry policy instead of the SDK's: one call gets a bounded time
budget (default 10 s) across 429, 5xx, connection errors and streams cut
mid-way, so an unreachable endpoint fails in seconds, and a cut stream is
retried whole; its partial text is voided with a StreamRestart item and its
partial tool calls are never run.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import ssl
import sys
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any
from urllib.parse import urlparse

from .. import jsonsafe
from ..redact import redact
from .assemble import Assembler, ReplyTooLong, completion_from_response
from .base import (
    ClientOptions,
    Completion,
    Endpoint,
    LLMError,
    RetryNotice,
    StreamItem,
    StreamRestart,
    SwitchNotice,
    TextChunk,
    ToolCall,
)
from .errors import classify_error, classify_stream_error
from .sse import Frame, SseDecoder, error_in, payloads
from .text_tools import as_text_request, switch_notice

NO_KEY = "sk-no-key-configured"
__all__ = ["ChatClient", "ClientOptions", "Completion", "Endpoint", "LLMError", "ToolCall", "classify_error"]


def sdk() -> Any:
    """The `openai` package, imported on first use: it is the largest import LivePlan has, and a TUI that draws
    first, or a command that fails early, should not wait for it.

    The SDK tries to import `aiohttp` for an optional transport LivePlan never uses. It is installed beside us
    (textual-serve needs it), and importing it is a sixth of the SDK's import, so it is hidden while the SDK loads
    and importable again afterwards, for whatever else in the process wants it."""
    if "openai" in sys.modules or "aiohttp" in sys.modules:
        import openai

        return openai
    sys.modules["aiohttp"] = None  # type: ignore[assignment]  # `import aiohttp` raises ImportError meanwhile
    try:
        import openai
    except ImportError:  # an SDK that needs it after all: imported as it is, below
        pass
    finally:
        del sys.modules["aiohttp"]
    import openai

    return openai


def is_loopback(url: str | None) -> bool:
    """127.0.0.0/8, ::1 and localhost: never sent through HTTP_PROXY (the embedded model, a local Ollama)."""
    return loopback_host((urlparse(url).hostname or "") if url else "")


def loopback_host(host: str) -> bool:
    """A host name or address that stays on this machine."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_for(url: str | None) -> ssl.SSLContext | bool:
    """The system's trust store for https; for a plain-http endpoint (Ollama, llama-server, vLLM, the embedded
    model) a context that trusts nothing: loading the trust store costs ~20 ms of every start, and if such
    an endpoint ever redirects to https, the request fails closed instead of trusting the new host blindly."""
    if url is not None and url.lower().startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


class ChatClient:
    """Streaming chat completions with bounded retries, for one endpoint."""

    def __init__(self, endpoint: Endpoint, options: ClientOptions):
        self.endpoint = endpoint
        self.options = options
        self.refused: set[str] = set() if options.stream else {"stream_tools"}  # learned once, kept for the session
        self.seen_ids: set[str] = set()  # tool-call ids of this session, so a repeated one is replaced
        self.on_refusal: Callable[[str], None] | None = None  # told each feature the server refuses, once
        self.calls = 0  # model calls made (a goal's budget counts them)
        self.call_limit: int | None = None  # no call past this count (a goal's --max-calls), even mid-turn
        key = endpoint.api_key.get_secret_value() if endpoint.api_key else NO_KEY
        openai = sdk()
        timeout = openai.Timeout(options.read_timeout, connect=options.connect_timeout)
        self._client = openai.AsyncOpenAI(
            api_key=key,
            base_url=endpoint.url,
            max_retries=0,
            timeout=timeout,
            http_client=openai.DefaultAsyncHttpxClient(
                timeout=timeout, trust_env=not is_loopback(endpoint.base_url), verify=tls_for(endpoint.base_url)
            ),
        )

    def use(self, endpoint: Endpoint) -> None:
        """Talk to another model on this endpoint: what the server refuses stays known, what the model
        refused (tools, where its template has none) is learned again."""
        if endpoint.model != self.endpoint.model:
            self.refused.discard("tools")
        self.endpoint = endpoint

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
        if started and not isinstance(exc, sdk().APIStatusError):
            where = self.endpoint.url
            return LLMError("stream", f"the stream from {where} was cut mid-way", retryable=True)
        err = classify_error(exc, self.endpoint)
        if self.endpoint.api_key is not None:
            err.message = redact(err.message, [self.endpoint.api_key.get_secret_value()])
        return err

    def _check_content_type(self, raw: Any) -> str:
        """A web page where an API should be (a wrong base URL, a login portal) fails at once, not after retries."""
        kind = raw.headers.get("content-type", "") if raw is not None else ""
        if kind.startswith("text/html"):
            where = self.endpoint.url
            raise LLMError(
                "not_openai",
                f"{where} answered with a web page (text/html), not an OpenAI-compatible endpoint: "
                "check --base-url (it usually ends in /v1)",
            )
        return str(kind)

    def _request(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, extra: dict[str, Any]
    ) -> dict[str, Any]:
        """The request, less what this server has refused (learned once per session)."""
        if tools and "tools" in self.refused:
            messages, tools = as_text_request(messages, tools), None
            extra = {k: v for k, v in extra.items() if k not in ("tool_choice", "parallel_tool_calls")}
        kwargs: dict[str, Any] = dict(model=self.endpoint.model, messages=messages, stream=True)
        if "stream_options" not in self.refused:
            kwargs["stream_options"] = {"include_usage": True}
        if tools:
            kwargs["tools"] = tools
            if "stream_tools" in self.refused:
                kwargs["stream"] = False
                kwargs.pop("stream_options", None)
        if self.options.temperature is not None:
            kwargs["temperature"] = self.options.temperature
        kwargs.update(extra)
        if "tool_choice" in self.refused:
            kwargs.pop("tool_choice", None)
        return kwargs

    async def _once(self, kwargs: dict[str, Any]) -> AsyncIterator[StreamItem]:
        """One attempt: a streamed reply (or a whole one, where streaming was refused or not honoured)."""
        asm = Assembler()
        started = False
        try:
            if not kwargs.get("stream"):
                response = await self._client.chat.completions.with_raw_response.create(**kwargs)
                self._check_content_type(response.http_response)
                started = True
                async for item in self._whole(response.parse()):
                    yield item
                return
            async with self._client.chat.completions.with_streaming_response.create(**kwargs) as response:
                kind = self._check_content_type(response.http_response)
                started = True
                if kind.startswith("application/json"):  # a server that ignored `stream: true`
                    async for item in self._whole(self._json_body(await response.read())):
                        yield item
                    return
                async for item in self._frames(asm, response.iter_lines()):
                    yield item
        except (sdk().OpenAIError, OSError) as exc:
            raise self._error(exc, started) from None
        except LLMError:
            raise
        except Exception as exc:  # transport errors from the HTTP layer, e.g. a cut body
            if type(exc).__module__.split(".")[0] not in ("httpx", "httpx2", "httpcore", "httpcore2", "h11", "anyio"):
                raise
            raise self._error(exc, started) from None
        if asm.finish_reason is None and not asm.received:
            raise LLMError("stream", "the stream ended before the model said anything")
        yield asm.result(self.seen_ids)  # a [DONE] without finish_reason is a finished reply

    async def _whole(self, response: Any) -> AsyncIterator[StreamItem]:
        completion = completion_from_response(response, self.seen_ids)
        if completion.content:
            yield TextChunk(text=completion.content)
        yield completion

    async def _frames(self, asm: Assembler, lines: AsyncIterator[str]) -> AsyncIterator[StreamItem]:
        """The SSE body, frame by frame, up to `[DONE]`; the rest is read so the connection can be reused."""
        decoder, done = SseDecoder(), False
        async for line in lines:
            frame = decoder.line(line)
            if frame is None or done:
                continue
            done = frame.done
            for item in [] if done else self._frame_items(asm, frame):
                yield item
        frame = decoder.flush()
        if frame is not None and not done and not frame.done:
            for item in self._frame_items(asm, frame):
                yield item

    def _frame_items(self, asm: Assembler, frame: Frame) -> list[StreamItem]:
        items: list[StreamItem] = []
        for chunk in self._payloads(frame):
            text = self._feed(asm, chunk)
            if asm.restart:
                asm.restart = False
                items.append(StreamRestart(reason="the model's thinking is hidden; its answer follows"))
            if text:
                items.append(TextChunk(text=text))
        return items

    def _payloads(self, frame: Frame) -> list[Any]:
        """The chunks in one frame; an error the server sent inside the stream is raised as that error."""
        try:
            values = payloads(frame)
        except ValueError as exc:
            raise self._unreadable(exc) from None
        for value in values:
            if (error := error_in(frame, value)) is not None:
                raise classify_stream_error(error, self.endpoint)
        return values

    def _json_body(self, body: bytes) -> Any:
        try:
            return jsonsafe.loads(body)
        except ValueError as exc:
            raise self._unreadable(exc) from None

    def _unreadable(self, exc: Exception) -> LLMError:
        where = self.endpoint.url
        message = f"{where} sent a chunk LivePlan cannot read ({type(exc).__name__}: {exc})"
        return LLMError("bad_response", message)

    def _feed(self, asm: Assembler, chunk: Any) -> str:
        """One chunk; a shape nobody expected is one line, never a crash."""
        try:
            if not isinstance(chunk, dict):
                raise TypeError(f"a chunk is a JSON object, not {type(chunk).__name__}")
            return asm.feed(chunk)
        except ReplyTooLong as exc:
            raise LLMError(
                "truncated", f"{self.endpoint.url} kept streaming: {exc}, so LivePlan cut it there", retryable=False
            ) from None
        except (TypeError, AttributeError, ValueError, KeyError) as exc:
            raise self._unreadable(exc) from None

    async def stream(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        *,
        max_attempts: int | None = None,
        **extra: Any,
    ) -> AsyncIterator[StreamItem]:
        """Yield TextChunk / StreamRestart / RetryNotice items, then one Completion last.

        A server that refuses streaming with tools, `stream_options` or `tool_choice` gets the
        request once more without it, and that is remembered for the session. One that refuses
        the `tools` field gets them as text (`text_tools`), and that is said once.
        """
        if self.call_limit is not None and self.calls >= self.call_limit:
            raise LLMError("budget", f"the goal's budget of model calls is spent ({self.call_limit} in this session)")
        self.calls += 1
        while True:
            kwargs = self._request(messages, tools, extra)
            try:
                async for item in self._retrying(partial(self._once, kwargs), max_attempts):
                    yield item
                return
            except LLMError as err:
                feature = err.unsupported
                if err.kind != "unsupported" or feature is None or feature in self.refused:
                    raise
                if feature in ("stream_tools", "tools") and not tools:
                    raise
                self.refused.add(feature)
                if self.on_refusal is not None:
                    self.on_refusal(feature)
                if feature == "tools":
                    yield SwitchNotice(feature, switch_notice(err.message, self.endpoint.model))

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
