"""Behaviours 3-8, 10-13 of real servers: overflow wordings, templates, refusals, streams, strict, proxies,
truncation."""

from __future__ import annotations

from typing import Any

import pytest
from fake_openai import FakeOpenAI, system_prompt
from quirks import answer, call, one_line, plan_create, run, tool_results

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)

OVERFLOWS = {
    "llama.cpp": (
        400,
        {
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size. try increasing the "
                "context size or enable context shift",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": 9000,
                "n_ctx": 6144,
            }
        },
        6144,
    ),
    "llama.cpp-words": (
        400,
        {
            "error": {
                "message": "request (9000 tokens) exceeds the available context size (6144 tokens), try increasing it",
                "type": "exceed_context_size_error",
            }
        },
        6144,
    ),
    "llama.cpp-old": (
        500,
        {"error": {"code": 500, "message": "Context size has been exceeded.", "type": "server_error"}},
        None,
    ),
    "llama-cpp-python": (
        400,
        {
            "error": {
                "message": "Requested tokens (9000) exceed context window of 6144",
                "type": "internal_server_error",
            }
        },
        6144,
    ),
    "vllm": (
        400,
        {
            "object": "error",
            "message": "This model's maximum context length is 6144 tokens. However, you requested "
            "9000 tokens (8000 in the messages, 1000 in the completion). "
            "Please reduce the length of the messages or completion.",
            "type": "BadRequestError",
            "code": 400,
        },
        6144,
    ),
    "lm-studio": (
        400,
        {
            "error": "Trying to keep the first 9000 tokens when context the overflows. However, the "
            "model is loaded with context length of only 6144 tokens, which is not enough."
        },
        6144,
    ),
    "lm-studio-n_keep": (
        400,
        {"error": {"message": "Cannot truncate prompt with n_keep (9000) >= n_ctx (6144)"}},
        6144,
    ),
    "ollama": (500, {"error": "prompt too long; exceeded max context length by 2856 tokens"}, None),
}


@pytest.fixture
def logs(tmp_path):
    (tmp_path / "log.txt").write_text(
        "".join(f"{i:05d} INFO handled request {i} in {i % 97} ms\n" for i in range(3000))
    )
    return tmp_path


def reads(n: int) -> list[dict]:
    return [call("read_file", path="log.txt", start_line=1 + 300 * i, end_line=300 + 300 * i) for i in range(n)]


@pytest.mark.parametrize("server", OVERFLOWS)
def test_overflow_in_every_servers_words_is_recovered(fake, logs, server: str) -> None:
    status, body, window = OVERFLOWS[server]
    fake.script.extend(
        [*reads(4), {"when": "tools", "status": status, "body": body}, {"when": "tools", "text": "Nothing alarming."}]
    )
    fake.default = lambda r: None if r.get("tools") else {"text": "Summary: read four ranges of log.txt."}
    code, events, stderr = run(fake, "--mode", "direct", workspace=logs)
    assert code == 0, stderr
    assert answer(events) == "Nothing alarming."
    assert any(e["type"] == "condensed" for e in events)
    if window is not None:
        assert [e["context_window"] for e in events if e["type"] == "usage"][-1] == window


def test_a_second_and_third_overflow_still_recover(fake, logs) -> None:
    overflow = {
        "when": "tools",
        "status": 400,
        "body": {"error": {"message": "maximum context length is 6000 tokens", "code": "context_length_exceeded"}},
    }
    fake.script.extend([*reads(4), overflow, overflow, overflow, {"when": "tools", "text": "Recovered."}])
    fake.default = lambda r: None if r.get("tools") else {"text": "Summary: read log ranges, " + "details " * 40}
    code, events, stderr = run(fake, "--mode", "direct", workspace=logs)
    assert code == 0, stderr
    assert answer(events) == "Recovered."
    sizes = [len(str(r["messages"])) for r in fake.main_requests()[-4:]]
    assert sizes == sorted(sizes, reverse=True)


def test_overflow_with_nothing_left_to_shrink_fails_in_one_line(fake) -> None:
    overflow = {
        "when": "tools",
        "status": 400,
        "body": {"error": {"message": "maximum context length exceeded", "code": "context_length_exceeded"}},
    }
    fake.script.extend([overflow] * 12)
    code, _, stderr = run(fake, "--mode", "direct", task="hi there friend, a long question")
    assert code == 1 and "context window" in one_line(stderr)


