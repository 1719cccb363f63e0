"""Running `liveplan serve` / `watch` as real processes, and the headless Chromium that browses them."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import ROOT, run_cli
from fake_openai import FakeOpenAI

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt install chromium)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A `liveplan` server process and the URL it printed as its first line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "liveplan_tui.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://"), (url, proc.stderr.read() if proc.poll() is not None else "")
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers (a refusal is an answer)
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield proc, url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def make_session(fake: FakeOpenAI, *extra: str) -> None:
    steps = [{"description": "Read the code", "status": "in_progress"}, {"description": "Change it"}]
    fake.script.extend(
        [
            {"tool_calls": [{"name": "update_plan", "arguments": {"goal": "Fix the bug", "steps": steps}}]},
            {
                "tool_calls": [
                    {
                        "name": "update_plan",
                        "arguments": {
                            "updates": [
                                {"id": 1, "status": "completed", "result": "found it"},
                                {"id": 2, "status": "in_progress"},
                            ]
                        },
                    }
                ]
            },
            {"text": "Halfway there."},
            {"text": "Step 2 waits for your go."},  # the answer to LivePlan's question about the open step
        ]
    )
    run_cli("exec", "--mode", "plan", "--base-url", fake.base_url, "--model", "m", *extra, "fix the bug")
