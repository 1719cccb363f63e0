"""Class 5: shell commands write only in the workspace and temp dir where the kernel has Landlock."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from attack import call, exec_attack, make_workspace, run_cli, tool_messages

from liveplan_tui.tools.reaper import landlock_abi, parts_in_force, sandbox_status

ROOT = Path(__file__).resolve().parents[2]
needs_landlock = pytest.mark.skipif(
    landlock_abi() < 1, reason="this kernel has no Landlock; the status test covers that case"
)


def _outside_base() -> Path:
    """A writable folder that is neither under the temp dir nor /dev/shm (the checkout itself may be in /tmp)."""
    temp = Path(tempfile.gettempdir()).resolve()
    for base in (Path.home(), Path("/var/tmp"), ROOT):
        base = base.resolve()
        if (
            base.is_dir()
            and os.access(base, os.W_OK)
            and not base.is_relative_to(temp)
            and not base.is_relative_to("/dev/shm")
        ):
            return base
    pytest.skip("no writable folder outside the temp dir to probe the sandbox with")


@pytest.fixture
def outside() -> Iterator[Path]:
    """A folder outside both the workspace and the temp dir."""
    path = _outside_base() / f".liveplan-sandbox-probe-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


ATTEMPTS = [
    "touch {out}/created",
    "echo x > {out}/redirected",
    "mkdir {out}/folder",
    "ln -s /etc/passwd {out}/link",
    "cp app.py {out}/copied",
    "python3 -c \"open('{out}/py', 'w').write('x')\"",
    "sh -c 'setsid sh -c \"touch {out}/escaped\"'",
]


@pytest.mark.slow
@needs_landlock
def test_writes_outside_the_workspace_are_refused(fake, tmp_path: Path, outside: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    script = "; ".join(a.format(out=outside) for a in ATTEMPTS) + "; touch inside.txt; echo tmp > $(mktemp)"
    fake.script.extend([call("run_shell", command=script), {"text": "done"}])
    proc = exec_attack(fake, ws, "--yes")
    assert proc.returncode == 0, proc.stderr
    assert list(outside.iterdir()) == []
    assert (ws / "inside.txt").exists()
    refusal = tool_messages(fake)[0]
    assert "Permission denied" in refusal or "Read-only file system" in refusal  # Landlock, or the read-only mounts


@pytest.mark.slow
@needs_landlock
def test_sandbox_off_lets_them_through(fake, tmp_path: Path, outside: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.extend([call("run_shell", command=f"touch {outside}/created"), {"text": "done"}])
    exec_attack(fake, ws, "--yes", "--sandbox", "off")
    assert (outside / "created").exists()


@pytest.mark.slow
def test_the_sandbox_in_force_is_said(isolated_env: Path) -> None:
    proc = run_cli("config", "show")
    assert sandbox_status("workspace") in proc.stdout
    assert ("sandbox: workspace" if landlock_abi() >= 1 else "sandbox: off, kernel has no Landlock") in proc.stdout
    (isolated_env / "config.toml").write_text('shell_sandbox = "off"\n')
    assert "# sandbox: off" in run_cli("config", "show").stdout


@pytest.mark.slow
def test_bad_sandbox_value_is_one_line(isolated_env: Path) -> None:
    proc = run_cli("exec", "--sandbox", "maybe", "x")
    assert proc.returncode == 2 and "--sandbox" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# -- what a command can reach, not only what it can write ---------------------------------------------------

needs_isolation = pytest.mark.skipif(
    not parts_in_force()["unix sockets"], reason="no user namespaces here; the status test says which part is missing"
)
SERVER = """
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX)
s.bind(path if not path.startswith("@") else "\\0" + path[1:])
s.listen()
print("ready", flush=True)
while True:
    c, _ = s.accept()
    open(sys.argv[2], "a").write(c.recv(100).decode())
    c.close()
