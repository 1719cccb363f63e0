"""Class 7: bytes that are not UTF-8 (names, contents, task text, REPL input) never end a turn."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from attack import call, exec_attack, make_workspace, tool_messages

from liveplan_tui.agent.conversation import Conversation
from liveplan_tui.textsafe import clean_text

NAMES = [b"caf\xe9.txt", b"\xff\xfe.py", b"ok-\x80-\xc3(.md", b"esc\x1b[2J.txt"]


@pytest.mark.slow
def test_undecodable_file_names_are_listed_searched_and_shown(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    for name in NAMES:
        with open(os.path.join(os.fsencode(ws), name), "wb") as fh:
            fh.write(b"needle \xff\xfe latin-1 \xe9\n")
    fake.script.extend([call("list_dir", path="."), call("search", pattern="needle"), {"text": "listed"}])
    proc = exec_attack(fake, ws)
    assert proc.returncode == 0, proc.stderr
    listing, found = tool_messages(fake)
    assert "caf\\xe9.txt" in listing and "\\xff\\xfe.py" in listing and "\\x1b" in listing
    assert found.count("needle") == len(NAMES)
    assert proc.stdout.strip() == "listed"


@pytest.mark.slow
def test_undecodable_contents_are_read_with_replacement(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    (ws / "latin1.txt").write_bytes("naïve café\n".encode("latin-1"))
    fake.script.extend(
        [call("read_file", path="latin1.txt"), call("run_shell", command="cat latin1.txt"), {"text": "read"}]
    )
    proc = exec_attack(fake, ws, "--yes")
    assert proc.returncode == 0, proc.stderr
    assert all("\ufffd" in r for r in tool_messages(fake))


@pytest.mark.slow
@pytest.mark.parametrize("task", [b"fix caf\xe9", b"\xff\xfe\x00bad", b"ok \xc3( then"])
def test_task_argument_with_bad_bytes(fake, tmp_path: Path, task: bytes) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.append({"text": "handled"})
    proc = subprocess.run(
        [
            os.fsencode(sys.executable),
            b"-m",
            b"liveplan_tui.cli",
            b"exec",
            b"--mode",
            b"direct",
            b"--base-url",
            fake.base_url.encode(),
            b"--model",
            b"m",
            b"--workspace",
            os.fsencode(ws),
            task.replace(b"\x00", b""),
        ],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == "handled\n"
    assert "\ufffd" in fake.model_requests()[-1]["messages"][-1]["content"]


@pytest.mark.slow
def test_task_from_stdin_with_bad_bytes(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.append({"text": "from stdin"})
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "liveplan_tui.cli",
            "exec",
            "--mode",
            "direct",
            "--base-url",
            fake.base_url,
            "--model",
            "m",
            "--workspace",
            str(ws),
            "-",
        ],
        input=b"explain caf\xe9 \xff please",
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == "from stdin\n"
    assert "explain caf\ufffd" in fake.model_requests()[-1]["messages"][-1]["content"]


@pytest.mark.parametrize("text", ["caf\udce9", "\udcff\udcfe", "plain"])
def test_conversation_never_holds_unencodable_text(text: str) -> None:
    conv = Conversation()
    conv.add({"role": "user", "content": text})
    conv.messages[-1]["content"].encode("utf-8")
    assert clean_text(text) == conv.messages[-1]["content"]
