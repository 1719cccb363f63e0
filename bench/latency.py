"""Latencies users feel: Esc to a stopped stream in the TUI, and failing fast on a bad endpoint.

    python bench/latency.py [--runs 7]

Reports medians (and the worst run) over several runs; the model is the fake server.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_openai import FakeOpenAI  # noqa: E402
from tui_helpers import make_app, submit, wait_for  # noqa: E402


async def escape_once() -> float:
    with FakeOpenAI([{"text": "word " * 4000, "chunk": 5, "delay": 0.002}]) as fake:
        app = make_app(fake.base_url, mode="direct")
        async with app.run_test(size=(120, 40)) as pilot:
            await submit(pilot, "write a lot")
            await wait_for(pilot, lambda: any(getattr(b, "text", "") for b in app.chat.children if b.has_class("assistant")))
            await pilot.pause(0.3)
            start = time.perf_counter()
            app.action_cancel_turn()
            while app.turn_running:
                await asyncio.sleep(0.001)
            return time.perf_counter() - start


def exit_time(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "liveplan_tui.cli", "exec", *args, "hi"], capture_output=True, cwd=ROOT, env={"LIVEPLAN_LOCAL": "false", "PATH": ""})
    return time.perf_counter() - start


def report(name: str, samples: list[float]) -> None:
    print(f"{name:<34} median {statistics.median(samples) * 1000:8.1f} ms   worst {max(samples) * 1000:8.1f} ms   (n={len(samples)})")


def main(runs: int) -> None:
    report("Esc → turn stopped (TUI)", [asyncio.run(escape_once()) for _ in range(runs)])
    report("exec, unreachable --base-url", [exit_time("--base-url", "http://127.0.0.1:9/v1", "--model", "m") for _ in range(runs)])
    with FakeOpenAI(default={"status": 401}) as fake:
        report("exec, 401 bad key", [exit_time("--base-url", fake.base_url, "--model", "m") for _ in range(runs)])
    print("(process times include Python start-up and imports)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    main(parser.parse_args().runs)
