"""Sessions kept for hours: resume, `sessions`, `export`, `watch` and a long TUI session, each beside its target.

    python bench/long_session.py [--runs 5] [--skip-stream]

Builds the sessions with the store's own API in a fresh data dir, then measures from outside, as a user meets them:
- resuming 2,000 messages with a finished plan: the TUI's time to a drawn key, against a fresh start (target 1.5x),
  and to the plan and the newest reply on screen, against a fresh session's being ready;
- `liveplan sessions` with 500 saved sessions (target under 0.5 s);
- `liveplan export` of a 10,000-message session (target under 2 s);
- `watch` of a 10,000-message session while nothing changes, polled as its page polls: CPU share of one core
  (target under 5%) and the bytes sent after the first answer;
- 2,000 messages streamed into one TUI session (1,000 turns against the fake server): peak memory (target 300 MB).
Prints medians of `--runs` paired runs. Run nothing else beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from startup import MARK, screen_times  # noqa: E402

from liveplan_tui.plan import LivePlan, PlanBoard, PlanUpdate, apply  # noqa: E402
from liveplan_tui.store import open_store  # noqa: E402

LIVEPLAN = [sys.executable, "-m", "liveplan_tui.cli"]


def finished_board() -> PlanBoard:
    steps = [{"description": f"Step {n}", "status": "completed", "result": f"done {n}"} for n in range(1, 6)]
    return PlanBoard(archived=(apply(LivePlan(), PlanUpdate.model_validate({"goal": "A long job", "steps": steps})),))


def build(data: Path, messages: int, *, sessions: int = 1) -> str:
    """`sessions` sessions; the last holds `messages` messages (turns of user, assistant with a call, tool result,
    assistant) and a finished plan. Its id."""
    data.mkdir(parents=True, exist_ok=True)
    store = open_store(data)
    sid = ""
    for n in range(sessions):
        sid = store.create_session("fake-model", str(data))
        store.save_board(sid, finished_board())
        count = messages if n == sessions - 1 else 4
        for i in range(count // 4):
            call = {
                "id": f"c{i}",
                "type": "function",
                "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
            }
            store.add_message(sid, {"role": "user", "content": f"question {i}: " + "why " * 20})
            store.add_message(sid, {"role": "assistant", "content": None, "tool_calls": [call]})
            store.add_message(sid, {"role": "tool", "tool_call_id": f"c{i}", "content": "x = 1\n" * 10})
            store.add_message(sid, {"role": "assistant", "content": f"answer {i}: " + "because " * 40})
    store.close()
    return sid


def wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def watch_idle(sid: str, env: dict[str, str], seconds: float = 20.0) -> tuple[float, int, int]:
    """CPU share of one core while a page polls every second and nothing changes; bytes of the first answer and of
    every later one together."""
    port = free_port()
    proc = subprocess.Popen([*LIVEPLAN, "watch", sid, "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        url = proc.stdout.readline().strip() if proc.stdout else ""
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        opener.open(url).read()  # the page, which sets the cookie the state needs
        state = url.split("/?", 1)[0].rstrip("/") + "/state"
        first = opener.open(state)
        etag, first_bytes = first.headers.get("ETag"), len(first.read())
        later, start_cpu, start = 0, cpu_of(proc.pid), time.perf_counter()
        while time.perf_counter() - start < seconds:
            time.sleep(1.0)
            request = urllib.request.Request(state, headers={"If-None-Match": etag} if etag else {})
            try:
                later += len(opener.open(request).read())
            except urllib.error.HTTPError as exc:
                if exc.code != 304:
                    raise
        share = (cpu_of(proc.pid) - start_cpu) / (time.perf_counter() - start)
        return share, first_bytes, later
    finally:
        proc.terminate()
        proc.wait(timeout=10)


SERVER = """
import sys, time
sys.path.insert(0, {tests!r})
from fake_openai import FakeOpenAI
with FakeOpenAI(default={{"text": "an answer of a few words, " * 8, "chunk": 40}}) as fake:
    print(fake.base_url, flush=True)
    while True:  # what it was sent is not kept: a long session's requests would grow without end
        time.sleep(1)
        fake.requests.clear()
"""

STREAM = """
import asyncio, resource, sys, tempfile
sys.path.insert(0, {tests!r})
from pathlib import Path
from tui_helpers import make_app, submit, wait_for

async def main(turns):
    with tempfile.TemporaryDirectory() as work:
        app = make_app({base_url!r}, workspace=Path(work), mode="direct")
        async with app.run_test(size=(120, 40)) as pilot:
            for n in range(turns):
                await submit(pilot, f"question {{n}}")
                await wait_for(pilot, lambda: not app.turn_running, timeout=60)
            print(len(app.session.view.record), flush=True)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

