"""The text tool protocol and the refusals that lead to it, as pure functions over classes of input."""

from __future__ import annotations

import json

import pytest

from liveplan_tui.llm.base import Endpoint
from liveplan_tui.llm.errors import classify_stream_error
from liveplan_tui.llm.json_actions import tool_calls_in
from liveplan_tui.llm.text_tools import RESULT_HEAD, as_text_request

ENDPOINT = Endpoint(base_url="http://127.0.0.1:1/v1", model="m", api_key=None)
SPECS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file.",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
        },
    }
]


def refused(message: str, code: int = 400) -> str | None:
    return classify_stream_error({"message": message, "code": code}, ENDPOINT).unsupported


@pytest.mark.parametrize(
    "message",
    [
        "registry.ollama.ai/library/gemma3:4b does not support tools",
        "codellama:latest doesn't support tools",
        '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
        "tools param requires --jinja flag",
        "Model does not support tool calling.",
        "Tool calls are not supported for this model",
        "function calling is unsupported by this deployment",
        "This model cannot use tools",
    ],
)
def test_every_servers_wording_of_no_tools_is_a_refusal_of_tools(message: str) -> None:
    assert refused(message) == "tools"


@pytest.mark.parametrize(
    ("message", "feature"),
    [
        ("Invalid 'tools[0].function.name': string does not match pattern", None),
        ("tools: schema keyword 'oneOf' is not allowed", None),
        ("Cannot use tools with stream", "stream_tools"),
        ("tool_choice is not supported", "tool_choice"),
        ("the model does not support images", None),
    ],
)
def test_other_tool_errors_are_not_taken_for_it(message: str, feature: str | None) -> None:
    assert refused(message) == feature


def history() -> list[dict]:
    call = {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a"}'}}
    return [
        {"role": "system", "content": "You are LivePlan."},
        {"role": "user", "content": "read a"},
        {"role": "assistant", "content": "Reading.", "tool_calls": [call, {**call, "id": "c2"}]},
        {"role": "tool", "tool_call_id": "c1", "content": "alpha"},
        {"role": "tool", "tool_call_id": "c2", "content": "alpha again"},
        {"role": "user", "content": "Your last reply had no answer text."},
    ]


def test_the_history_is_written_as_text_a_template_without_tools_can_read() -> None:
    out = as_text_request(history(), SPECS)
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
    assert out[0]["content"].startswith("You are LivePlan.") and "- read_file: Read a file." in out[0]["content"]
    assert out[2]["content"].startswith("Reading.\n<tool_call>")
    calls = tool_calls_in(out[2]["content"], {"read_file"})  # what the model is shown is what LivePlan reads back
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [("read_file", {"path": "a"})] * 2
    assert out[3]["content"].count(RESULT_HEAD) == 2 and "alpha again" in out[3]["content"]
    assert out[3]["content"].endswith("Your last reply had no answer text.")
    assert history()[2]["tool_calls"], "the session's own history is left as it was"


def test_a_request_without_a_system_prompt_gets_one() -> None:
    out = as_text_request([{"role": "user", "content": "hi"}], SPECS)
    assert (
        out[0]["role"] == "system" and "read_file" in out[0]["content"] and out[1] == {"role": "user", "content": "hi"}
    )


def test_arguments_that_are_not_json_are_sent_as_an_empty_object() -> None:
    bad = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "x", "function": {"name": "read_file", "arguments": "{broken"}}],
        }
    ]
    out = as_text_request(bad, SPECS)
    assert out[1]["content"] == '<tool_call>{"name": "read_file", "arguments": {}}</tool_call>'
