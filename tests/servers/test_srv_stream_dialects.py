"""The SSE dialects of real servers: errors inside a 200 stream, keep-alives, merged frames, a stream ignored.

LivePlan reads the stream itself (`llm/sse.py`), so these are held here end to end, through `exec`.
"""

from __future__ import annotations

from typing import Any

import pytest
from fake_openai import FakeOpenAI
from quirks import MODES, answer, call, one_line, plan_create, plan_finish, run

pytestmark = pytest.mark.slow  # every test here starts a process (see conftest.py)

STYLES = ["data", "field", "event"]
OVERFLOWS_IN_STREAM = {
    "llama.cpp-2025": {
        "code": 400,
        "message": "the request exceeds the available context size. try increasing the context size "
        "or enable context shift",
        "type": "invalid_request_error",
    },
    "vllm": {
        "object": "error",
        "message": "This model's maximum context length is 6144 tokens. However, you requested 9000 tokens.",
        "type": "BadRequestError",
        "code": 400,
    },
    "no-code": {"message": "prompt is too long: exceeds the context window of 6144"},
}
TRANSIENT_IN_STREAM: dict[str, dict[str, Any]] = {
    "openrouter-502": {"code": 502, "message": "upstream provider returned an error"},
    "string-code": {"code": "503", "message": "the model is overloaded, try again"},
    "server_error": {"type": "server_error", "message": "The server had an error while processing your request."},
}


@pytest.fixture
def logs(tmp_path):
    (tmp_path / "log.txt").write_text(
        "".join(f"{i:05d} INFO handled request {i} in {i % 97} ms\n" for i in range(3000))
    )
    return tmp_path


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("server", OVERFLOWS_IN_STREAM)
def test_an_overflow_sent_inside_the_stream_condenses_and_recovers(
    fake: FakeOpenAI, logs, style: str, server: str
) -> None:
    reads = [call("read_file", path="log.txt", start_line=1 + 300 * i, end_line=300 + 300 * i) for i in range(4)]
    overflow = {
        "when": "tools",
        "text": "",
        "stream_error": OVERFLOWS_IN_STREAM[server],
        "error_after": 1,
        "error_style": style,
    }
    fake.script.extend([*reads, overflow, {"when": "tools", "text": "Nothing alarming."}])
    fake.default = lambda r: None if r.get("tools") else {"text": "Summary: read four ranges of log.txt."}
    code, events, stderr = run(fake, "--mode", "direct", workspace=logs)
    assert code == 0, stderr
    assert answer(events) == "Nothing alarming."
    assert any(e["type"] == "condensed" for e in events)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("error", TRANSIENT_IN_STREAM)
def test_a_transient_error_inside_the_stream_is_retried_and_the_partial_text_voided(
    fake: FakeOpenAI, style: str, error: str
) -> None:
    failing = {
        "text": "Half an answ",
        "chunk": 4,
        "stream_error": TRANSIENT_IN_STREAM[error],
        "error_after": 3,
        "error_style": style,
    }
    fake.script.extend([failing, {"text": "The whole answer."}])
    code, events, stderr = run(fake, "--mode", "direct")
    assert code == 0, stderr
    assert answer(events) == "The whole answer."
    kinds = [e["type"] for e in events]
    assert "stream_reset" in kinds and "retrying" in kinds
    assert TRANSIENT_IN_STREAM[error]["message"] in next(e["reason"] for e in events if e["type"] == "retrying")


@pytest.mark.parametrize("style", STYLES)
def test_a_refusal_inside_the_stream_is_one_line_in_the_servers_words(fake: FakeOpenAI, style: str) -> None:
    quota = {
        "stream_error": {"message": "You exceeded your current quota", "type": "insufficient_quota"},
        "error_after": 1,
        "error_style": style,
    }
    fake.script.append(quota)
    code, events, stderr = run(fake, "--mode", "direct")
    assert code == 1 and "quota" in one_line(stderr)
    assert answer(events) == "" and len(fake.model_requests()) == 1  # a quota is not retried


@pytest.mark.parametrize("quirk", ["keepalive", "merged_frames", "json_for_stream"])
@pytest.mark.parametrize("mode", MODES)
def test_keepalives_merged_frames_and_an_ignored_stream_read_as_usual(
    fake: FakeOpenAI, tmp_path, quirk: str, mode: str
) -> None:
    (tmp_path / "notes.txt").write_text("the secret number is 42\n")
    flag = {quirk: True}
    steps = (
        [plan_create(), {**call("read_file", path="notes.txt"), **flag}, plan_finish()]
        if mode == "plan"
        else [{**call("read_file", path="notes.txt"), **flag}]
    )
    fake.script.extend([*steps, {"text": "The secret number is 42, as notes.txt says.", "chunk": 5, **flag}])
    code, events, stderr = run(fake, "--mode", mode, workspace=tmp_path)
    assert code == 0, stderr
    assert answer(events) == "The secret number is 42, as notes.txt says."
    results = [e["result"] for e in events if e["type"] == "tool_call_finished" and e["name"] == "read_file"]
    assert results and "42" in results[0]


def test_a_frame_that_is_not_json_is_one_line_not_a_crash(fake: FakeOpenAI) -> None:
    fake.script.append({"text": "hello", "not_json": True})
    code, _, stderr = run(fake, "--mode", "direct")
    assert code == 1 and "cannot read" in one_line(stderr)


@pytest.mark.parametrize("body", ["{not json", "", "[1, 2"])
def test_a_json_reply_that_is_not_json_is_one_line_not_a_crash(fake: FakeOpenAI, body: str) -> None:
    fake.script.append({"raw": body, "content_type": "application/json"})
    code, _, stderr = run(fake, "--mode", "direct")
    assert code == 1 and "cannot read" in one_line(stderr)
