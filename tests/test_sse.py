"""The SSE decoder, pure: every way servers frame the same chunks decodes to the same chunks."""

from __future__ import annotations

import json
import random

import pytest

from liveplan_tui.llm.sse import Frame, SseDecoder, error_in, payloads


def decode(lines: list[str]) -> list[Frame]:
    decoder, frames = SseDecoder(), []
    for line in lines:
        if (frame := decoder.line(line)) is not None:
            frames.append(frame)
    if (frame := decoder.flush()) is not None:
        frames.append(frame)
    return frames


def framed(chunks: list[dict], rng: random.Random) -> list[str]:
    """The chunks as one of many real servers might write them."""
    lines: list[str] = []
    for chunk in chunks:
        if rng.random() < 0.3:
            lines += [rng.choice([": ping", ": OPENROUTER PROCESSING", ":"]), ""]
        if rng.random() < 0.2:
            lines += ["data:", ""]  # an empty frame
        if rng.random() < 0.2:
            lines.append("id: 7")  # a field nobody reads
        lines.append(("data: " if rng.random() < 0.5 else "data:") + json.dumps(chunk))
        lines.append("")
    if rng.random() < 0.5:
        lines.pop()  # the last frame without its blank line
    return lines


@pytest.mark.parametrize("seed", range(40))
def test_any_framing_of_the_same_chunks_decodes_to_those_chunks(seed: int) -> None:
    rng = random.Random(seed)
    chunks = [
        {"choices": [{"delta": {"content": rng.choice(["a", "é", " ", "{", "data: x", "\\n"])}}]}
        for _ in range(rng.randint(1, 12))
    ]
    decoded = [value for frame in decode(framed(chunks, rng)) for value in payloads(frame)]
    assert decoded == chunks


def test_multi_line_data_is_joined_and_two_chunks_in_one_frame_are_both_read() -> None:
    (joined,) = decode(['data: {"a":', "data: 1}", ""])
    assert payloads(joined) == [{"a": 1}]
    (merged,) = decode(['data: {"a": 1}', 'data: {"b": 2}', ""])
    assert payloads(merged) == [{"a": 1}, {"b": 2}]


@pytest.mark.parametrize("data", ["<b>overloaded</b>", '{"a": 1', "not json\nat all"])
def test_data_that_is_not_json_raises_value_error(data: str) -> None:
    (frame,) = decode([f"data: {line}" for line in data.split("\n")] + [""])
    with pytest.raises(ValueError):
        payloads(frame)


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (['data: {"error": {"message": "boom", "code": 500}}', ""], {"message": "boom", "code": 500}),
        (['error: {"code": 400, "message": "too long"}', ""], {"code": 400, "message": "too long"}),
        (["event: error", 'data: {"message": "bad"}', ""], {"message": "bad"}),
        (['data: {"error": "quota exceeded"}', ""], {"message": "quota exceeded"}),
    ],
)
def test_errors_in_each_servers_shape_are_found(lines: list[str], error: dict) -> None:
    (frame,) = decode(lines)
    assert error_in(frame, payloads(frame)[0]) == error


def test_an_ordinary_chunk_and_done_are_not_errors() -> None:
    frames = decode(['data: {"choices": [], "error": null}', "", "data: [DONE]", ""])
    assert error_in(frames[0], payloads(frames[0])[0]) is None
    assert frames[1].done and not frames[0].done


@pytest.mark.parametrize("url", ["http://127.0.0.1:11434/v1", "HTTP://gpu-box:8000/v1", "http://localhost:1234/v1"])
def test_a_plain_http_endpoint_gets_a_tls_context_that_trusts_nothing(url: str) -> None:
    """No trust store is loaded for it, and an https hop from it fails closed instead of going unverified."""
    import ssl

    from liveplan_tui.llm.openai_compat import tls_for

    context = tls_for(url)
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0


@pytest.mark.parametrize("url", ["https://api.openai.com/v1", "https://openrouter.ai/api/v1", None])
def test_an_https_endpoint_verifies_with_the_system_trust_store(url: str | None) -> None:
    from liveplan_tui.llm.openai_compat import tls_for

    assert tls_for(url) is True
