"""A scripted OpenAI-compatible server on 127.0.0.1, for tests and demos.

It speaks real HTTP/1.1 with chunked SSE bodies shaped like the OpenAI API:
content deltas, tool-call deltas split across chunks, a final usage chunk and
`[DONE]`. Each request takes the next matching entry of a script:

    {"text": "hi", "chunk": 4, "delay": 0.01}             streamed content
    {"tool_calls": [{"name": "update_plan", "arguments": {...} | "raw"}]}
    {"status": 429, "body": {...}, "headers": {...}}       an error reply
    {"text": "...", "cut_after": 2}                        drop the stream after 2 chunks
    {"when": "tools" | "no_tools" | "any" | "classify"}    which requests it answers
    {"match": "Your step: Write docs"}                     only requests whose messages contain this
    {"hang": 5}                                             wait before answering
    {"raw": "<html>…", "content_type": "text/html"}         any body (status 200 unless given)

Real servers' quirks, per entry:
    {"reasoning": "…", "reasoning_field": "reasoning"}      thinking in reasoning_content (or reasoning)
    {"finish": "length"} / {"finish": None}                 another finish_reason, or none before [DONE]
    {"args_as_object": True}                                arguments as a JSON object, not a string
    {"shared_index": True}                                  every call at index 0, whole in one chunk (Ollama)
    {"ids": "missing" | "number"}                           tool-call ids left out, or sent as numbers
    {"bad_chunk": True}                                     a chunk whose `choices` is not a list
    {"stream_error": {...}, "error_after": 2, "error_style": "data" | "field" | "event"}
        an error inside the 200 stream after 2 chunks, then [DONE]: `data: {"error": …}` (vLLM, llama-server
        today, OpenRouter), `error: {…}` (llama-server through 2025), or `event: error` + `data: {…}`
    {"keepalive": True}                                     `: ping` comments and empty `data:` frames between chunks
    {"merged_frames": True}                                 two chunks in one frame, the blank line between them lost
    {"json_for_stream": True}                               a whole JSON reply to a streamed request (stream ignored)
    {"not_json": True}                                      a data frame that is not JSON
    {"endless": "la "}                                      content chunks of that text without end, until the client
                                                            hangs up (a looping model with no token limit: Ollama's
                                                            num_predict -1, llama-server without n_predict)
and per server: FakeOpenAI(refuse={"stream_tools", "stream_options", "tool_choice"}, num_ctx=N, no_tools=KIND), where
no_tools refuses every request with `tools` in the words of one server (see NO_TOOLS: vLLM without auto tool
choice, llama-server without --jinja, Ollama / LM Studio models without a tool template, a gateway, in-stream);
num_ctx cuts long prompts silently, reporting N prompt tokens and answering as if the system prompt were gone;
ollama={"version": "0.30.1", "ps": N, "num_ctx": N, "looks_like": False} answers Ollama's native API beside /v1
(`/api/version`, `/api/ps`, `/api/show`); counts="exact" | "cache_excluded" | "cached_details" | "zero" | "missing" |
"other_tokenizer" reports prompt tokens as those servers do (Ollama 0.30.x, OpenAI-style details, older Ollama and
gateways for a cached prompt, none at all, another tokenizer).

An entry may also be a callable taking the request body and returning one.
Run it alone for manual checks: `python tests/fake_openai.py SCRIPT.json`.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Entry = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any] | None]  # a callable may decline: None

_AUTO_TOOLS = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
NO_TOOLS: dict[str, dict[str, Any]] = {  # what servers answer a request with `tools` that they cannot take
    "ollama": {
        "status": 400,
        "body": {
            "error": {
                "message": "registry.ollama.ai/library/gemma3:4b does not support tools",
                "type": "api_error",
                "param": None,
                "code": None,
            }
        },
    },
    "ollama-native": {"status": 400, "body": {"error": "codellama:latest does not support tools"}},
    "vllm": {
        "status": 400,
        "body": {"object": "error", "message": _AUTO_TOOLS, "type": "BadRequestError", "param": None, "code": 400},
    },
    "llama.cpp": {
        "status": 500,
        "body": {"error": {"code": 500, "message": "tools param requires --jinja flag", "type": "server_error"}},
    },
    "lmstudio": {"status": 400, "body": {"error": "Model does not support tool calling."}},
    "gateway": {"status": 422, "body": {"detail": "Tool calls are not supported for this model"}},
    "in-stream": {
        "text": "",
        "stream_error": {"message": "This model doesn't support tools", "code": 400},
        "error_after": 0,
    },
}


def _chunk(
    cid: str, model: str, delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None
) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    body: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "choices": choices,
    }
    if usage is not None:
        body["usage"] = usage
    return body


def _split(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def is_classifier(request: dict[str, Any]) -> bool:
    fmt = request.get("response_format") or {}
    return (fmt.get("json_schema") or {}).get("name") == "route"


def _wants(entry: dict[str, Any], request: dict[str, Any]) -> bool:
    """Classifier requests take only `when: classify` entries; `match` needs a substring of the messages."""
    when = entry.get("when", "any")
    if (when == "classify") != is_classifier(request):
        return False
    if "match" in entry and entry["match"] not in json.dumps(request.get("messages", [])):
        return False
    has_tools = bool(request.get("tools"))
    return when in ("any", "classify") or (when == "tools") == has_tools


class FakeOpenAI:
    """Start with `with FakeOpenAI(script) as srv:`; `srv.base_url` is the /v1 URL."""

    def __init__(
        self,
        script: Sequence[Entry] | None = None,
        *,
        port: int = 0,
        default: Entry | None = None,
        refuse: set[str] | None = None,
        num_ctx: int | None = None,
        ollama: dict[str, Any] | None = None,
        counts: str = "exact",
        no_tools: str | None = None,
    ):
        self.script: list[Entry] = list(script or [])
        self.refuse = refuse or set()
        self.num_ctx = num_ctx
        self.ollama = ollama
        self.counts = counts
        self.no_tools = no_tools
        self.previous_prompt = ""  # what the last request sent, for a cache-excluded count
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                native = server._ollama_native(self.path.rstrip("/"), None)
                if native is not None:
                    self._json(*native)
                elif self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                native = server._ollama_native(self.path.rstrip("/"), request)
                if native is not None:
                    self._json(*native)
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(
                        404, {"error": {"message": f"unknown path {self.path}", "type": "invalid_request_error"}}
                    )
                    return
                with server.lock:
                    server.requests.append(request)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    entry = server._refusal(request) or server._cut(request) or server._take(request)
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    self._answer(entry, request)
                finally:
                    with server.lock:
                        server.active -= 1

            def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _answer(self, entry: dict[str, Any] | None, request: dict[str, Any]) -> None:
                if entry is None:
                    self._json(
                        400, {"error": {"message": "fake server: script exhausted", "type": "invalid_request_error"}}
                    )
                    return
                if entry.get("hang"):
                    time.sleep(float(entry["hang"]))
                if "raw" in entry:
                    data = entry["raw"].encode()
                    self.send_response(int(entry.get("status", 200)))
                    self.send_header("content-type", entry.get("content_type", "text/html; charset=utf-8"))
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if "status" in entry:
                    body = entry.get("body") or {
                        "error": {"message": f"fake error {entry['status']}", "type": "server_error"}
                    }
                    self._json(int(entry["status"]), body, entry.get("headers"))
                    return
                text = entry.get("text", "")
                if "json" in entry:
                    text = json.dumps(entry["json"], separators=(",", ":"))
                if not request.get("stream") or entry.get("json_for_stream"):
                    self._json(200, server._whole(entry, text, request))
                    return
                self._stream(entry, text, request)

            def _stream(self, entry: dict[str, Any], text: str, request: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                if entry.get("endless"):
                    self._endless(str(entry["endless"]))
                    return
                events = stream_events(entry, text, request, len(server.requests), server._usage(request, text))
                cut_after = entry.get("cut_after")
                delay = float(entry.get("delay", 0))
                try:
                    for n, event in enumerate(events):
                        if cut_after is not None and n >= int(cut_after):
                            self.wfile.write(b"5\r\ndata:")  # half a chunk, then the connection drops
                            self.wfile.flush()
                            self.connection.shutdown(socket.SHUT_RDWR)
                            self.close_connection = True
                            return
                        if "stream_error" in entry and n == int(entry.get("error_after", 1)):
                            self._write_chunk(_error_frame(entry))
                            break
                        self._write_chunk(_frame(entry, event, events[n + 1] if n + 1 < len(events) else None))
                        if entry.get("merged_frames") and event is not None and n + 1 < len(events):
                            events[n + 1] = None
                        if delay:
                            time.sleep(delay)
                    self._write_chunk(b"data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _endless(self, piece: str) -> None:
                frame = _frame({}, _chunk("chatcmpl-endless", "fake-model", {"content": piece * 256}), None)
                try:
                    while True:
                        self._write_chunk(frame)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    self.close_connection = True

            def _write_chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def _refusal(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """What older llama-server, llama-cpp-python, Groq and some gateways answer to features they lack."""
        if self.no_tools and request.get("tools"):
            return dict(NO_TOOLS[self.no_tools])
        if "stream_tools" in self.refuse and request.get("stream") and request.get("tools"):
            return {
                "status": 500,
                "body": {"error": {"message": "Cannot use tools with stream", "type": "server_error"}},
            }
        if "stream_options" in self.refuse and "stream_options" in request:
            return {
                "status": 400,
                "body": {"error": {"message": "'stream_options' is not supported", "type": "invalid_request_error"}},
            }
        if "tool_choice" in self.refuse and "tool_choice" in request:
            return {
                "status": 400,
                "body": {"error": {"message": "tool_choice is not supported", "type": "invalid_request_error"}},
            }
        return None

    def _cut(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """Ollama past num_ctx: the prompt is cut without an error, and the model never saw the system prompt."""
        if self.num_ctx is None or not request.get("tools") or self._prompt_tokens(request) <= self.num_ctx:
            return None
        return {"text": "Sure! What would you like me to do?", "prompt_tokens": self.num_ctx}

    @staticmethod
    def _prompt_tokens(request: dict[str, Any]) -> int:
        return (len(json.dumps(request.get("messages", []))) + len(json.dumps(request.get("tools", [])))) // 4

    def _ollama_native(self, path: str, body: dict[str, Any] | None) -> tuple[int, Any] | None:
        """Ollama's native API beside /v1, as `ollama` says: {"version", "ps", "num_ctx", "looks_like"}."""
        if self.ollama is None or not path.startswith("/api/"):
            return None
        if path == "/api/version":
            if self.ollama.get("looks_like"):  # a server that answers the path but is not Ollama
                return 200, {"status": "ok", "name": "not-ollama"}
            return 200, {"version": self.ollama.get("version", "0.30.1")}
        if path == "/api/ps":
            size = self.ollama.get("ps")
            return 200, {"models": [{"name": "m:latest", "model": "m:latest", "context_length": size}] if size else []}
        if path == "/api/show" and body is not None:
            num_ctx = self.ollama.get("num_ctx")
            return 200, {
                "parameters": f'stop "<|im_end|>"\nnum_ctx {num_ctx}' if num_ctx else 'stop "x"',
                "model_info": {"qwen2.context_length": 32768},
            }
        return 404, {"error": "not found"}

    def _reported_prompt(self, request: dict[str, Any]) -> dict[str, Any]:
        """The prompt count as `counts` says real servers report it: exact, cache-excluded (Ollama 0.30.x), split
        into new and cached tokens (OpenAI-style details), zero for a cached prompt, missing, or another tokenizer's."""
        prompt = self._prompt_tokens(request)
        if self.num_ctx is not None:
            prompt = min(prompt, self.num_ctx)
        sent = json.dumps([m for m in request.get("messages", []) if m.get("role") != "system"])
        shared = len(os.path.commonprefix([sent, self.previous_prompt])) // 4
        self.previous_prompt = sent
        if self.counts == "cache_excluded":
            return {"prompt_tokens": max(1, prompt - shared)}
        if self.counts == "cached_details":
            return {"prompt_tokens": max(1, prompt - shared), "prompt_tokens_details": {"cached_tokens": shared}}
        if self.counts == "zero":
            return {"prompt_tokens": 0 if shared else prompt}
        if self.counts == "missing":
            return {}
        if self.counts == "other_tokenizer":
            return {"prompt_tokens": int(prompt * 0.55)}
        return {"prompt_tokens": prompt}

    def _usage(self, request: dict[str, Any], text: str) -> dict[str, Any]:
        usage = self._reported_prompt(request)
        completion = max(1, len(text) // 4)
        return {**usage, "completion_tokens": completion, "total_tokens": usage.get("prompt_tokens", 0) + completion}

    def _whole(self, entry: dict[str, Any], text: str, request: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        calls = entry.get("tool_calls") or []
        if calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{i}",
                    "type": "function",
                    "function": {
                        "name": c["name"],
                        "arguments": c["arguments"]
                        if isinstance(c.get("arguments"), str)
                        else json.dumps(c.get("arguments", {})),
                    },
                }
                for i, c in enumerate(calls)
            ]
        if entry.get("reasoning"):
            message[entry.get("reasoning_field", "reasoning_content")] = entry["reasoning"]
        finish = entry.get("finish", "tool_calls" if calls else "stop")
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1700000000,
            "model": request.get("model", "fake-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": self._usage(request, text),
        }

    def _take(self, request: dict[str, Any]) -> dict[str, Any] | None:
        for i, entry in enumerate(self.script):
            resolved = entry(request) if callable(entry) else entry
            if resolved is not None and _wants(resolved, request):
                del self.script[i]
                return resolved
        if self.default is not None and not is_classifier(request):
            return self.default(request) if callable(self.default) else self.default
        return None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def main_requests(self) -> list[dict[str, Any]]:
        """Requests of the main loop: the ones that carry tools."""
        return [r for r in self.requests if r.get("tools")]

    def model_requests(self) -> list[dict[str, Any]]:
        """Every request but the router's classifier."""
        return [r for r in self.requests if not is_classifier(r)]

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _frame(entry: dict[str, Any], event: Any, following: Any) -> bytes:
    """One chunk as SSE, with the quirks an entry asks for."""
    if event is None:  # already sent, merged into the frame before it
        return b": merged\n\n"
    text = f"data: {json.dumps(event)}\n"
    if entry.get("merged_frames") and following is not None:
        text += f"data: {json.dumps(following)}\n"
    if entry.get("keepalive"):
        text += "\n: ping\n\ndata:\n"
    if entry.get("not_json"):
        text = "data: <b>overloaded</b>\n"
    return (text + "\n").encode()


