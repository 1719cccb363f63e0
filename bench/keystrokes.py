"""Keystroke latency in the prompt while a reply streams at 1,000 tokens/s into a session of 500 messages, versus idle.

    python bench/keystrokes.py [--rate 1000] [--keys 300] [--history 500]

The fake server runs in its own process and streams one token (~4 chars) per SSE
chunk; the reply is realistic Markdown (paragraphs, lists, code). The rate it
really offers is measured first by a bare HTTP client, and the rate the chat
draws is compared with it. A key is posted to the prompt as a Key event and
timed until its character is in the text, inside the app's own loop (headless:
terminal I/O is excluded, the app's work is not). Prints medians, p95 and p99.
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


def pct(xs: list[float], q: float) -> float:
    return sorted(xs)[max(0, min(len(xs) - 1, round(len(xs) * q) - 1))]


def offered_rate(base_url: str) -> float:
    """Tokens/s the server streams to a client that does nothing else (4 characters a token)."""
    try:
        import httpx
    except ImportError:  # the openai SDK's newer releases ship it as httpx2
        import httpx2 as httpx  # type: ignore[no-redef]

    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "stream please"}]}
    chars, start = 0, time.perf_counter()
    with httpx.stream("POST", f"{base_url}/chat/completions", json=body, timeout=120) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                for choice in json.loads(line[6:]).get("choices", []):
                    chars += len(choice.get("delta", {}).get("content") or "")
    return chars / 4 / (time.perf_counter() - start)


async def run(rate: int, keys: int, history: int) -> None:
    text = PARAGRAPH * 120
    script = Path(tempfile.mkdtemp()) / "script.json"
    entry = {"text": text, "chunk": 4, "delay": 1 / rate}
    script.write_text(json.dumps([entry, entry]))
    # The server runs in its own process, as a real endpoint would, so it doesn't share our GIL.
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_openai.py"), str(script)], stdout=subprocess.PIPE, text=True)
    base_url = server.stdout.readline().strip()
    try:
        offered = offered_rate(base_url)
        await measure_app(base_url, rate, offered, keys, history)
    finally:
        server.terminate()
        server.wait()


async def with_history(app, pilot, messages: int) -> None:
    """A long session: `messages` messages in the record, shown the way a resumed session is."""
    await wait_for(pilot, lambda: app.ready, timeout=30)  # the app draws first and builds its session after
    for i in range(messages // 2):
        app.session.conv.add({"role": "user", "content": f"question {i}: how does step {i} work?"})
        app.session.conv.add({"role": "assistant", "content": PARAGRAPH})
    await app.show_history()
    await pilot.pause(0.2)


async def measure_app(base_url: str, rate: int, offered: float, keys: int, history: int) -> None:
    app = make_app(base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await with_history(app, pilot, history)
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
        busy = await sample(app, keys, 0.01)
        still = app.turn_running
        await wait_for(pilot, lambda: not app.turn_running, timeout=120)
        app.action_cancel_turn()
    drawn = sum(n for _, n in arrivals) / 4 / max(arrivals[-1][0] - arrivals[0][0], 1e-6)  # over the whole reply
    print(f"session: {history} messages before the reply; the server offers {offered:,.0f} tokens/s (asked for {rate})")
    print(f"drawn by the chat: {drawn:,.0f} tokens/s = {drawn / offered:.2f}x what is offered; streaming through all the keys: {still}")
    for name, xs in (("idle", idle), ("streaming", busy)):
        print(
            f"{name:<10} keystroke latency: median {statistics.median(xs):6.2f} ms   p95 {pct(xs, 0.95):6.2f} ms   "
            f"p99 {pct(xs, 0.99):6.2f} ms   (n={keys})"
        )
    print(f"ratio streaming/idle: median {statistics.median(busy) / statistics.median(idle):.2f}x, p99 {pct(busy, 0.99) / pct(idle, 0.99):.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=1000, help="tokens per second the server is asked to stream")
    parser.add_argument("--keys", type=int, default=300, help="keystrokes sampled in each phase")
    parser.add_argument("--history", type=int, default=500, help="messages in the session before the reply")
    opts = parser.parse_args()
    asyncio.run(run(opts.rate, opts.keys, opts.history))
