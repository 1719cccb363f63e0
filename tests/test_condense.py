"""Token counting offline, pair-safe condensation, and the budget arithmetic."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveplan_tui import tokens
from liveplan_tui.agent.condenser import Condenser
from liveplan_tui.agent.conversation import Conversation
from liveplan_tui.condense import fallback_summary, is_consistent, mask_tool_outputs, split_point, units
from liveplan_tui.config import Endpoint, client_options, load_settings
from liveplan_tui.llm.openai_compat import ChatClient
from liveplan_tui.plan import NewStep, PlanBoard, PlanUpdate


def call(i: int, name: str = "read_file", args: str = '{"path": "a.py"}') -> dict:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": args}}],
    }


def result(i: int, text: str = "ok") -> dict:
    return {"role": "tool", "tool_call_id": f"c{i}", "content": text}


def test_offline_tokenizer_is_exact_and_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tk"))
    tokens.counter_for.cache_clear()
    counter = tokens.counter_for("gpt-4o-mini")
    assert counter.exact and counter.name == "o200k_base"
    assert counter.count("hello world") == 2
    assert tokens.counter_for("gpt-4").name == "cl100k_base"
    cached = tmp_path / "tk" / hashlib.sha1(tokens.BLOB.format("o200k_base").encode()).hexdigest()
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == tokens.OFFICIAL_SHA256["o200k_base"]
    cached.write_bytes(b"corrupt")
    assert tokens.ensure_cached("o200k_base")  # a corrupt cache is rebuilt, not trusted
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == tokens.OFFICIAL_SHA256["o200k_base"]
    tokens.counter_for.cache_clear()


def test_estimate_fallback_when_nothing_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "ensure_cached", lambda name: False)
    tokens.counter_for.cache_clear()
    counter = tokens.counter_for("gpt-4o")
    assert not counter.exact and counter.count("abcd" * 10) == 10
    tokens.counter_for.cache_clear()


def test_context_window_table_and_override() -> None:
    assert tokens.context_window("gpt-4o-mini") == 128_000
    assert tokens.context_window("gpt-4-turbo-preview") == 128_000
    assert tokens.context_window("gpt-4") == 8_192
    assert tokens.context_window("something-new") == tokens.DEFAULT_WINDOW
    assert tokens.context_window("gpt-4o", 4000) == 4000


def test_units_and_split_never_cut_a_tool_pair() -> None:
    msgs = [
        {"role": "user", "content": "u1"},
        call(1),
        result(1),
        call(2),
        result(2),
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": "u2"},
    ]
    assert units(msgs) == [(0, 1), (1, 3), (3, 5), (5, 6), (6, 7)]
    counts = [10] * len(msgs)
    for budget in range(0, 80, 5):
        cut = split_point(msgs, counts, budget)
        assert msgs[cut]["role"] != "tool" and is_consistent(msgs[cut:])
    assert split_point(msgs, counts, 0) == 6  # the newest unit is always kept
    assert split_point(msgs, counts, 25) == 5
    assert split_point(msgs, counts, 40) == 3


def test_is_consistent_detects_orphans() -> None:
    assert is_consistent([call(1), result(1)])
    assert not is_consistent([result(1)])
    assert not is_consistent([call(1), {"role": "user", "content": "x"}])
    assert not is_consistent([call(1)])


def test_masking_only_touches_big_old_tool_outputs() -> None:
    msgs = [call(1), result(1, "x" * 4000), call(2), result(2, "small"), call(3), result(3, "y" * 4000)]
    counts = [10, 1000, 10, 2, 10, 1000]
    out, n = mask_tool_outputs(msgs, counts, upto=4)
    assert n == 1 and out[1]["content"].startswith("[masked old tool output: 4,000 chars")
    assert out[3]["content"] == "small" and out[5]["content"] == "y" * 4000
    assert msgs[1]["content"] == "x" * 4000  # the input is not mutated


def test_fallback_summary_merges_previous_and_is_bounded() -> None:
    old = [
        {"role": "user", "content": "fix the parser"},
        call(1, "edit_file", '{"path": "parser.py"}'),
        result(1),
        {"role": "assistant", "content": "Fixed it.\nDetails..."},
    ]
    text = fallback_summary(old, previous="Earlier: set up the repo")
    assert text.splitlines()[0] == "Earlier: set up the repo"
    assert "fix the parser" in text and "edit_file parser.py" in text and "Fixed it." in text
    assert len(fallback_summary(old * 200, max_chars=500)) <= 502


def make_condenser(window: int, base_url: str = "http://127.0.0.1:9/v1", **kw) -> Condenser:
    settings = load_settings(context_window=window, **kw)
    options = client_options(settings.model_copy(update={"max_attempts": 1}))
    llm = ChatClient(Endpoint(base_url=base_url, model="m", api_key=None), options)
    return Condenser(llm, settings, window)


@pytest.fixture(scope="module")
def failing_model():
    """A model whose summary calls fail at once, so the deterministic fallback is exercised."""
    from fake_openai import FakeOpenAI

    with FakeOpenAI(
        default={"status": 400, "body": {"error": {"message": "nope", "type": "invalid_request_error"}}}
    ) as server:
        yield server


def test_budget_arithmetic() -> None:
    c = make_condenser(10_000)
    assert c.reserve == 2500 and c.limit == 7500
    assert not c.needed(7500) and c.needed(7501)
    c = make_condenser(100_000)
    assert c.reserve == 4096 and c.needed(80_001) and not c.needed(80_000)
    assert not make_condenser(10_000, condense=False).needed(9_999)
    c.observe(server_prompt_tokens=1200, estimate=1000)
    conv = Conversation()
    assert c.estimate(conv, "", []) == 3 + 200  # the server saw 200 more: later estimates carry it
    c.observe(server_prompt_tokens=500, estimate=c.estimate(conv, "", []) + 1000)
    assert c.estimate(conv, "", []) == 3  # a lower server count never lowers our own count


def plan_board() -> PlanBoard:
    board, _ = PlanBoard().apply(
        PlanUpdate(
            goal="g",
            steps=[NewStep(description="a", status="completed"), NewStep(description="b", status="in_progress")],
        )
    )
    return board


histories = st.lists(
    st.one_of(
        st.tuples(st.just("user"), st.integers(1, 400)),
        st.tuples(st.just("assistant"), st.integers(1, 400)),
        st.tuples(st.just("tools"), st.lists(st.integers(1, 1500), min_size=1, max_size=3)),
    ),
    min_size=1,
    max_size=60,
)


def build(spec) -> Conversation:
    conv = Conversation(tokens.EstimateCounter())
    conv.board = plan_board()
    n = 0
    for kind, size in spec:
        if kind == "tools":
            conv.add(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": f"c{n + i}", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}
                        for i in range(len(size))
                    ],
                }
            )
            for i, s in enumerate(size):
                conv.add({"role": "tool", "tool_call_id": f"c{n + i}", "content": "z" * (s * 4)})
            n += len(size)
        else:
            conv.add({"role": kind, "content": "w" * (size * 4)})
    return conv


@settings(max_examples=120, deadline=None)
@given(spec=histories, window=st.integers(2000, 12000))
def test_condensed_prompt_fits_keeps_pairs_and_plan(failing_model, spec, window: int) -> None:
    conv = build(spec)
    c = make_condenser(window, failing_model.base_url)
    system = lambda: "system\n" + (conv.board.prompt_block() or "") + ("\n" + conv.summary if conv.summary else "")  # noqa: E731
    asyncio.run(c.condense(conv, system, [], force=True))
    assert is_consistent(conv.messages)
    assert "[PLAN]" in system() and "2. [in_progress] b" in system()
    last_unit = units(conv.messages)[-1] if conv.messages else (0, 0)
    newest = sum(conv.counts[last_unit[0] : last_unit[1]])
    assert c.estimate(conv, system(), []) <= max(c.limit, newest + 3000)
    assert len(conv.record) >= len(conv.messages)


def test_condense_keeps_the_record_whole(failing_model) -> None:
    conv = build([("user", 500), ("tools", [1200]), ("assistant", 300), ("user", 200)] * 5)
    before = list(conv.record)
    c = make_condenser(4000, failing_model.base_url)
    event = asyncio.run(c.condense(conv, lambda: "s", [], force=True))
    assert event is not None and event.tokens_after < event.tokens_before
    assert conv.record == before and len(conv.messages) < len(before)


def test_summary_prompt_merges_previous_summary(fake) -> None:
    fake.default = {"text": "Goal: ship it"}
    conv = build([("user", 800), ("assistant", 800), ("user", 800), ("assistant", 800), ("user", 10)])
    conv.summary = "Old summary line"
    c = make_condenser(4000, fake.base_url)
    event = asyncio.run(c.condense(conv, lambda: "s", [], force=True))
    assert event is not None and event.method == "summary"
    request = fake.requests[0]
    prompt = request["messages"][1]["content"]
    assert "Previous summary:\nOld summary line" in prompt and "[PLAN]" in prompt
    assert "tools" not in request and request["messages"][0]["content"].startswith("You condense")
    assert conv.summary.startswith("Goal: ship it")
    assert json.dumps(request["messages"]).count('"role": "system"') == 1


def test_a_summary_larger_than_what_it_replaces_is_rejected(fake) -> None:
    fake.default = {"text": "very long summary " * 2000}
    conv = build([("user", 300), ("assistant", 300), ("user", 300), ("assistant", 300), ("user", 10)])
    c = make_condenser(4000, fake.base_url)
    event = asyncio.run(c.condense(conv, lambda: "s", [], force=True))
    assert event is not None and event.method.startswith("truncation") and "very long summary" not in conv.summary
