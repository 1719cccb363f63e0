"""Class 4: the app's secrets stay out of the tools' reach, and model-call errors are masked everywhere."""

from __future__ import annotations

import base64
import json
from pathlib import Path

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


def test_a_listed_name_is_passed_through(fake, tmp_path: Path, isolated_env: Path) -> None:
    (isolated_env / "config.toml").write_text('shell_env_allow = ["GITHUB_TOKEN"]\n')
    ws = make_workspace(tmp_path / "ws")
    fake.script.extend([call("run_shell", command='printf "%s" "$GITHUB_TOKEN" | base64; printf "[%s]" "$DB_PASSWORD"'), {"text": "ok"}])
    exec_attack(fake, ws, "--yes", env=ENV)
    (result,) = tool_messages(fake)
    assert base64.b64encode(ENV["GITHUB_TOKEN"].encode()).decode() in result
    assert "[]" in result


def test_classifier_errors_are_masked_before_they_are_shown(fake) -> None:
    leak = f"invalid request: echoing your key {KEY} and postgres://u:pw-in-url-123@h/db"
    fake.script.append({"when": "classify", "status": 400, "body": {"error": {"message": leak, "type": "invalid_request_error"}}})
    proc = run_cli("route", "--json", "--base-url", fake.base_url, "--model", "m", "please look into the flaky build and decide", env={"LIVEPLAN_API_KEY": KEY})
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout + proc.stderr
    assert KEY not in shown and "pw-in-url-123" not in shown
    assert "classifier failed" in json.loads(proc.stdout).get("note", "")


def test_main_call_errors_are_masked_in_output_and_store(fake, tmp_path: Path, isolated_env: Path) -> None:
    leak = f"bad request for key {KEY} token=abcdefghijklmnopqrstu"
    fake.script.append({"status": 400, "body": {"error": {"message": leak, "type": "invalid_request_error"}}})
    ws = make_workspace(tmp_path / "ws")
    proc = exec_attack(fake, ws, env={"LIVEPLAN_API_KEY": KEY})
    assert proc.returncode == 1
    assert KEY not in proc.stderr and "abcdefghijklmnopqrstu" not in proc.stderr
    db = (isolated_env / "data" / "sessions.db").read_bytes()
    assert KEY.encode() not in db and b"abcdefghijklmnopqrstu" not in db
