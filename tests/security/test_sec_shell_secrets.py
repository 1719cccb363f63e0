"""Class 4: the app's secrets stay out of the tools' reach, and model-call errors are masked everywhere."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from attack import call, everything_sent, exec_attack, make_workspace, run_cli, tool_messages

KEY = "sk-live-abcdefghijklmnop0123456789"
ENV = {
    "LIVEPLAN_API_KEY": KEY,
    "OPENAI_API_KEY": "sk-openai-zyxwvutsrqponmlk98765",
    "GITHUB_TOKEN": "ghp_notreallyatokenbutlongenough123",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-value-1234567890",
    "DB_PASSWORD": "pw-value-1234567890",
    "MY_APP_PAT": "pat-value-1234567890",
    "HARMLESS_SETTING": "visible-value",
}
EXFILTRATION = "; ".join(
    [f'printf %s "${name}" | base64' for name in ENV] + ["env", "cat /proc/self/environ | tr '\\0' '\\n'"]
)


@pytest.mark.slow
def test_shell_commands_do_not_get_the_apps_secrets(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.extend([call("run_shell", command=EXFILTRATION), {"text": "done"}])
    proc = exec_attack(fake, ws, "--yes", env=ENV)
    assert proc.returncode == 0, proc.stderr
    (result,) = tool_messages(fake)
    sent = everything_sent(fake)
    for name, value in ENV.items():
        encoded = base64.b64encode(value.encode()).decode()
        if name == "HARMLESS_SETTING":
            assert value in result
        else:
            assert value not in sent and encoded not in sent and f"{name}=" not in result, name


@pytest.mark.slow
def test_a_listed_name_is_passed_through(fake, tmp_path: Path, isolated_env: Path) -> None:
    (isolated_env / "config.toml").write_text('shell_env_allow = ["GITHUB_TOKEN"]\n')
    ws = make_workspace(tmp_path / "ws")
    fake.script.extend(
        [
            call("run_shell", command='printf "%s" "$GITHUB_TOKEN" | base64; printf "[%s]" "$DB_PASSWORD"'),
            {"text": "ok"},
        ]
    )
    exec_attack(fake, ws, "--yes", env=ENV)
    (result,) = tool_messages(fake)
    assert base64.b64encode(ENV["GITHUB_TOKEN"].encode()).decode() in result
    assert "[]" in result


@pytest.mark.slow
def test_classifier_errors_are_masked_before_they_are_shown(fake) -> None:
    leak = f"invalid request: echoing your key {KEY} and postgres://u:pw-in-url-123@h/db"
    fake.script.append(
        {"when": "classify", "status": 400, "body": {"error": {"message": leak, "type": "invalid_request_error"}}}
    )
    proc = run_cli(
        "route",
        "--json",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "please look into the flaky build and decide",
        env={"LIVEPLAN_API_KEY": KEY},
    )
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout + proc.stderr
    assert KEY not in shown and "pw-in-url-123" not in shown
    assert "classifier failed" in json.loads(proc.stdout).get("note", "")


@pytest.mark.slow
def test_main_call_errors_are_masked_in_output_and_store(fake, tmp_path: Path, isolated_env: Path) -> None:
    leak = f"bad request for key {KEY} token=abcdefghijklmnopqrstu"
    fake.script.append({"status": 400, "body": {"error": {"message": leak, "type": "invalid_request_error"}}})
    ws = make_workspace(tmp_path / "ws")
    proc = exec_attack(fake, ws, env={"LIVEPLAN_API_KEY": KEY})
    assert proc.returncode == 1
    assert KEY not in proc.stderr and "abcdefghijklmnopqrstu" not in proc.stderr
    db = (isolated_env / "data" / "sessions.db").read_bytes()
    assert KEY.encode() not in db and b"abcdefghijklmnopqrstu" not in db


# -- credentials known by the shape of their value, and secrets kept out of what is shown and stored ----------

BY_VALUE = {
    "DATABASE_URL": "postgres://app:pw-by-url-0001@db:5432/app",
    "REDIS_URL": "rediss://:pw-by-url-0002@cache:6380/0",
    "HTTPS_PROXY": "http://bob:pw-proxy-0003@proxy.corp:3128",
    "ALL_PROXY": "socks5://carol:pw-proxy-0004@proxy:1080",
    "SENTRY_DSN": "https://dsn-public-0005@o1.ingest.sentry.io/1",
    "NPM_CONFIG__AUTH": "YXV0aC12YWx1ZS0wMDA2",
    "REGISTRY_AUTH": "auth-value-0007",
    "SSH_AUTH_SOCK": "/tmp/ssh-agent-0008/agent.1",
    "GPG_AGENT_INFO": "/run/user/0/gnupg/S.gpg-agent-0009:0:1",
    "DOCKER_HOST": "unix:///var/run/docker-0010.sock",
    "BUILD_CONFIG": "ghp_" + "0011" * 9,
    "DEPLOY_NOTE": "AKIAABCDEFGHIJKLMN12",
}
KEPT = {"HTTP_PROXY": "http://proxy.corp:3128", "DATABASE_HOST": "db.internal", "LANG": "C.UTF-8", "EDITOR": "vim"}


@pytest.mark.slow
def test_credentials_are_dropped_by_the_shape_of_their_value(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.extend([call("run_shell", command="env"), {"text": "done"}])
    proc = exec_attack(fake, ws, "--yes", env={**BY_VALUE, **KEPT})
    assert proc.returncode == 0, proc.stderr
    (result,) = tool_messages(fake)
    for name, value in BY_VALUE.items():
        assert f"{name}=" not in result and value not in everything_sent(fake), name
    for name, value in KEPT.items():
        assert f"{name}={value}" in result, name


@pytest.mark.slow
def test_shell_env_allow_still_lets_a_name_through(fake, tmp_path: Path, isolated_env: Path) -> None:
    (isolated_env / "config.toml").write_text('shell_env_allow = ["DATABASE_URL"]\n')
    ws = make_workspace(tmp_path / "ws")
    fake.script.extend([call("run_shell", command="echo $DATABASE_URL | base64"), {"text": "done"}])
    exec_attack(fake, ws, "--yes", env={"DATABASE_URL": BY_VALUE["DATABASE_URL"]})
    assert base64.b64encode((BY_VALUE["DATABASE_URL"] + "\n").encode()).decode() in tool_messages(fake)[0]


@pytest.mark.slow
def test_hooks_get_the_same_scrubbed_environment(fake, tmp_path: Path, isolated_env: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    (isolated_env / "config.toml").write_text('[[hooks]]\nevent = "turn_finished"\ncommand = "env > hook-env.txt"\n')
    fake.script.append({"text": "done"})
    exec_attack(fake, ws, env=BY_VALUE)
    seen = (ws / "hook-env.txt").read_text()
    assert not any(value in seen for value in BY_VALUE.values())


LEAKED = "sk-proj-" + "L" * 30
CREDS_URL = "postgres://app:hunter2-leak@db/app"


@pytest.mark.slow
def test_answers_notices_plans_and_the_store_are_masked(fake, tmp_path: Path, isolated_env: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    noisy = f"python3 -c \"import sys; sys.stderr.write('token {LEAKED}'); sys.exit(1)\""
    (isolated_env / "config.toml").write_text(f'[[hooks]]\nevent = "plan_created"\ncommand = {json.dumps(noisy)}\n')
    steps = [{"description": f"Use {CREDS_URL}", "status": "in_progress"}]
    fake.script.extend(
        [
            call("update_plan", goal=f"Rotate {LEAKED}", steps=steps, notes=f"key {LEAKED}"),
            call("update_plan", updates=[{"id": 1, "status": "completed", "result": f"got {LEAKED}"}]),
            {"text": f"The key is {LEAKED} and the database is {CREDS_URL}."},
        ]
    )
    proc = exec_attack(fake, ws, "--mode", "plan")
    assert proc.returncode == 0, proc.stderr
    assert "[REDACTED]" in proc.stdout and "hook" in proc.stderr
    shown = proc.stdout + proc.stderr
    fake.script.append({"text": f"again {LEAKED}"})
    as_json = run_cli(
        "exec",
        "--continue",
        "--json",
        "--mode",
        "direct",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "--workspace",
        str(ws),
        "again",
    )
    assert as_json.returncode == 0, as_json.stderr
    shown += as_json.stdout
    session = json.loads(run_cli("sessions", "--json").stdout.splitlines()[0])["id"]
    shown += run_cli("export", session).stdout
    stored = b"".join(p.read_bytes() for p in (isolated_env / "data").rglob("*") if p.is_file())
    assert LEAKED not in shown and "hunter2-leak" not in shown
    assert LEAKED.encode() not in stored and b"hunter2-leak" not in stored


def test_the_watch_page_masks_sessions_stored_before_masking(tmp_path: Path) -> None:
    from liveplan_tui.plan import LivePlan, PlanBoard, Step
    from liveplan_tui.store import open_store
    from liveplan_tui.web import session_state

    (tmp_path / "data").mkdir()
    store = open_store(tmp_path / "data")
    sid = store.create_session("m", str(tmp_path))
    store.add_message(sid, {"role": "assistant", "content": f"here: {LEAKED}"})
    plan = LivePlan(goal=f"g {LEAKED}", steps=(Step(id=1, description=CREDS_URL, result=LEAKED),))
    store.save_board(sid, PlanBoard(active=plan))
    assert LEAKED not in json.dumps(session_state(store, sid)) and "hunter2-leak" not in json.dumps(
        session_state(store, sid)
    )
