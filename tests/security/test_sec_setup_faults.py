"""Class 8: setup faults give one actionable line and a documented exit code, never exit 70."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from attack import exec_attack, make_workspace, run_cli

from liveplan_tui.plan import PlanBoard
from liveplan_tui.repl import MAX_INPUT_CHARS
from liveplan_tui.store import Store, StoreError


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr and "internal error" not in stderr, stderr
    return lines[0]


def test_full_disk_names_the_full_disk(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    session = store.create_session("m", "/w")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError, match="the disk is full"):
        for _ in range(200):
            store.add_message(session, {"role": "user", "content": "x" * 5000})
    store.db.execute("PRAGMA max_page_count = 1000000")
    store.add_message(session, {"role": "user", "content": "after space was freed"})  # no transaction left open


def test_read_only_database_is_named(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.db.execute("PRAGMA query_only = 1")
    with pytest.raises(StoreError, match="read-only"):
        store.create_session("m", "/w")


@pytest.mark.slow
def test_data_dir_under_a_regular_file(fake, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    proc = exec_attack(fake, make_workspace(tmp_path / "ws"), env={"LIVEPLAN_DATA_DIR": str(blocker / "data")})
    assert proc.returncode == 2
    assert "LIVEPLAN_DATA_DIR" in one_line(proc.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["latin-1", "folder"])
def test_broken_config_file(fake, tmp_path: Path, isolated_env: Path, kind: str) -> None:
    config = isolated_env / "config.toml"
    if kind == "folder":
        config.mkdir()
    else:
        config.write_bytes('model = "caf\xe9"\n'.encode("latin-1"))
    proc = exec_attack(fake, make_workspace(tmp_path / "ws"))
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert str(config) in line and ("UTF-8" in line or "folder" in line)


@pytest.mark.slow
def test_one_damaged_plan_row_does_not_hide_the_other_sessions(isolated_env: Path) -> None:
    data = isolated_env / "data"
    data.mkdir(exist_ok=True)
    store = Store(data / "sessions.db")
    good = store.create_session("m", "/w")
    store.add_message(good, {"role": "user", "content": "good one"})
    store.save_board(good, PlanBoard())
    time.sleep(0.01)
    bad = store.create_session("m", "/w")
    store.add_message(bad, {"role": "user", "content": "bad one"})
    store.db.execute(
        "INSERT INTO plans (session_id, board, updated) VALUES (?, ?, ?)", (bad, '{"active": {"steps": [{"id": "x"', 0)
    )
    store.close()
    proc = run_cli("sessions")
    assert proc.returncode == 0, proc.stderr
    assert good in proc.stdout and bad in proc.stdout and "damaged" in proc.stdout
    rows = [json.loads(line) for line in run_cli("sessions", "--json").stdout.splitlines()]
    assert {r["id"] for r in rows} == {good, bad}


@pytest.mark.slow
@pytest.mark.parametrize(
    "body", ["<!doctype html><html><body>Sign in</body></html>", "<html><head><title>502</title></head></html>"]
)
def test_html_instead_of_an_api_fails_at_once(fake, tmp_path: Path, body: str) -> None:
    fake.script.extend([{"raw": body}] * 6)
    proc = exec_attack(fake, make_workspace(tmp_path / "ws"))
    assert proc.returncode == 1
    assert "not an OpenAI-compatible endpoint" in one_line(proc.stderr)
    assert len(fake.model_requests()) == 1


@pytest.mark.slow
def test_two_processes_continuing_one_session(fake, tmp_path: Path, isolated_env: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.append({"text": "first"})
    assert exec_attack(fake, ws).returncode == 0
    store = Store(isolated_env / "data" / "sessions.db")
    store.lock(store.resolve(None))  # another LivePlan holds it
    proc = exec_attack(fake, ws, "--continue")
    assert proc.returncode == 1
    assert "open elsewhere" in one_line(proc.stderr)
    store.close()
    fake.script.append({"text": "second"})
    assert exec_attack(fake, ws, "--continue").returncode == 0


@pytest.mark.parametrize("size", [MAX_INPUT_CHARS + 1, 10_000_000])
async def test_a_huge_repl_line_is_refused_with_a_message(fake, tmp_path: Path, size: int) -> None:
    from liveplan_tui.agent.session import Session as Agent
    from liveplan_tui.config import load_settings, resolve_endpoint
    from liveplan_tui.repl import Repl

    class Out:
        text = ""

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    settings = load_settings(base_url=fake.base_url, model="m", workspace=str(make_workspace(tmp_path / "ws")))
    out = Out()
    repl = Repl(Agent(settings, resolve_endpoint(settings)), lines=None, out=out)  # type: ignore[arg-type]
    assert await repl.handle_line("x" * size) is True
    assert "the limit is" in out.text and f"{size:,}" in out.text
    assert fake.model_requests() == []
    fake.script.append({"text": "a normal reply"})
    await repl.handle_line("a normal question")
    assert "a normal reply" in out.text


@pytest.mark.slow
def test_corrupt_session_file_is_one_line(isolated_env: Path) -> None:
    data = isolated_env / "data"
    data.mkdir(exist_ok=True)
    (data / "sessions.db").write_bytes(b"this is not sqlite" * 100)
    proc = run_cli("sessions")
    assert proc.returncode == 1 and "move it aside" in one_line(proc.stderr)


def test_sqlite_error_mapping_is_total() -> None:
    from liveplan_tui.store import write_error

    for message in (
        "database or disk is full",
        "attempt to write a readonly database",
        "database is locked",
        "disk I/O error",
    ):
        err = write_error(Path("/x/s.db"), sqlite3.OperationalError(message))
        assert "/x/s.db" in str(err) and "\n" not in str(err)
