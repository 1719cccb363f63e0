"""The local llama.cpp server as a child process that never outlives us.

Start: spawn `serve.py`, wait for its `READY <url>` line with a timeout.
Stop: SIGTERM, then SIGKILL after a grace period (it has been seen to ignore
SIGTERM mid-generation). If we are killed, the child dies with us through
PR_SET_PDEATHSIG and its own watchdog on our pid.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .model import ModelError

DEFAULT_THREADS = 2


class LocalRuntime:
    def __init__(self, model: Path, *, threads: int = DEFAULT_THREADS, ctx: int = 8192, cache_ram_mib: int = 256):
        self.model = model
        self.threads = threads
        self.ctx = ctx
        self.cache_ram_mib = cache_ram_mib
        self.proc: subprocess.Popen[str] | None = None
        self.base_url: str | None = None
        self.log_path: Path | None = None

    def start(self, timeout: float = 60.0, tick: Callable[[float], None] | None = None) -> str:
        """Start the server and return its /v1 base URL; ModelError on failure."""
        if not self.model.is_file():
            raise ModelError(f"model file not found: {self.model}")
        from .model import cache_dir

        self.log_path = cache_dir() / "local-server.log"
        log = self.log_path.open("w")
        cmd = [
            sys.executable,
            "-m",
            "liveplan_tui.local.serve",
            "--model",
            str(self.model),
            "--threads",
            str(self.threads),
            "--ctx",
            str(self.ctx),
            "--cache-ram",
            str(self.cache_ram_mib),
            "--parent",
            str(os.getpid()),
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True)
        log.close()
        atexit.register(self.stop)
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(self.proc.stdout.readline() if self.proc and self.proc.stdout else ""),
            daemon=True,
        )
        reader.start()
        started = time.monotonic()
        while reader.is_alive():
            elapsed = time.monotonic() - started
            if elapsed > timeout:
                self.stop()
                raise ModelError(f"the local model server did not start within {timeout:.0f}s; see {self.log_path}")
            if tick:
                tick(elapsed)
            reader.join(0.1)
        first = line[0].strip() if line else ""
        if not first.startswith("READY "):
            self.stop()
            detail = first.removeprefix("ERROR ") or f"exit code {self.proc.poll()}"
            raise ModelError(f"the local model server failed to start ({detail}); see {self.log_path}")
        self.base_url = first.split(" ", 1)[1].rstrip("/") + "/v1"
        return self.base_url

    def stop(self, grace: float = 3.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def __enter__(self) -> LocalRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
