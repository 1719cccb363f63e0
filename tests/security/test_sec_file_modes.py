"""Class 9: written files keep the user's conventions: the umask for new files, the old mode for edits."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from attack import call, exec_attack, make_workspace

from liveplan_tui.confined import current_umask


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.slow
def test_new_files_get_the_umask_and_edits_keep_the_mode(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    hooks = ws / ".git" / "hooks"
    hooks.mkdir(parents=True)
    (ws / "run.sh").write_text("#!/bin/sh\necho old\n")
    os.chmod(ws / "run.sh", 0o755)
    (ws / "private.txt").write_text("old\n")
    os.chmod(ws / "private.txt", 0o640)
    fake.script.extend(
        [
            call("write_file", path="new.txt", content="hello\n"),
            call("write_file", path=".git/hooks/pre-commit", content="#!/bin/sh\nexit 0\n"),
            call("edit_file", path="run.sh", old="old", new="new"),
            call("write_file", path="private.txt", content="new\n"),
            {"text": "done"},
        ]
    )
    proc = exec_attack(fake, ws, "--yes")
    assert proc.returncode == 0, proc.stderr
    expected_new = 0o666 & ~current_umask()
    assert mode(ws / "new.txt") == expected_new
    assert mode(hooks / "pre-commit") == expected_new
    assert mode(ws / "run.sh") == 0o755 and "new" in (ws / "run.sh").read_text()
    assert mode(ws / "private.txt") == 0o640


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_current_umask_reads_without_changing_it(umask: int) -> None:
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        assert current_umask() == umask
    finally:
        os.umask(old)