def test_every_request_after_condensation_suits_strict_templates(fake, logs) -> None:
    script = [
        plan_create(),
        *reads(10),
        call("update_plan", updates=[{"id": 1, "status": "completed"}, {"id": 2, "status": "in_progress"}]),
        *reads(6),
        call("update_plan", updates=[{"id": 2, "status": "completed"}]),
        {"when": "tools", "text": "Done."},
    ]
    fake.script.extend(script)
    fake.default = lambda r: None if r.get("tools") else {"text": "Summary: read log ranges."}
    code, events, stderr = run(fake, "--mode", "plan", "--context-window", "5000", workspace=logs)
    assert code == 0, stderr
    assert any(e["type"] == "condensed" for e in events)
    for request in fake.main_requests():
        turns = [m for m in request["messages"] if m["role"] != "system"]
        assert turns[0]["role"] == "user" and "please answer the question" in turns[0]["content"]
        plain = [m["role"] for m in turns if m["role"] in ("user", "assistant") and not m.get("tool_calls")]
        assert all(a != b for a, b in zip(plain, plain[1:], strict=False)) or len(plain) < 2


@pytest.mark.parametrize("quirk", ["args_as_object", "shared_index", "ids-missing", "ids-number"])
@pytest.mark.parametrize("mode", ["direct", "plan"])
def test_sloppy_tool_calls_are_understood(fake, logs, quirk: str, mode: str) -> None:
    two: dict[str, Any] = {
        "tool_calls": [
            {"name": "read_file", "arguments": {"path": "log.txt", "end_line": 2}},
            {"name": "list_dir", "arguments": {"path": "."}},
        ]
    }
    if quirk.startswith("ids"):
        two["ids"] = quirk.split("-")[1]
    else:
        two[quirk] = True
    fake.script.extend([two, dict(two), {"text": "Read both."}])
    code, events, stderr = run(fake, "--mode", mode, workspace=logs)
    assert code == 0, stderr
    results = tool_results(fake)
    assert (
        len(results) == 4 and sum("00000 INFO" in r for r in results) == 2 and sum("log.txt" in r for r in results) >= 2
    )
    ids = [c["id"] for m in fake.model_requests()[-1]["messages"] for c in m.get("tool_calls") or []]
    assert len(ids) == len(set(ids)) == 4 and all(isinstance(i, str) and i for i in ids)


@pytest.mark.parametrize("refused", [{"stream_tools"}, {"stream_options"}, {"stream_tools", "stream_options"}])
def test_servers_that_refuse_a_feature_get_one_fallback_remembered(refused: set[str], logs) -> None:
    with FakeOpenAI(refuse=refused) as fake:
        fake.script.extend([call("read_file", path="log.txt", end_line=2), {"text": "Fine."}])
        code, events, stderr = run(fake, "--mode", "direct", workspace=logs)
        assert code == 0, stderr
        assert answer(events) == "Fine."
        main = fake.model_requests()
        refusals = [
            r
            for r in main
            if ("stream_tools" in refused and r.get("stream") and r.get("tools"))
            or ("stream_options" in refused and "stream_options" in r)
        ]
        assert 1 <= len(refusals) <= len(refused)  # each refused at most once, then remembered for the session
        assert main[-1] not in refusals


def test_the_servers_own_message_is_shown_when_the_fallback_fails_too(logs) -> None:
    with FakeOpenAI(refuse={"stream_tools"}) as fake:
        fake.script.extend([{"status": 500, "body": {"error": {"message": "llama_decode failed: out of memory"}}}] * 6)
        code, _, stderr = run(fake, "--mode", "direct", workspace=logs)
        assert code == 1 and "out of memory" in one_line(stderr)


def test_stream_false_setting_never_streams_with_tools(fake, isolated_env) -> None:
    (isolated_env / "config.toml").write_text("stream = false\n")
    fake.script.append({"text": "No stream."})
    code, events, _ = run(fake, "--mode", "direct")
    assert code == 0 and answer(events) == "No stream."
    assert all(not r.get("stream") for r in fake.main_requests())


@pytest.mark.parametrize("mode", ["direct", "plan"])
def test_done_without_finish_reason_is_a_finished_reply(fake, mode: str) -> None:
    fake.script.append({"text": "Complete reply.", "finish": None})
    code, events, stderr = run(fake, "--mode", mode)
    assert code == 0, stderr
    assert answer(events) == "Complete reply." and len(fake.model_requests()) == 1


