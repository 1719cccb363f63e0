"""Start-up, side by side: `liveplan exec` against a bare openai-SDK script (and `llm` when installed), and the
TUI's time to interactive against a minimal Textual app, all in one paired run against one local fake server.

    python bench/startup.py [--runs 9] [--llm PATH_TO_LLM] [--paced]

`exec`: wall time and CPU time of a plain question answered with a ~400-token streamed reply, and the peak memory
(max RSS) of each process. The server answers at once by default (the reply in 200-character chunks, as a fast
hosted model or a cached local one streams it), so start-up cost is what is measured; `--paced` streams it in
4-character chunks instead, where most of each run is spent reading the stream. TUI: launched in a
pseudo-terminal (120x40) and timed from outside until a key typed into it shows on screen. Prints medians, ratios
to the reference, and peak memory. Each round runs every contestant once, in a rotated order, so drift on a noisy
machine hits them alike.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_openai import FakeOpenAI  # noqa: E402

QUESTION = "What does the HTTP status code 418 mean?"
REPLY = "The status code 418 is an April Fools' joke from RFC 2324, the Hyper Text Coffee Pot Control Protocol. " * 20
LAUNCH = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
    "elapsed = time.perf_counter() - t\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(elapsed, usage.ru_maxrss / 1024, p.returncode, len(p.stdout), usage.ru_utime + usage.ru_stime)\n"
)
MARK = "Ж"  # typed into the TUI; its bytes never occur in escape sequences


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall time, peak RSS (MB) and CPU seconds of one run, measured by a launcher so its own start-up is not
    counted."""
    out = subprocess.run([sys.executable, "-c", LAUNCH, *argv], capture_output=True, text=True, env=env, check=True)
    elapsed, peak, code, size, cpu = out.stdout.split()
    if int(code) != 0 or int(size) < 100:
        raise SystemExit(f"{argv[:3]} failed (exit {code}, {size} bytes of output)")
    return float(elapsed), float(peak), float(cpu)


def time_to_interactive(argv: list[str], env: dict[str, str], timeout: float = 30.0) -> float:
    """Seconds from launch until a key typed into the app is drawn (it is retyped every 50 ms until it is)."""
    return screen_times(argv, env, (), timeout)[MARK]


def screen_times(
    argv: list[str], env: dict[str, str], texts: tuple[str, ...], timeout: float = 30.0
) -> dict[str, float]:
    """Seconds from launch until a key typed into the app is drawn (it is retyped every 50 ms until it is), and
    until each of `texts` is; the key is keyed by MARK."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    wanted = {text: text.encode() for text in (MARK, *texts)}
    seen, raw, last_key, times = b"", False, 0.0, {}
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.01)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
            raw = raw or b"\x1b[?1049h" in seen  # the app has taken the terminal: keys now go to it, not the echo
            times |= {
                text: time.perf_counter() - start for text, code in wanted.items() if text not in times and code in seen
            }
            if len(times) == len(wanted):
                return times
            if raw and MARK not in times and time.perf_counter() - last_key > 0.05:
                os.write(fd, MARK.encode())
                last_key = time.perf_counter()
        raise SystemExit(f"{argv[0]} did not draw {sorted(set(wanted) - set(times))} within {timeout}s")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


def llm_setup(home: Path, base_url: str) -> dict[str, str]:
    """`llm` pointed at the fake server as an extra OpenAI-compatible model, logging off."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "extra-openai-models.yaml").write_text(
        f"- model_id: fake\n  model_name: fake-model\n  api_base: {base_url}\n"
    )
    (home / "logs.db").unlink(missing_ok=True)
    return {"LLM_USER_PATH": str(home), "OPENAI_API_KEY": "not-needed"}


def report(
    name: str, times: list[float], ref: list[float], peaks: list[float] | None = None, cpu: list[float] | None = None
) -> str:
    ratio = statistics.median(times) / statistics.median(ref)
    peak = f", peak {statistics.median(peaks):.0f} MB" if peaks else ""
    spent = f", CPU {statistics.median(cpu):.3f}s" if cpu else ""
    return f"{name:<34} median {statistics.median(times):.3f}s  ({ratio:.2f}x the reference){spent}{peak}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--llm", default=shutil.which("llm"), help="the llm command (default: from PATH)")
    parser.add_argument("--paced", action="store_true", help="stream the reply in 4-character chunks (slow reading)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        fake.default = {"text": REPLY, "chunk": 4 if args.paced else 200}
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},  # as on a user's machine
            "LIVEPLAN_DATA_DIR": f"{tmp}/data",
            "LIVEPLAN_CONFIG": f"{tmp}/none.toml",
            "TERM": "xterm-256color",
        }
        liveplan = [sys.executable, "-m", "liveplan_tui.cli"]
        exec_runs: dict[str, list[tuple[float, float, float]]] = {"sdk": [], "liveplan": [], "llm": []}
        contestants = {
            "sdk": ([sys.executable, str(ROOT / "bench" / "sdk_baseline.py"), fake.base_url, QUESTION], env),
            "liveplan": ([*liveplan, "exec", "--base-url", fake.base_url, "--model", "fake-model", QUESTION], env),
        }
        if args.llm:
            contestants["llm"] = (
                [args.llm, "-m", "fake", "--no-log", QUESTION],
                {**env, **llm_setup(Path(tmp) / "llm", fake.base_url)},
            )
        tui = {
            "textual": [sys.executable, str(ROOT / "bench" / "minimal_textual.py")],
            "liveplan": [*liveplan, "--base-url", fake.base_url, "--model", "fake-model"],
        }
        tti: dict[str, list[float]] = {name: [] for name in tui}
        names = list(contestants)
        for name in names:  # warm-up, uncounted: byte-code caches written, files in the page cache
            timed(*contestants[name])
        for name in tui:
            time_to_interactive(tui[name], env)
        for n in range(args.runs):
            for name in names[n % len(names) :] + names[: n % len(names)]:
                exec_runs[name].append(timed(*contestants[name]))
            for name in list(tui)[n % 2 :] + list(tui)[: n % 2]:
                tti[name].append(time_to_interactive(tui[name], env))
        server = "paced: 4-character chunks" if args.paced else "unpaced: 200-character chunks, no delay"
        print(
            f"{args.runs} paired runs on {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
            f"a {len(REPLY)}-character reply; server {server}"
        )
        ref = [t for t, _, _ in exec_runs["sdk"]]
        for name in contestants:
            label = {"sdk": "bare openai SDK script", "liveplan": "liveplan exec", "llm": "llm (Simon Willison's)"}[
                name
            ]
            runs = exec_runs[name]
            print(report(label, [t for t, _, _ in runs], ref, [p for _, p, _ in runs], [c for _, _, c in runs]))
        if not args.llm:
            print("llm: not installed (pip install llm, or pass --llm PATH)")
        print(report("minimal Textual app, to first key", tti["textual"], tti["textual"]))
        print(report("liveplan TUI, to first key", tti["liveplan"], tti["textual"]))
        print(
            json.dumps(
                {k: [round(t, 3) for t, _, _ in v] for k, v in exec_runs.items() if v}
                | {f"tti_{k}": [round(t, 3) for t in v] for k, v in tti.items()}
            )
        )


if __name__ == "__main__":
    main()
