"""Everything is bounded: nesting in a model's JSON, a reply that never ends, what a hook or an MCP server writes
on stderr, and what a hook leaves running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from attack import exec_attack, make_workspace, tool_messages  # noqa: E402
from conftest import ROOT  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402

from liveplan_tui import jsonsafe  # noqa: E402

DEEP = 200_000
DEEP_CALL = 5_000  # deep enough to exhaust the recursion limit, small enough to stream quickly


def nested(kind: str, depth: int) -> str:
    if kind == "arrays":
        return "[" * depth + "]" * depth
    if kind == "objects":
        return '{"a":' * depth + "1" + "}" * depth
    return '[{"a":' * (depth // 2) + "1" + "}]" * (depth // 2)  # mixed


@pytest.mark.parametrize("kind", ["arrays", "objects", "mixed"])
@pytest.mark.parametrize("depth", [DEEP, 2_000, 100])
def test_deep_json_is_a_decode_error_never_a_recursion_error(kind: str, depth: int) -> None:
    with pytest.raises(json.JSONDecodeError):
        jsonsafe.loads(nested(kind, depth))
    assert jsonsafe.loads(nested(kind, 20)) is not None


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("read_file", '{"path": ' + nested("arrays", DEEP_CALL) + "}"),
        ("update_plan", '{"goal": "g", "steps": ' + nested("mixed", DEEP_CALL) + "}"),
        ("write_file", json.dumps(json.dumps({"path": "x", "content": json.loads(nested("objects", 500))}))),
        ("search", nested("objects", 300)),
        ("run_shell", '{"command": "ls", "timeout": ' + nested("arrays", 150) + "}"),
    ],
    ids=["arrays-5k", "mixed-5k", "twice-encoded-500", "objects-300", "arrays-150"],  # short ids: they go in env
)
def test_deeply_nested_arguments_are_an_error_result_for_the_model(
    fake: FakeOpenAI, tmp_path: Path, tool: str, arguments: str
) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.extend([{"tool_calls": [{"name": tool, "arguments": arguments}]}, {"text": "understood"}])
    proc = exec_attack(fake, ws, "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert tool_messages(fake)[0].startswith("error:"), tool_messages(fake)[0][:300]


@pytest.mark.slow
def test_a_deep_stream_frame_is_one_line(fake: FakeOpenAI, tmp_path: Path) -> None:
    frame = "data: " + nested("arrays", DEEP_CALL) + "\n\ndata: [DONE]\n\n"
    fake.script.extend([{"raw": frame, "content_type": "text/event-stream"}] * 4)
    proc = exec_attack(fake, make_workspace(tmp_path / "ws"))
    assert proc.returncode not in (0, 70), proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 3


@pytest.mark.slow
def test_a_deep_classifier_answer_falls_back(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.extend([{"when": "classify", "text": nested("objects", DEEP_CALL)}, {"text": "hi"}])
    proc = exec_attack(
        fake, make_workspace(tmp_path / "ws"), "--mode", "auto", task="refactor the parser in three steps"
    )
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_an_endless_reply_is_cut_with_one_line(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script.append({"endless": "la "})
    started = time.monotonic()
    proc = exec_attack(fake, make_workspace(tmp_path / "ws"))
    assert proc.returncode != 0 and time.monotonic() - started < 60
    assert "kept streaming" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert len(fake.requests) == 1  # not retried: it would stream without end again


FLOOD = (
    "import os,sys; chunk=b'x'*1048576+b'\\n'; [os.write(2, chunk) for _ in range(300)]; "
    "os.write(2, b'the last line\\n'); sys.exit(1)"
)


def peak_rss_mb(proc: subprocess.CompletedProcess) -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_measured(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    """A `liveplan` process and its peak memory (MB), measured alone in a fresh child."""
    probe = (
        "import resource, subprocess, sys; "
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)+'\\n'+p.stderr); "
        "sys.exit(p.returncode)"
    )
    full = {**os.environ, **(env or {})}
    ran = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "liveplan_tui.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full,
        timeout=120,
    )
    peak, _, stderr = ran.stdout.partition("\n")
    return subprocess.CompletedProcess(ran.args, ran.returncode, "", stderr), int(peak) / 1024


@pytest.mark.slow
def test_a_hook_flooding_stderr_is_read_only_as_far_as_kept(
    fake: FakeOpenAI, tmp_path: Path, isolated_env: Path
) -> None:
    ws = make_workspace(tmp_path / "ws")
    hook = f"{sys.executable} -c {json.dumps(FLOOD)}"
    (isolated_env / "config.toml").write_text(f'[[hooks]]\nevent = "turn_finished"\ncommand = {json.dumps(hook)}\n')
    fake.script.append({"text": "done"})
    proc, peak = run_measured(
        "exec", "--mode", "direct", "--base-url", fake.base_url, "--model", "m", "--workspace", str(ws), "hi"
    )
    assert proc.returncode == 0, proc.stderr
    assert "the last line" in proc.stderr and len(proc.stderr) < 5000
    assert peak < 200, f"peak {peak:.0f} MB: the hook's 300 MB of stderr was held"


@pytest.mark.slow
def test_an_mcp_server_flooding_stderr_is_read_only_as_far_as_kept(isolated_env: Path) -> None:
    table = f"[mcp_servers.flood]\ncommand = {json.dumps(sys.executable)}\nargs = {json.dumps(['-c', FLOOD])}\n"
    (isolated_env / "config.toml").write_text(table)
    proc, peak = run_measured("mcp", "list")
    assert proc.returncode == 1
    assert peak < 200, f"peak {peak:.0f} MB"
    disk = sum(f.stat().st_size for f in Path("/tmp").glob("tmp*") if f.is_file())
    assert disk < 100_000_000


@pytest.mark.slow
def test_what_a_hook_leaves_running_ends_with_it(fake: FakeOpenAI, tmp_path: Path, isolated_env: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    detach = (
        "setsid sh -c 'echo $$ > detached.pid; sleep 60' > /dev/null 2>&1 & (sleep 60 & echo $! "
        "> background.pid); sleep 0.3"
    )
    (isolated_env / "config.toml").write_text(f'[[hooks]]\nevent = "turn_finished"\ncommand = {json.dumps(detach)}\n')
    fake.script.append({"text": "done"})
    proc = exec_attack(fake, ws)
    assert proc.returncode == 0, proc.stderr
    time.sleep(0.3)
    for name in ("detached.pid", "background.pid"):
        pid = int((ws / name).read_text())
        try:
            os.kill(pid, 0)
            alive = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
        except ProcessLookupError:
            alive = False
        assert not alive, name
