"""Child process: run the llama.cpp server for one model and print where it listens.

    python -m liveplan_tui.local.serve --model PATH [--threads 2] [--ctx 8192] [--cache-ram 256]

Prints `READY <url>` on stdout once listening. It exits when the parent dies
(PR_SET_PDEATHSIG where available, and a watchdog on the parent pid), or on SIGTERM.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys
import threading
import time


def die_with_parent() -> None:
    """Ask Linux to SIGKILL us when the parent goes, even if it was SIGKILLed itself."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(prog="liveplan-local-server")
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--cache-ram", type=int, default=256)
    parser.add_argument("--parent", type=int, default=os.getppid())
    opts = parser.parse_args()
    die_with_parent()
    threading.Thread(target=watch_parent, args=(opts.parent,), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = opts.model
    params.n_ctx = opts.ctx
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.cpuparams.n_threads = opts.threads
    params.cpuparams_batch.n_threads = opts.threads
    params.cache_ram_mib = opts.cache_ram
    params.n_parallel = 2
    server = xllamacpp.Server(params)
    print(f"READY {server.listening_address}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # reported to the parent on stderr as one line
        print(f"ERROR {type(exc).__name__}: {exc}", flush=True)
        sys.exit(1)
