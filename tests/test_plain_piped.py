"""Plain mode with piped input: `echo TASK | liveplan chat --plain` and `liveplan chat --plain < script.txt` read
plain lines without the line editor; a line over the limit is refused in one line, the end of input quits cleanly,
and SIGTERM exits 143 with one line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT
from fake_openai import FakeOpenAI

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)


def plain(fake: FakeOpenAI, workspace: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "liveplan_tui.cli",
        "chat",
        "--plain",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "--mode",
        "direct",
        "--workspace",
        str(workspace),
        *extra,
    ]


def test_a_piped_script_runs_line_by_line_and_ends_cleanly(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend(
        [
            {"text": "First answer."},
            {"tool_calls": [{"name": "write_file", "arguments": {"path": "a.txt", "content": "hi\n"}}]},
            {"text": "Wrote it."},
        ]
    )
    script = tmp_path / "script.txt"
    script.write_text("first question\n/mode direct\n\nwrite a.txt please\ny\n")
    with script.open("rb") as stdin:
        proc = subprocess.run(plain(fake, tmp_path), stdin=stdin, capture_output=True, cwd=ROOT, timeout=60)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "First answer." in out and "Wrote it." in out and (tmp_path / "a.txt").read_text() == "hi\n"
    assert "not a terminal" not in err and "Traceback" not in err and err.strip() == ""
    sent = [m["content"] for r in fake.main_requests() for m in r["messages"] if m["role"] == "user"]
    assert "first question" in sent and "write a.txt please" in sent


def test_a_line_over_the_limit_is_refused_in_one_line_and_the_next_goes_on(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.append({"text": "After the long one."})
    data = b"x" * 6_000_000 + b"\nstill here\n"
    started = time.monotonic()
    proc = subprocess.run(plain(fake, tmp_path), input=data, capture_output=True, cwd=ROOT, timeout=60)
    out = proc.stdout.decode()
    assert proc.returncode == 0 and time.monotonic() - started < 30
    assert out.count("it was not sent") == 1 and "After the long one." in out
    assert all(len(m["content"]) < 1000 for r in fake.main_requests() for m in r["messages"] if m["role"] == "user")


def test_end_of_input_with_no_lines_quits_cleanly(fake: FakeOpenAI, tmp_path: Path) -> None:
    proc = subprocess.run(plain(fake, tmp_path), input=b"", capture_output=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and proc.stderr.decode().strip() == "" and fake.requests == []


def test_sigterm_while_a_turn_runs_exits_143_with_one_line(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.append({"text": "too late", "hang": 15})
    proc = subprocess.Popen(
        plain(fake, tmp_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT
    )
    assert proc.stdin is not None
    proc.stdin.write(b"take your time\n")
    proc.stdin.flush()  # the pipe stays open: the reader thread is blocked on it when the signal comes
    deadline = time.monotonic() + 20
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert proc.returncode == 143 and len(lines) == 1 and "SIGTERM" in lines[0], err
