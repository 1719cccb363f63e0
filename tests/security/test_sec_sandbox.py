"""Class 5: shell commands write only in the workspace and temp dir where the kernel has Landlock."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from attack import call, exec_attack, make_workspace, run_cli, tool_messages

from liveplan_tui.tools.reaper import landlock_abi, sandbox_status

ROOT = Path(__file__).resolve().parents[2]
needs_landlock = pytest.mark.skipif(landlock_abi() < 1, reason="this kernel has no Landlock; the status test covers that case")


def _outside_base() -> Path:
    """A writable folder that is neither under the temp dir nor /dev/shm (the checkout itself may be in /tmp)."""
    temp = Path(tempfile.gettempdir()).resolve()
    for base in (Path.home(), Path("/var/tmp"), ROOT):
        base = base.resolve()
        if base.is_dir() and os.access(base, os.W_OK) and not base.is_relative_to(temp) and not base.is_relative_to("/dev/shm"):
            return base
    pytest.skip("no writable folder outside the temp dir to probe the sandbox with")


@pytest.fixture
def outside() -> Path:
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


@needs_landlock
def test_writes_outside_the_workspace_are_refused(fake, tmp_path: Path, outside: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    script = "; ".join(a.format(out=outside) for a in ATTEMPTS) + "; touch inside.txt; echo tmp > $(mktemp)"
    fake.script.extend([call("run_shell", command=script), {"text": "done"}])
    proc = exec_attack(fake, ws, "--yes")
    assert proc.returncode == 0, proc.stderr
    assert list(outside.iterdir()) == []
    assert (ws / "inside.txt").exists()
    assert "Permission denied" in tool_messages(fake)[0]


@needs_landlock
def test_sandbox_off_lets_them_through(fake, tmp_path: Path, outside: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.extend([call("run_shell", command=f"touch {outside}/created"), {"text": "done"}])
    exec_attack(fake, ws, "--yes", "--sandbox", "off")
    assert (outside / "created").exists()


def test_the_sandbox_in_force_is_said(isolated_env: Path) -> None:
    proc = run_cli("config", "show")
    assert sandbox_status("workspace") in proc.stdout
    assert ("sandbox: workspace" if landlock_abi() >= 1 else "sandbox: off, kernel has no Landlock") in proc.stdout
    (isolated_env / "config.toml").write_text('shell_sandbox = "off"\n')
    assert "# sandbox: off" in run_cli("config", "show").stdout


def test_bad_sandbox_value_is_one_line(isolated_env: Path) -> None:
    proc = run_cli("exec", "--sandbox", "maybe", "x")
    assert proc.returncode == 2 and "--sandbox" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