def _error_frame(entry: dict[str, Any]) -> bytes:
    error = entry["stream_error"]
    style = entry.get("error_style", "data")
    if style == "field":
        return f"error: {json.dumps(error)}\n\n".encode()
    if style == "event":
        return f"event: error\ndata: {json.dumps({'error': error})}\n\n".encode()
    return f"data: {json.dumps({'error': error})}\n\n".encode()


def _tool_call_chunks(entry: dict[str, Any], cid: str, model: str, n: int) -> list[dict[str, Any]]:
    events = []
    for i, call in enumerate(entry.get("tool_calls") or []):
        args = call.get("arguments", {})
        raw = args if isinstance(args, str) else json.dumps(args)
        call_id: Any = call.get("id", f"call_{n}_{i}")
        if entry.get("ids") == "number":
            call_id = n * 10 + i
        index = 0 if entry.get("shared_index") else i
        head: dict[str, Any] = {"index": index, "type": "function", "function": {"name": call["name"], "arguments": ""}}
        if entry.get("ids") != "missing":
            head["id"] = call_id
        if entry.get("shared_index") or entry.get("args_as_object"):
            head["function"]["arguments"] = args if entry.get("args_as_object") and isinstance(args, dict) else raw
            events.append(_chunk(cid, model, {"tool_calls": [head]}))
            continue
        events.append(_chunk(cid, model, {"tool_calls": [head]}))
        for piece in _split(raw, int(entry.get("arg_chunk", 7))):
            events.append(_chunk(cid, model, {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    return events


def stream_events(
    entry: dict[str, Any], text: str, request: dict[str, Any], n: int, usage: dict[str, int]
) -> list[Any]:
    """The SSE chunks for one scripted reply, quirks included."""
    cid, model = "chatcmpl-fake", request.get("model", "fake-model")
    events: list[Any] = [_chunk(cid, model, {"role": "assistant", "content": ""})]
    field = entry.get("reasoning_field", "reasoning_content")
    for piece in _split(entry.get("reasoning", ""), 8) if entry.get("reasoning") else []:
        events.append(_chunk(cid, model, {field: piece}))
    events += (
        [_chunk(cid, model, {"content": piece}) for piece in _split(text, int(entry.get("chunk", 8)))] if text else []
    )
    events += _tool_call_chunks(entry, cid, model, n)
    if entry.get("bad_chunk"):
        events.append({"id": cid, "object": "chat.completion.chunk", "created": 1, "model": model, "choices": 7})
    finish = entry.get("finish", "tool_calls" if entry.get("tool_calls") else "stop")
    events.append(_chunk(cid, model, {}, finish=finish))
    if (request.get("stream_options") or {}).get("include_usage"):
        if "prompt_tokens" in entry:
            usage = {**usage, "prompt_tokens": entry["prompt_tokens"]}
        events.append(_chunk(cid, model, None, usage=usage))
    return events


def system_prompt(request: dict[str, Any]) -> str:
    return next((m["content"] for m in request.get("messages", []) if m.get("role") == "system"), "")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Serve a scripted OpenAI-compatible model on 127.0.0.1.")
    parser.add_argument("script", help="JSON file holding a list of script entries")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", help="write every received request as a JSON line to this file")
    opts = parser.parse_args()
    with open(opts.script) as fh:
        entries = json.load(fh)
    srv = FakeOpenAI(entries, port=opts.port, default={"text": "(the script has ended)"})
    with srv:
        print(srv.base_url, flush=True)
        seen = 0
        try:
            while True:
                time.sleep(0.2)
                if opts.log and len(srv.requests) > seen:
                    with open(opts.log, "a") as fh:
                        for req in srv.requests[seen:]:
                            fh.write(json.dumps(req) + "\n")
                    seen = len(srv.requests)
        except KeyboardInterrupt:
            sys.exit(0)
