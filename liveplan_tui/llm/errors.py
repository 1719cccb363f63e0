"""SDK and transport errors as LLMErrors, in every server's own words.

Context overflow is reported differently by each server (llama.cpp's
`exceed_context_size_error` and older "Context size has been exceeded",
llama-cpp-python's "Requested tokens (N) exceed context window of M", vLLM's
"maximum context length is M tokens", LM Studio's "context length of only M
tokens" and "n_keep (N) >= n_ctx (M)"). All are `context_length`, and the real
window is read from the message when it names one. Servers that refuse a
feature (streaming with tools, `stream_options`, `tool_choice`, the `tools`
field itself) are named, so the client can fall back once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import Endpoint, LLMError

if TYPE_CHECKING:  # the SDK is imported when the first error is classified, not at start-up
    import openai

OVERFLOW = re.compile(
    r"context[_ ]length|maximum context|context size|context window|exceed_context_size|n_keep|n_ctx"
    r"|too long and exceeds|prompt (is )?too long|context the overflows|exceeds? (the )?(max(imum)? )?context",
    re.I,
)
WINDOW = [
    re.compile(p, re.I)
    for p in (
        r"n_ctx\W{0,4}(\d+)",
        r"available context size \((\d+) tokens?\)",
        r"context window of (\d+)",
        r"maximum context length is (\d+)",
        r"context length of only (\d+)",
        r"exceeds limit of (\d+)",
        r"reached context length of (\d+)",
        r"context length \((\d+)\)",
        r"max(?:imum)?_?(?:model_)?len(?:gth)?\W{0,4}(\d+)",
    )
]
UNSUPPORTED = [
    ("stream_tools", re.compile(r"(tools?\b.*\bstream|stream\w*\b.*\btools?)\b", re.I)),
    ("stream_options", re.compile(r"stream_options", re.I)),
    ("tool_choice", re.compile(r"tool_choice", re.I)),
    (  # vLLM without --enable-auto-tool-choice, llama-server without --jinja, a model without a tool template
        "tools",
        re.compile(
            r"(does ?n[o']t|do ?n[o']t|cannot|can't) (support|handle|use) (tools|tool (calls|calling|use)|function"
            r" call)|(tools|tool (calls|calling|use)|function calling) (is |are )?(not |un)supported"
            r"|tool.choice requires|enable-auto-tool-choice|tools? param\w* requires",
            re.I,
        ),
    ),
]


def window_in(text: str, body: Any = None) -> int | None:
    """The context window a server names in an overflow error, if it names one."""
    if isinstance(body, dict) and isinstance(body.get("n_ctx"), int):
        return body["n_ctx"]
    for pattern in WINDOW:
        if match := pattern.search(text):
            value = int(match.group(1))
            if value >= 256:
                return value
    return None


def _described(body: Any, fallback: str) -> tuple[str, str, Any]:
    """(code, message, error object) from an error body of any of the usual shapes."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    if isinstance(body, dict):
        code = str(body.get("code") or body.get("type") or "")
        return code, str(body.get("message") or body.get("detail") or fallback), body
    if isinstance(body, str) and body.strip():
        return "", body.strip()[:500], body
    return "", fallback, body


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class _Refusal:
    """What a server said when it refused a request: the HTTP status (or the one an in-stream error names)."""

    status: int
    code: str
    detail: str
    body: Any
    retry_after: float | None = None


def _status_error(said: _Refusal, endpoint: Endpoint, where: str) -> LLMError:
    status, code, detail, body = said.status, said.code, said.detail, said.body
    words = f"{code} {detail}"
    if status == 401:
        hint = "pass --api-key or set LIVEPLAN_API_KEY"
        if endpoint.key_withheld:
            hint += " (OPENAI_API_KEY is only sent to api.openai.com or to OPENAI_BASE_URL)"
        elif endpoint.base_url is None:
            hint = "check OPENAI_API_KEY or --api-key"
        return LLMError("auth", f"authentication failed at {where} (401): {hint}")
    if status == 403:
        return LLMError("auth", f"access denied at {where} (403): {detail}")
    if status == 404 and not OVERFLOW.search(words):
        return LLMError(
            "not_found",
            f"model {endpoint.model!r} not found at {where} (404): check --model / LIVEPLAN_MODEL, "
            "and that the base URL ends in /v1",
        )
    if status == 429:
        if code == "insufficient_quota":
            return LLMError("quota", f"quota exhausted at {where} (429): check your plan and billing")
        return LLMError("rate_limit", f"rate limited by {where} (429)", retry_after=said.retry_after)
    if status in (400, 413, 422, 500) and OVERFLOW.search(words):
        err = LLMError("context_length", f"the prompt is larger than the model's context window: {detail}")
        err.window = window_in(words, body)
        return err
    for feature, pattern in UNSUPPORTED:
        if status in (400, 422, 500, 501) and pattern.search(detail):
            err = LLMError("unsupported", f"{where} refused the request ({status}): {detail}")
            err.unsupported = feature
            return err
    if status in (400, 413, 422):
        return LLMError("bad_request", f"request rejected by {where} ({status}): {detail}")
    if status in (408, 409) or status >= 500:
        return LLMError("server", f"server error at {where} ({status}): {detail}", retry_after=said.retry_after)
    return LLMError("http", f"unexpected reply from {where} ({status}): {detail}")


def _stream_status(error: dict[str, Any]) -> int:
    """The HTTP status an in-stream error stands for: its numeric code, else 400 for a rejected request, else 500."""
    for value in (error.get("code"), error.get("status")):
        if isinstance(value, int | str) and str(value).isdigit() and 400 <= int(value) <= 599:
            return int(value)
    kind = str(error.get("type") or error.get("code") or "")
    if kind == "insufficient_quota":
        return 429
    return 400 if "invalid_request" in kind or OVERFLOW.search(str(error.get("message") or "")) else 500


def classify_stream_error(error: dict[str, Any], endpoint: Endpoint) -> LLMError:
    """An error a server sent inside a 200 stream, classified as the same error sent as a status would be:
    an overflow condenses, a refused feature falls back, a server error is retried."""
    where = endpoint.url
    code, detail, body = _described(error, "the server reported an error mid-stream")
    return _status_error(_Refusal(_stream_status(error), code, detail, body), endpoint, where)


def classify_error(exc: BaseException, endpoint: Endpoint) -> LLMError:
    """Map SDK and transport errors to LLMError with an actionable message."""
    import openai

    where = endpoint.url
    if isinstance(exc, openai.APIStatusError):
        code, detail, body = _described(exc.body, str(exc.message))
        said = _Refusal(exc.status_code, code, detail, body, _retry_after(exc))
        return _status_error(said, endpoint, where)
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("timeout", f"timed out waiting for {where}")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError("connection", f"cannot reach {where}: check --base-url and that the server is running")
    if isinstance(exc, openai.APIError):
        return LLMError("stream", f"the stream from {where} failed: {exc.message}")
    return LLMError("stream", f"the stream from {where} was cut ({type(exc).__name__})")