asyncio.run(main({turns}))
"""


def stream_peak(turns: int, env: dict[str, str]) -> tuple[float, int]:
    """Peak memory (MB) of a TUI session that streamed `turns` replies, and the messages it then held. The fake
    server runs in a process of its own, so what it keeps is not counted."""
    tests = str(ROOT / "tests")
    server = subprocess.Popen([sys.executable, "-c", SERVER.format(tests=tests)], stdout=subprocess.PIPE, text=True)
    try:
        base_url = server.stdout.readline().strip() if server.stdout else ""
        script = STREAM.format(tests=tests, turns=turns, base_url=base_url)
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        held, peak = out.stdout.strip().splitlines()[-2:]
        return float(peak), int(held)
    finally:
        server.kill()
        server.wait()


FIRST_SCREEN = ("A long job", "answer 499:")  # the finished plan's goal, and the newest reply


def resume_line(fresh: list[dict[str, float]], resume: list[dict[str, float]]) -> str:
    """The resumed TUI beside a fresh start: the key drawn, and the plan with the newest reply on screen against a
    fresh session being ready (the status bar naming its endpoint)."""

    def median(runs: list[dict[str, float]], *texts: str) -> float:
        return statistics.median(max(run[text] for text in texts) for run in runs)

    key, fresh_key = median(resume, MARK), median(fresh, MARK)
    shown, fresh_ready = median(resume, *FIRST_SCREEN), median(fresh, "127.0.0.1:9")
    return (
        f"resume 2,000 messages: a typed key drawn in {key:.2f}s, fresh start {fresh_key:.2f}s: "
        f"{key / fresh_key:.2f}x (target 1.5x); the plan and the newest reply drawn in {shown:.2f}s, "
        f"a fresh session ready in {fresh_ready:.2f}s: {shown / fresh_ready:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-stream", action="store_true", help="leave out the 1,000-turn TUI session")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LIVEPLAN_"))}
        env = {**base, "LIVEPLAN_CONFIG": f"{tmp}/none.toml", "TERM": "xterm-256color"}
        resumed = {**env, "LIVEPLAN_DATA_DIR": f"{tmp}/resume"}
        resume_id = build(Path(tmp) / "resume", 2000)
        many = {**env, "LIVEPLAN_DATA_DIR": f"{tmp}/many"}
        build(Path(tmp) / "many", 4, sessions=500)
        big = {**env, "LIVEPLAN_DATA_DIR": f"{tmp}/big"}
        big_id = build(Path(tmp) / "big", 10_000)
        tui = [*LIVEPLAN, "--base-url", "http://127.0.0.1:9/v1", "--model", "fake-model"]
        ready = "127.0.0.1:9"  # the status bar names the endpoint once the session is built
        screen_times(tui, resumed, (ready,))  # warm-up: byte-code caches, page cache
        fresh, resume = [], []
        for n in range(args.runs):
            pair = [(fresh, tui, (ready,)), (resume, [*tui, "--resume", resume_id], (ready, *FIRST_SCREEN))]
            for times, argv, texts in pair[n % 2 :] + pair[: n % 2]:
                times.append(screen_times(argv, resumed, texts))
        sessions = [wall([*LIVEPLAN, "sessions"], many) for _ in range(args.runs)]
        exports = [wall([*LIVEPLAN, "export", big_id, "-o", f"{tmp}/out.md"], big) for _ in range(args.runs)]
        share, first_bytes, later_bytes = watch_idle(big_id, big)
        print(f"{args.runs} runs on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print(resume_line(fresh, resume))
        print(f"`liveplan sessions`, 500 sessions: {statistics.median(sessions):.2f}s (target 0.5s)")
        print(f"`liveplan export`, 10,000 messages: {statistics.median(exports):.2f}s (target 2s)")
        print(
            f"watch, 10,000 messages, idle 20s: {100 * share:.1f}% of one core (target 5%); first answer "
            f"{first_bytes:,} bytes, then {later_bytes:,} bytes in 20 polls"
        )
        if not args.skip_stream:
            peak, held = stream_peak(1000, {**env, "LIVEPLAN_DATA_DIR": f"{tmp}/stream"})
            print(f"TUI, {held:,} messages streamed in one session: peak {peak:.0f} MB (target 300 MB)")
        print(json.dumps({"fresh": fresh, "resume": resume, "sessions": sessions, "exports": exports}, default=str))


if __name__ == "__main__":
    main()
