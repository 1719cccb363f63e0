"""Keystroke latency in the prompt while a reply streams at ~500 tokens/s, versus idle.

    python bench/keystrokes.py [--rate 500] [--keys 200]

The fake server streams one token (~4 chars) per SSE chunk; the reply is
realistic Markdown (paragraphs, lists, code). A key is posted to the prompt
as a Key event and timed until its character is in the text, inside the app's
own loop (headless: terminal I/O is excluded, the app's work is not).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual import events

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from tui_helpers import make_app, submit, wait_for  # noqa: E402

PARAGRAPH = (
    "The planner keeps one step in progress and records a short result for each finished step, "
    "so the panel always shows where the work is.\n\n"
    "- read the module\n- change the function\n- run the tests\n\n"
    "```python\ndef reverse(s: str) -> str:\n    return s[::-1]\n```\n\n"
)


async def sample(app, keys: int, gap: float) -> list[float]:
    out = []
    for i in range(keys):
        before = len(app.prompt.text)
        char = "abcdefghij"[i % 10]
        start = time.perf_counter()
        app.prompt.post_message(events.Key(char, char))
        while len(app.prompt.text) == before:
            await asyncio.sleep(0.0005)
        out.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(gap)
    return out


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


async def run(rate: int, keys: int) -> None:
    text = PARAGRAPH * 200
    script = Path(tempfile.mkdtemp()) / "script.json"
    script.write_text(json.dumps([{"text": text, "chunk": 4, "delay": 1 / rate}]))
    # The server runs in its own process, as a real endpoint would, so it doesn't share our GIL.
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_openai.py"), str(script)], stdout=subprocess.PIPE, text=True)
    base_url = server.stdout.readline().strip()
    try:
        await measure_app(base_url, rate, keys)
    finally:
        server.terminate()
        server.wait()


async def measure_app(base_url: str, rate: int, keys: int) -> None:
    app = make_app(base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        idle = await sample(app, keys, 0.01)
        app.prompt.clear()
        arrivals: list[tuple[float, int]] = []
        handle = app.handle_event

        async def timed(event):
            if event.type == "text_delta":
                arrivals.append((time.perf_counter(), len(event.text)))
            await handle(event)

        app.handle_event = timed
        await submit(pilot, "stream please")
        await wait_for(pilot, lambda: len(arrivals) > 20)
        window_start = time.perf_counter()
        busy = await sample(app, keys, 0.01)
        window_end = time.perf_counter()
        still = app.turn_running
        app.action_cancel_turn()
    in_window = [n for t, n in arrivals if window_start <= t <= window_end]
    achieved = sum(in_window) / 4 / (window_end - window_start)
    print(f"streamed during sampling: {achieved:,.0f} tokens/s (target {rate}); stream still running at the end: {still}")
    print(f"idle       keystroke latency: median {statistics.median(idle):6.2f} ms   p95 {p95(idle):6.2f} ms   (n={keys})")
    print(f"streaming  keystroke latency: median {statistics.median(busy):6.2f} ms   p95 {p95(busy):6.2f} ms   (n={keys})")
    print(f"ratio streaming/idle: median {statistics.median(busy) / statistics.median(idle):.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=500, help="tokens per second the server streams")
    parser.add_argument("--keys", type=int, default=200, help="keystrokes sampled in each phase")
    opts = parser.parse_args()
    asyncio.run(run(opts.rate, opts.keys))
