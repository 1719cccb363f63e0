"""The embedded local model: runtime start-up, time to first token and tokens/s.

    python bench/local_model.py [--runs 5] [--threads 2]

Needs the [local] extra. Reports medians over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from liveplan_tui.config import Endpoint, client_options, load_settings
from liveplan_tui.llm.base import TextChunk
from liveplan_tui.llm.openai_compat import ChatClient, Completion
from liveplan_tui.local.model import default_model
from liveplan_tui.local.runtime import LocalRuntime

PROMPTS = [
    "Write a Python function that reverses a string.",
    "Explain what a Python list comprehension is, with one example.",
    "Write a function that checks whether a number is prime.",
]


async def one(client: ChatClient, prompt: str) -> tuple[float, float, int]:
    start = time.perf_counter()
    first = None
    completion = None
    async for item in client.stream([{"role": "user", "content": prompt}], max_tokens=200):
        if isinstance(item, Completion):
            completion = item
        elif first is None and isinstance(item, TextChunk):
            first = time.perf_counter()
    end = time.perf_counter()
    tokens = (completion.completion_tokens or 0) if completion else 0
    return (first or end) - start, tokens / max(end - (first or start), 1e-6), tokens


async def main(runs: int, threads: int) -> None:
    model = default_model()
    starts, ttfts, rates = [], [], []
    for i in range(runs):
        runtime = LocalRuntime(model, threads=threads)
        t0 = time.perf_counter()
        url = runtime.start()
        starts.append(time.perf_counter() - t0)
        settings = load_settings()
        client = ChatClient(Endpoint(base_url=url, model=model.stem, api_key=None, local=True), client_options(settings))
        try:
            ttft, rate, tokens = await one(client, PROMPTS[i % len(PROMPTS)])
            ttfts.append(ttft)
            rates.append(rate)
            print(f"run {i + 1}: start {starts[-1]:.2f}s  ttft {ttft:.2f}s  {rate:.1f} tok/s ({tokens} tokens)")
        finally:
            await client.close()
            runtime.stop()
    print(f"median over {runs} runs ({threads} threads): runtime start {statistics.median(starts):.2f}s, "
          f"time to first token {statistics.median(ttfts):.2f}s, generation {statistics.median(rates):.1f} tokens/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args()
    asyncio.run(main(opts.runs, opts.threads))
