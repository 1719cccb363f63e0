"""MCP tool servers over stdio, with a real server written with the SDK (tests/mcp_server.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)

SERVER = str(Path(__file__).parent / "mcp_server.py")


def configure(home: Path, servers: dict[str, dict]) -> None:
    lines = []
    for name, table in servers.items():
        lines.append(f"[mcp_servers.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n")


def server(*extra: str, **table) -> dict:
    return {"command": sys.executable, "args": [SERVER, *extra], **table}


def call(name: str, **arguments) -> dict:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def exec_json(fake: FakeOpenAI, *flags: str) -> tuple[int, list[dict], str]:
    proc = run_cli(
        "exec",
        "--json",
        "--mode",
        "direct",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        *flags,
        "use the tools",
        timeout=90,
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


def tool_results(events: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for e in events:
        if e["type"] == "tool_call_finished":
            out.setdefault(e["name"], []).append(e)
    return out


def test_a_tool_call_round_trips_through_a_real_stdio_server(fake: FakeOpenAI, isolated_env: Path) -> None:
    configure(isolated_env, {"calc": server(approval="never-ask")})
    fake.script.extend([call("calc__add", a=2, b=3), {"text": "2 + 3 = 5"}])
    code, events, stderr = exec_json(fake)
    assert code == 0, stderr
    assert tool_results(events)["calc__add"][0]["result"] == "5"
    offered = {t["function"]["name"]: t["function"] for t in fake.main_requests()[0]["tools"]}
    assert {"calc__add", "calc__shout", "calc__crash", "calc__stall", "read_file"} <= set(offered)
    assert set(offered["calc__add"]["parameters"]["properties"]) == {"a", "b"}
    assert "MCP server calc" in offered["calc__add"]["description"]


def test_an_untrusted_server_goes_through_approval(fake: FakeOpenAI, isolated_env: Path) -> None:
    configure(isolated_env, {"calc": server()})
    fake.script.extend([call("calc__add", a=2, b=3), {"text": "could not"}, call("calc__add", a=2, b=3), {"text": "5"}])
    _, events, _ = exec_json(fake)  # exec without --yes cannot ask: denied
    denied = tool_results(events)["calc__add"][0]
    assert denied["is_error"] and "denied" in denied["result"]
    code, events, _ = exec_json(fake, "--yes")
    assert code == 0 and tool_results(events)["calc__add"][0]["result"] == "5"


def test_big_results_become_artifacts_like_built_in_tools(fake: FakeOpenAI, isolated_env: Path) -> None:
    configure(isolated_env, {"calc": server(approval="never-ask")})
    fake.script.extend([call("calc__shout", text="word", times=5000), {"text": "loud"}])
    code, events, stderr = exec_json(fake)
    result = tool_results(events)["calc__shout"][0]["result"]
    assert code == 0, stderr
    assert len(result) < 20000 and "read_artifact" in result


def test_a_crashed_server_is_one_error_and_the_session_goes_on(fake: FakeOpenAI, isolated_env: Path) -> None:
    configure(isolated_env, {"calc": server(approval="never-ask")})
    fake.script.extend([call("calc__crash"), call("calc__add", a=1, b=1), {"text": "the server is gone"}])
    code, events, stderr = exec_json(fake)
    assert code == 0, stderr
    results = tool_results(events)
    assert results["calc__crash"][0]["is_error"]
    gone = results["calc__add"][0]
    assert gone["is_error"] and "not running" in gone["result"]
    assert events[-1]["answer"] == "the server is gone" and "Traceback" not in stderr


def test_a_call_that_hangs_times_out(fake: FakeOpenAI, isolated_env: Path) -> None:
    configure(isolated_env, {"calc": server(approval="never-ask", timeout=1)})
    fake.script.extend([call("calc__stall", seconds=30), {"text": "too slow"}])
    code, events, _ = exec_json(fake)
    stalled = tool_results(events)["calc__stall"][0]
    assert code == 0 and stalled["is_error"] and "no answer within 1s" in stalled["result"]


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ({"command": "/no/such/mcp-server"}, "unavailable"),
        (server("--hang", start_timeout=1), "did not answer within 1s"),
        ({"command": sys.executable, "args": ["-c", "import sys; sys.exit(4)"]}, "unavailable"),
    ],
)
def test_a_server_that_fails_to_start_is_one_line_and_the_rest_work(
    fake: FakeOpenAI, isolated_env: Path, table: dict, said: str
) -> None:
    configure(isolated_env, {"broken": table, "calc": server(approval="never-ask")})
    fake.script.extend([call("calc__add", a=4, b=4), {"text": "8"}])
    code, events, stderr = exec_json(fake)
    assert code == 0, stderr
    notices = [e["message"] for e in events if e["type"] == "notice"]
    assert any("'broken'" in n and said in n for n in notices), notices
    assert tool_results(events)["calc__add"][0]["result"] == "8"
    assert not any(t["function"]["name"].startswith("broken__") for t in fake.main_requests()[0]["tools"])


def test_mcp_list_shows_each_server_its_state_and_tools(isolated_env: Path) -> None:
    configure(isolated_env, {"calc": server(), "broken": {"command": "/no/such/mcp-server"}})
    proc = run_cli("mcp", "list", "--json", timeout=90)
    rows = {r["server"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert rows["calc"]["state"] == "running" and "calc__add" in rows["calc"]["tools"]
    assert rows["broken"]["state"] == "failed" and rows["broken"]["error"]
    assert proc.returncode == 1
    text = run_cli("mcp", "list", timeout=90).stdout
    assert "calc  running  4 tools: calc__add" in text


@pytest.mark.parametrize("name", ["has space", "two__parts", ""])
def test_bad_server_names_are_refused_in_one_line(isolated_env: Path, name: str) -> None:
    (isolated_env / "config.toml").write_text(f'[mcp_servers."{name}"]\ncommand = "x"\n')
    proc = run_cli("mcp", "list")
    assert proc.returncode == 2 and "server name" in proc.stderr and "Traceback" not in proc.stderr
