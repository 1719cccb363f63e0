"""The embedded local model: start-up, time to first token, decode speed through the app against the raw runtime,
and whether the calls of one turn reuse the server's prompt cache.

    python bench/local_model.py [--runs 5] [--threads 2]

Needs the [local] extra; run nothing else beside it. One runtime serves every measurement. For each prompt, in a
rotated order, the same request (greedy, 200 tokens) is sent raw (httpx, straight to llama.cpp's server) and
through LivePlan's client; decode speed is completion tokens over the time from the first token to the last. Then
two calls shaped like one structured turn (the plan call, then the answer call, both behind the same system
prompt) show how many prompt tokens the second call took from the cache (llama.cpp's `timings.cache_n`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

try:
    import httpx
except ImportError:  # the openai SDK's newer releases ship it as httpx2
    import httpx2 as httpx  # type: ignore[no-redef]

from liveplan_tui.config import Endpoint, client_options, load_settings
from liveplan_tui.llm.base import TextChunk
from liveplan_tui.llm.openai_compat import ChatClient, Completion
from liveplan_tui.local.model import default_model
from liveplan_tui.local.runtime import LocalRuntime
from liveplan_tui.prompts import load

PROMPTS = [
    "Write a Python function that reverses a string.",
    "Explain what a Python list comprehension is, with one example.",
    "Write a function that checks whether a number is prime.",
]
MAX_TOKENS = 200


async def through_app(client: ChatClient, prompt: str) -> tuple[float, float, int]:
    """(time to first token, decode tokens/s, tokens) through LivePlan's client."""
    start = time.perf_counter()
    first = last = None
    completion = None
    async for item in client.stream([{"role": "user", "content": prompt}], max_tokens=MAX_TOKENS):
        if isinstance(item, Completion):
            completion = item
        elif isinstance(item, TextChunk):
            first = first or time.perf_counter()
            last = time.perf_counter()
    tokens = (completion.completion_tokens or 0) if completion else 0
    return (first or start) - start, tokens / max((last or start) - (first or start), 1e-6), tokens


async def raw(http: httpx.AsyncClient, url: str, model: str, messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """One streamed request straight to the runtime: timings, and llama.cpp's own `timings` block."""
    body = {"model": model, "messages": messages, "stream": True, "max_tokens": MAX_TOKENS, "temperature": 0, **extra}
    start = time.perf_counter()
    first = last = None
    tokens, timings = 0, {}
    async with http.stream("POST", f"{url}/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            timings = chunk.get("timings") or timings
            for choice in chunk.get("choices", []):
                if choice.get("delta", {}).get("content"):
                    first = first or time.perf_counter()
                    last = time.perf_counter()
            tokens = (chunk.get("usage") or {}).get("completion_tokens", tokens)
    tokens = tokens or timings.get("predicted_n", 0)
    return {
        "ttft": (first or start) - start,
        "rate": tokens / max((last or start) - (first or start), 1e-6),
        "tokens": tokens,
        "timings": timings,
    }


async def cache_reuse(http: httpx.AsyncClient, url: str, model: str) -> tuple[int, int]:
    """A plan call then an answer call behind one system prompt: (prompt tokens, of them taken from the cache)."""
    system = {"role": "system", "content": load("local_system.md") + "\n\n" + "[PLAN]\nGoal: reverse a string\n[/PLAN]"}
    task = "Write a Python function reverse(s)."
    await raw(http, url, model, [system, {"role": "user", "content": f"{task}\n\n{load('local_plan.md')}"}], max_tokens=60)
    second = await raw(http, url, model, [system, {"role": "user", "content": f"{task}\n\n{load('local_answer.md')}"}])
    t = second["timings"]
    return int(t.get("prompt_n", 0)) + int(t.get("cache_n", 0)), int(t.get("cache_n", 0))


async def main(runs: int, threads: int) -> None:
    model = default_model()
    runtime = LocalRuntime(model, threads=threads)
    t0 = time.perf_counter()
    url = runtime.start()
    start = time.perf_counter() - t0
    settings = load_settings()
    client = ChatClient(Endpoint(base_url=url, model=model.stem, api_key=None, local=True), client_options(settings))
    app_rates, raw_rates, app_ttft, raw_ttft = [], [], [], []
    try:
        async with httpx.AsyncClient(timeout=300, trust_env=False) as http:
            for i in range(runs):
                prompt = PROMPTS[i % len(PROMPTS)]
                order = ("raw", "app") if i % 2 == 0 else ("app", "raw")
                for who in order:
                    if who == "raw":
                        r = await raw(http, url, model.stem, [{"role": "user", "content": prompt}])
                        raw_rates.append(r["rate"])
                        raw_ttft.append(r["ttft"])
                    else:
                        ttft, rate, _ = await through_app(client, prompt)
                        app_rates.append(rate)
                        app_ttft.append(ttft)
                print(f"run {i + 1}: raw {raw_rates[-1]:.1f} tok/s, app {app_rates[-1]:.1f} tok/s", flush=True)
            total, cached = await cache_reuse(http, url, model.stem)
    finally:
        await client.close()
        runtime.stop()
    ratio = statistics.median(app_rates) / statistics.median(raw_rates)
    print(f"runtime start {start:.2f}s ({threads} threads)")
    print(f"time to first token: app {statistics.median(app_ttft):.2f}s, raw {statistics.median(raw_ttft):.2f}s")
    print(f"decode: app {statistics.median(app_rates):.1f} tok/s, raw {statistics.median(raw_rates):.1f} tok/s = {ratio:.2f}x")
    print(f"prompt cache across one turn's calls: {cached} of {total} prompt tokens of the second call reused")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args()
    asyncio.run(main(opts.runs, opts.threads))
