"""Ask Ollama for the window it really runs a model with, before the first call.

Ollama's OpenAI-compatible `/v1` says nothing about the context length; past it, the prompt is cut without an error
(the system prompt and tools go first), and the usage it reports is no proof either way (0.30.x counted only the
tokens it did not take from its cache). Its native API, beside `/v1`, states the window: `/api/ps` for a loaded model,
`/api/show`'s `num_ctx` parameter otherwise. A server that only looks like Ollama (no `version` from `/api/version`)
is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

PROBE_TIMEOUT = 2.0
_NUM_CTX = re.compile(r"(?m)^\s*num_ctx\s+(\d+)\s*$")


@dataclass(frozen=True)
class OllamaWindow:
    window: int
    source: str  # where it was stated: "/api/ps" or "/api/show num_ctx"
    version: str


def native_root(base_url: str) -> str:
    """Ollama's native API root: the base URL without its OpenAI `/v1` suffix."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _same_model(name: Any, model: str) -> bool:
    if not isinstance(name, str):
        return False
    return name == model or name == f"{model}:latest" or name.removesuffix(":latest") == model


async def ollama_window(base_url: str, model: str) -> OllamaWindow | None:
    """The window Ollama states for `model`, or None (not Ollama, not stated, or not answering in time)."""
    import asyncio

    return await asyncio.to_thread(_ask, native_root(base_url), model)


def _call(url: str, body: dict[str, Any] | None = None) -> Any:
    """One JSON request to the native API, straight (no proxy), with no key: the user's key is not Ollama's."""
    import json
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=PROBE_TIMEOUT) as response:
        return json.loads(response.read(1_000_000))


def _ask(root: str, model: str) -> OllamaWindow | None:
    try:
        version = _call(f"{root}/api/version")
        if not isinstance(version, dict) or not isinstance(version.get("version"), str):
            return None
        found = _from_ps(_call(f"{root}/api/ps"), model)
        if found is not None:
            return OllamaWindow(found, "/api/ps", version["version"])
        stated = _from_show(_call(f"{root}/api/show", {"model": model}))
    except (OSError, ValueError):  # URLError, HTTPError and timeouts are OSErrors; bad JSON a ValueError
        return None
    return OllamaWindow(stated, "/api/show num_ctx", version["version"]) if stated is not None else None


def _from_ps(body: Any, model: str) -> int | None:
    models = body.get("models") if isinstance(body, dict) else None
    for entry in models if isinstance(models, list) else ():
        if isinstance(entry, dict) and _same_model(entry.get("name") or entry.get("model"), model):
            size = entry.get("context_length")
            if isinstance(size, int) and size > 0:
                return size
    return None


def _from_show(body: Any) -> int | None:
    parameters = body.get("parameters") if isinstance(body, dict) else None
    match = _NUM_CTX.search(parameters) if isinstance(parameters, str) else None
    return int(match.group(1)) if match else None
