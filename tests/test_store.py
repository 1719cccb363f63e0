"""Sessions: the store, crash safety, resume, export, config commands, and the REPL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, assert_clean_stderr, run_cli
from fake_openai import FakeOpenAI, system_prompt
from test_exec import advance, create_plan

from liveplan_tui.plan import NewStep, PlanBoard, PlanUpdate
from liveplan_tui.store import SCHEMA_VERSION, Store, StoreError


def data_dir(home: Path) -> Path:
    return home / "data"


def test_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    sid = store.create_session("gpt-x", "/w")
    store.add_message(sid, {"role": "user", "content": "Fix   the\nparser please"})
    store.add_message(
        sid,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}],
        },
    )
    store.add_message(sid, {"role": "tool", "tool_call_id": "c1", "content": "ok"})
    board, _ = PlanBoard().apply(
        PlanUpdate(goal="g", steps=[NewStep(description="a", status="completed"), NewStep(description="b")])
    )
    store.save_board(sid, board)
    store.save_context(sid, [{"role": "user", "content": "Fix the parser please"}], "summary text")
    store.add_message(sid, {"role": "assistant", "content": "after the condensation"})
    store.save_artifact(sid, "a1", "big output")
    store.add_event(sid, "route", {"strategy": "plan"})
    saved = store.load(sid)
    assert len(saved.record) == 4 and saved.record[2] == {"role": "tool", "tool_call_id": "c1", "content": "ok"}
    assert saved.board == board and saved.summary == "summary text"
    assert saved.context == [
        {"role": "user", "content": "Fix the parser please"},
        {"role": "assistant", "content": "after the condensation"},
    ]
    assert saved.artifacts == {"a1": "big output"}
    info = store.sessions()[0]
    assert (info.id, info.title, info.model, info.progress) == (sid, "Fix the parser please", "gpt-x", "1/2 done")
    assert store.resolve(sid[:4]) == sid and store.resolve(None) == sid
    with pytest.raises(StoreError, match="no session 'zzz'"):
        store.resolve("zzz")


def test_migrations_set_the_version(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    sqlite3.connect(path).close()  # an empty, version-0 database
    Store(path).close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")} >= {
        "sessions",
        "messages",
        "plans",
        "context",
        "events",
        "artifacts",
    }
    Store(path).close()  # reopening an up-to-date database is a no-op


def test_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer LivePlan"):
        Store(path)
    assert path.read_bytes() == before


@pytest.mark.slow
def test_corrupt_database_is_refused_untouched(isolated_env: Path) -> None:
    path = data_dir(isolated_env) / "sessions.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not sqlite at all " * 100)
    before = path.read_bytes()
    proc = run_cli("exec", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "hi")
    assert proc.returncode == 1
    assert_clean_stderr(proc.stderr)
    assert "unreadable" in proc.stderr and "move it aside" in proc.stderr
    assert path.read_bytes() == before


def wait_for_plan(db: Path, done: int, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            row = con.execute("SELECT board FROM plans").fetchone()
            con.close()
        except sqlite3.Error:
            row = None
        if row:
            board = json.loads(row[0])
            if sum(s["status"] == "completed" for s in board["active"]["steps"]) >= done:
                return board
        time.sleep(0.05)
    raise AssertionError("the plan never reached that point")


@pytest.mark.slow
def test_kill_mid_turn_then_resume_finishes_the_plan(fake: FakeOpenAI, isolated_env: Path) -> None:
    fake.script.extend(
        [create_plan(), advance(1, 2), advance(2, 3), {"text": "still working " * 400, "chunk": 4, "delay": 0.02}]
    )
    env = {**os.environ}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liveplan_tui.cli",
            "exec",
            "--json",
            "--mode",
            "plan",
            "--base-url",
            fake.base_url,
            "--model",
            "m",
            "reverse a string",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    db = data_dir(isolated_env) / "sessions.db"
    board = wait_for_plan(db, 2)
    time.sleep(0.3)  # the next reply is streaming now
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    # every completed message and the exact plan survive
    store = Store(db)
    saved = store.load(store.resolve(None))
    assert [s.status for s in saved.board.active.steps] == ["completed", "completed", "in_progress"]
    assert saved.board.model_dump(mode="json") == board
    roles = [m["role"] for m in saved.record]
    assert roles[0] == "user" and roles.count("tool") == 3 and "still working" not in json.dumps(saved.record)
    store.close()
    # resume: the next request carries the same plan, and the run finishes step 3
    before = len(fake.model_requests())
    fake.script[:] = [advance(3, None), {"text": "All three steps done."}]
    resumed_run = run_cli(
        "exec", "--continue", "--json", "--mode", "plan", "--base-url", fake.base_url, "--model", "m", "continue"
    )
    assert resumed_run.returncode == 0, resumed_run.stderr
    resumed = fake.model_requests()[before]
    assert saved.board.active.render() in system_prompt(resumed)
    assert resumed["messages"][1] == {"role": "user", "content": "reverse a string"}
    assert json.loads(resumed_run.stdout.splitlines()[-1])["answer"] == "All three steps done."
    listing = run_cli("sessions").stdout
    assert "3/3 done ✔" in listing and "reverse a string" in listing


@pytest.mark.slow
def test_export_is_readable_markdown(fake: FakeOpenAI, isolated_env: Path, tmp_path: Path) -> None:
    fake.script.extend([create_plan(), advance(1, 2), advance(2, 3), advance(3, None), {"text": "Use `s[::-1]`."}])
    assert (
        run_cli("exec", "--mode", "plan", "--base-url", fake.base_url, "--model", "m", "reverse a string").returncode
        == 0
    )
    sid = json.loads(run_cli("sessions", "--json").stdout.splitlines()[0])["id"]
    out = tmp_path / "t.md"
    proc = run_cli("export", sid[:6], "-o", str(out))
    assert proc.returncode == 0
    text = out.read_text()
    assert text.startswith("# reverse a string\n")
    assert (
        "## Plan" in text
        and "- [x] 1. Step number 1 (no recorded work) → result 1" in text
        and "(finished, 3/3 done)" in text
    )
    assert "### You\n\nreverse a string" in text and "### LivePlan\n\nUse `s[::-1]`." in text
    assert "- tool `update_plan`" in text
    assert run_cli("export", "nope").returncode == 1


@pytest.mark.slow
def test_config_commands_and_errors(isolated_env: Path) -> None:
    path = Path(run_cli("config", "path").stdout.strip())
    assert path == isolated_env / "config.toml"
    assert run_cli("config", "init").returncode == 0 and path.is_file()
    again = run_cli("config", "init")
    assert again.returncode == 2 and "already exists" in again.stderr
    path.write_text('approval = "sometimes"\n')
    bad = run_cli("config", "show")
    assert bad.returncode == 2 and f"config file {path} line 1: 'approval'" in bad.stderr
    path.write_text('model = "x"\nmystery = 1\n')
    bad = run_cli("exec", "hi")
    assert bad.returncode == 2 and "line 2: 'mystery'" in bad.stderr and "Traceback" not in bad.stderr
    path.write_text(
        'profile = "box"\n[profiles.box]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = '
        '"boxed"\napi_key_env = "BOX_KEY"\n'
    )
    missing = run_cli("config", "show")
    assert missing.returncode == 2 and "needs its key in $BOX_KEY" in missing.stderr
    shown = run_cli("config", "show", env={"BOX_KEY": "sk-box-secret-123456"})
    assert 'model = "boxed"' in shown.stdout and 'api_key = "[set]"' in shown.stdout
    assert "sk-box-secret" not in shown.stdout
    assert 'model = "cli"' in run_cli("config", "show", env={"BOX_KEY": "k", "LIVEPLAN_MODEL": "cli"}).stdout


@pytest.mark.slow
def test_profile_key_is_sent_to_its_endpoint(fake: FakeOpenAI, isolated_env: Path) -> None:
    (isolated_env / "config.toml").write_text(
        f'profile = "box"\n[profiles.box]\nbase_url = "{fake.base_url}"\nmodel = "boxed"\napi_key_env = "BOX_KEY"\n'
    )
    fake.script.append({"text": "hi"})
    proc = run_cli("exec", "hello", env={"BOX_KEY": "sk-box-key", "OPENAI_API_KEY": "sk-openai-never"})
    assert proc.returncode == 0, proc.stderr
    assert fake.headers[-1]["authorization"] == "Bearer sk-box-key"
    assert fake.model_requests()[0]["model"] == "boxed"


def test_repl_streams_and_prints_the_plan(fake: FakeOpenAI, tmp_path: Path) -> None:
    import asyncio
    import io

    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from liveplan_tui.config import load_settings, resolve_endpoint
    from liveplan_tui.repl import run_repl

    fake.script.extend(
        [create_plan(), advance(1, 2), {"text": "Streaming reply text."}, {"text": "Step 2 waits for you."}]
    )
    fake.script.append(write_call(tmp_path))
    fake.script.append({"text": "wrote it"})
    settings = load_settings(base_url=fake.base_url, model="m", mode="plan", workspace=str(tmp_path))
    out = io.StringIO()

    async def go() -> None:
        with create_pipe_input() as pipe:
            pipe.send_text("do the thing\n")
            pipe.send_text("/plan add Extra step\n")
            pipe.send_text("write it\n")
            pipe.send_text("y\n")
            pipe.send_text("/quit\n")
            await run_repl(
                settings, resolve_endpoint(settings), lambda a: None, None, input=pipe, output=DummyOutput(), out=out
            )

    asyncio.run(go())
    text = out.getvalue()
    assert "┌ plan: Reverse a string (0/3 done)" in text and "│ ▶ 1. Step number 1" in text
    assert "│ ✔ 1. Step number 1 (no recorded work) → result 1" in text
    assert "Streaming reply text." in text
    assert "│ ○ 4. Extra step" in text
    assert "? write_file changes files:" in text and (tmp_path / "r.txt").read_text() == "R"


def write_call(tmp_path: Path) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": "r.txt", "content": "R"}}]}


@pytest.mark.slow
def test_sessions_list_when_empty() -> None:
    proc = run_cli("sessions")
    assert proc.returncode == 0 and proc.stdout.strip() == "no sessions yet"