"""
CLIENT = (
    'python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); p=sys.argv[1]; '
    "s.connect(p if p[0] != '@' else chr(0)+p[1:]); s.send(b'escaped')\" {path}"
)


@contextmanager
def listening(path: str, log: Path) -> Iterator[None]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, path, str(log)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.slow
@needs_isolation
@pytest.mark.parametrize("where", ["outside", "temp", "abstract"])
def test_unix_sockets_outside_cannot_be_reached(fake, tmp_path: Path, outside: Path, where: str) -> None:
    ws = make_workspace(tmp_path / "ws")
    log = outside / "received.log"
    path = {
        "outside": str(outside / "agent.sock"),
        "temp": tempfile.mktemp(suffix=".sock"),
        "abstract": f"@lp-{uuid.uuid4().hex}",
    }[where]
    with listening(path, log):
        fake.script.extend([call("run_shell", command=CLIENT.format(path=path)), {"text": "done"}])
        proc = exec_attack(fake, ws, "--yes")
        assert proc.returncode == 0, proc.stderr
    assert not log.exists() or log.read_text() == ""
    assert "exit code" in tool_messages(fake)[0] or "Error" in tool_messages(fake)[0], tool_messages(fake)[0]


@pytest.mark.slow
@needs_isolation
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")
def test_a_tmux_server_outside_cannot_be_driven(fake, tmp_path: Path, outside: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    sock = outside / "tmux.sock"
    subprocess.run(["tmux", "-S", str(sock), "new-session", "-d", "sleep 60"], check=True)
    try:
        escape = f"tmux -S {sock} send-keys 'touch {outside}/pwned' Enter; tmux -S {sock} ls"
        fake.script.extend([call("run_shell", command=escape), {"text": "done"}])
        exec_attack(fake, ws, "--yes")
        time.sleep(0.5)
        assert not (outside / "pwned").exists()
        assert "sleep" not in tool_messages(fake)[0]
    finally:
        subprocess.run(["tmux", "-S", str(sock), "kill-server"], check=False)


@pytest.mark.slow
@needs_isolation
def test_its_own_sockets_in_the_workspace_and_temp_dir_work(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    serve = f"python3 -c {shlex.quote(SERVER)} {{path}} got.log & sleep 0.5; " + CLIENT + "; sleep 0.3; cat got.log"
    fake.script.extend([call("run_shell", command=serve.format(path="own.sock")), {"text": "done"}])
    exec_attack(fake, ws, "--yes")
    assert "escaped" in tool_messages(fake)[0]


@pytest.mark.slow
@needs_isolation
def test_metadata_outside_cannot_change(fake, tmp_path: Path, outside: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    victim = outside / "victim.txt"
    victim.write_text("x")
    victim.chmod(0o644)
    before = victim.stat()
    attempts = [
        f"chmod 777 {victim}",
        f"touch -d 2001-01-01 {victim}",
        f"chown {os.getuid()}:{os.getgid()} {victim}",
        f"python3 -c \"import os; os.utime('{victim}', (0, 0))\"",
        f"setfattr -n user.x -v 1 {victim}",
    ]
    fake.script.extend([call("run_shell", command="; ".join(attempts)), {"text": "done"}])
    exec_attack(fake, ws, "--yes")
    after = victim.stat()
    assert (after.st_mode, after.st_mtime, after.st_uid) == (before.st_mode, before.st_mtime, before.st_uid)
    assert "Read-only file system" in tool_messages(fake)[0]


@pytest.mark.slow
@pytest.mark.skipif(not parts_in_force()["signals"], reason="Landlock ABI < 6: the status says signals are not scoped")
def test_processes_outside_its_tree_cannot_be_signalled(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        fake.script.extend(
            [call("run_shell", command=f"kill -9 {bystander.pid}; kill -STOP {os.getpid()}"), {"text": "done"}]
        )
        exec_attack(fake, ws, "--yes")
        assert bystander.poll() is None
        assert "Operation not permitted" in tool_messages(fake)[0]
    finally:
        bystander.kill()


def test_the_status_names_each_missing_part() -> None:
    from liveplan_tui.tools.reaper import PARTS

    status = sandbox_status("workspace")
    parts = parts_in_force()
    assert set(parts) == set(PARTS)
    for name, held in parts.items():
        assert (name in status) == (not held and parts["writes"]), (name, status)
