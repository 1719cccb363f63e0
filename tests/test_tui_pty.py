"""Scripted typing is typing: a line and its Enter that arrive in one read (tmux send-keys, expect, demo recorders)
send the whole line, in the real TUI on a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time

import pytest
from conftest import ROOT
from fake_openai import FakeOpenAI

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)


def drain(fd: int, seen: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        seen += chunk


@pytest.mark.parametrize(
    "line", ["hello from a script", "/help", "a longer line, typed by a recorder: with punctuation!"]
)
def test_a_line_and_enter_in_one_write_send_the_whole_line(fake: FakeOpenAI, tmp_path, line: str) -> None:
    fake.script.append({"text": "Got it."})
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liveplan_tui.cli",
            "--base-url",
            fake.base_url,
            "--model",
            "m",
            "--mode",
            "direct",
            "--workspace",
            str(tmp_path),
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    threading.Thread(target=drain, args=(master, seen), daemon=True).start()
    try:
        deadline = time.monotonic() + 30
        while b"idle" not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b"idle" in seen, "the TUI never drew its status bar"
        before = len(seen)
        os.write(master, line.encode() + b"\r")  # the line and its Enter in one write, as send-keys does
        deadline = time.monotonic() + 20
        if line.startswith("/"):
            while b"/rewind" not in seen[before:] and time.monotonic() < deadline:  # in the help, not the completions
                time.sleep(0.05)
            assert b"/rewind" in seen[before:] and fake.requests == []
        else:
            while not fake.main_requests() and time.monotonic() < deadline:
                time.sleep(0.05)
            sent = [m["content"] for r in fake.main_requests() for m in r["messages"] if m["role"] == "user"]
            assert sent == [line]
    finally:
        os.write(master, b"\x03\x03")
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(master)