def test_an_unreadable_chunk_is_one_line_not_a_crash(fake) -> None:
    fake.script.append({"text": "x", "bad_chunk": True})
    code, _, stderr = run(fake, "--mode", "direct")
    assert code == 1 and "cannot read" in one_line(stderr)


@pytest.mark.parametrize("same_reply", [False, True])
def test_strict_mode_takes_the_first_valid_plan(fake, same_reply: bool) -> None:
    create = plan_create()
    start = call(
        "update_plan",
        updates=[{"id": 1, "status": "completed", "result": "done already"}, {"id": 2, "status": "in_progress"}],
    )
    planning = {
        "when": "tools",
        "match": "Task:",
        "tool_calls": create["tool_calls"] + (start["tool_calls"] if same_reply else []),
    }
    fake.script.append(planning)
    fake.default = lambda r: {"text": "Step result." if "Your step" in str(r["messages"]) else "The final answer."}
    code, events, stderr = run(fake, "--mode", "strict")
    assert code == 0, stderr
    assert answer(events) == "The final answer."
    assert sum(1 for r in fake.requests if "Your step" in str(r["messages"])) == 2
    planning_calls = [
        r for r in fake.requests if [t["function"]["name"] for t in r.get("tools") or []] == ["update_plan"]
    ]
    assert len(planning_calls) == 1  # planning ended at the first plan with steps
    first = [e for e in events if e["type"] == "plan_updated"]
    assert all(s["status"] in ("pending", "in_progress", "completed") for s in first[-1]["new"]["steps"])


def test_loopback_is_never_proxied(fake) -> None:
    fake.script.append({"text": "Direct."})
    proxy = "http://127.0.0.1:9"  # nothing listens there: a proxied request would fail
    env = {
        "HTTP_PROXY": proxy,
        "HTTPS_PROXY": proxy,
        "ALL_PROXY": proxy,
        "http_proxy": proxy,
        "https_proxy": proxy,
        "NO_PROXY": "",
        "no_proxy": "",
    }
    code, events, stderr = run(fake, "--mode", "direct", env=env)
    assert code == 0, stderr
    assert answer(events) == "Direct."


@pytest.mark.parametrize(("num_ctx", "stated"), [(2400, "ps"), (2600, "num_ctx")])
def test_ollamas_window_is_asked_fitted_and_said_once(logs, num_ctx: int, stated: str) -> None:
    """Ollama states its window (`/api/ps` for a loaded model, `/api/show`'s num_ctx otherwise): LivePlan fits to it
    before the first call, so nothing is cut, and says once how to raise it."""
    big_reads = {
        "when": "tools",
        "tool_calls": [
            {
                "name": "read_file",
                "arguments": {"path": "log.txt", "start_line": 1 + 400 * i, "end_line": 400 + 400 * i},
            }
            for i in range(3)
        ],
    }
    with FakeOpenAI(num_ctx=num_ctx, ollama={stated: num_ctx}) as fake:
        fake.script.extend([big_reads, {"when": "tools", "text": "Fitted and answered."}])
        fake.default = lambda r: None if r.get("tools") else {"text": "Summary: read log ranges."}
        code, events, stderr = run(fake, "--mode", "direct", workspace=logs)
        assert code == 0, stderr
        assert answer(events) == "Fitted and answered."
        notices = [e for e in events if e["type"] == "notice"]
        assert len(notices) == 1 and "num_ctx" in notices[0]["message"] and "--context-window" in notices[0]["message"]
        last = fake.main_requests()[-1]
        assert "[PLAN]" in system_prompt(last) or "Workspace:" in system_prompt(last)
        assert FakeOpenAI._prompt_tokens(last) <= num_ctx


def test_a_window_too_small_for_the_prompt_fails_honestly(logs) -> None:
    big_reads = {
        "when": "tools",
        "tool_calls": [{"name": "read_file", "arguments": {"path": "log.txt", "end_line": 400}}] * 3,
    }
    with FakeOpenAI(num_ctx=800, ollama={"ps": 800}) as fake:
        fake.script.extend([big_reads, {"when": "tools", "text": "never reached"}])
        code, events, stderr = run(fake, "--mode", "direct", workspace=logs)
        assert code == 1
        assert "raise the server's context window" in [ln for ln in stderr.splitlines() if ln.strip()][-1]
        assert answer(events) != "Sure! What would you like me to do?"
