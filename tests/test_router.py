"""The router: each level on a table of messages, and the classifier's failure paths."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI

from liveplan_tui.router import keyword_route, parse_classifier, prefilter, route


@pytest.mark.parametrize(
    "message",
    [
        "hi",
        "Thanks!",
        "good evening",
        "What does os.path.join do?",
        "fix the typo in docs/intro.md",
        "explain `parse_args`",
        "Why is CI red?",
        "rename load_cfg in config.py",
    ],
)
def test_prefilter_decides_small_things_direct(message: str) -> None:
    decision = prefilter(message)
    assert decision is not None and decision.strategy == "direct" and decision.level == "prefilter"


@pytest.mark.parametrize(
    "message",
    [
        "Add type hints to all files",
        "fix the typo in every file",
        "Add a flag to cli.py, then test it",
        "Implement a cache for the API",
        "hi, can you refactor the whole project",
        "thanks, now write the tests and update the docs",
        "What would it take to migrate to async?",
        "",
    ][:-1],
)
def test_prefilter_passes_when_not_confident(message: str) -> None:
    assert prefilter(message) is None


@pytest.mark.parametrize(
    ("message", "strategy"),
    [
        ("Add type hints to all files", "plan_and_subagent"),
        ("Add docstrings to every function in the package", "plan_and_subagent"),
        ("Replace print with logging across the codebase", "plan_and_subagent"),
        ("Refactor the entire project to use pathlib", "plan_and_subagent"),
        ("Add a --verbose flag to the CLI, then update the tests and document it", "plan"),
        ("Implement a login endpoint with JWT auth and write tests for it", "plan"),
        ("Create a REST API for todos with create, list and delete", "plan"),
        ("Write unit tests for the parser and fix any failures", "plan"),
        ("make the button blue", "direct"),
        ("Sort the list", "direct"),
        ("Write a function that reverses a string", "direct"),
    ],
)
def test_keyword_level(message: str, strategy: str) -> None:
    decision = keyword_route(message)
    assert decision.strategy == strategy and decision.level == "keyword" and decision.reason


@pytest.mark.parametrize(
    ("content", "valid"),
    [
        ('{"strategy": "plan", "reason": "steps"}', True),
        ('{"strategy": "plan_and_subagent", "reason": ""}', True),
        ('{"strategy": "maybe", "reason": "x"}', False),
        ('{"reason": "x"}', False),
        ("plan", False),
        ('["plan"]', False),
        ("", False),
    ],
)
def test_parse_classifier(content: str, valid: bool) -> None:
    decision = parse_classifier(content)
    assert (decision is not None) is valid
    if decision:
        assert decision.level == "llm" and decision.reason


def test_route_uses_llm_then_keyword_on_failure() -> None:
    async def good(message: str) -> str:
        return '{"strategy": "plan_and_subagent", "reason": "sweep"}'

    async def garbage(message: str) -> str:
        return "I think it is a plan"

    async def slow(message: str) -> str:
        raise TimeoutError

    message = "Implement a cache for the API"
    decision, note = asyncio.run(route(message, good))
    assert (decision.strategy, decision.level, note) == ("plan_and_subagent", "llm", None)
    decision, note = asyncio.run(route(message, garbage))
    assert decision.level == "keyword" and note is not None and "invalid answer" in note
    decision, note = asyncio.run(route(message, slow))
    assert decision.level == "keyword" and note is not None and "failed" in note
    decision, note = asyncio.run(route("hello", garbage))
    assert decision.level == "prefilter" and note is None


def classify(strategy_json: object, **extra) -> dict:
    return {
        "when": "classify",
        "text": strategy_json if isinstance(strategy_json, str) else json.dumps(strategy_json),
        **extra,
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (classify("not json at all"), "invalid answer"),
        (classify({"strategy": "huge", "reason": "?"}), "invalid answer"),
        (classify({"strategy": "plan", "reason": "x"}, hang=3), "failed"),
        ({"when": "classify", "status": 500}, "failed"),
    ],
)
def test_cli_route_with_a_failing_classifier_falls_back(fake: FakeOpenAI, entry: dict, why: str) -> None:
    fake.script.append(entry)
    proc = run_cli(
        "route",
        "--json",
        "--base-url",
        fake.base_url,
        "--model",
        "m",
        "Implement a cache for the API",
        env={"LIVEPLAN_ROUTER_TIMEOUT": "1"},
    )
    out = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert out["level"] == "keyword" and out["strategy"] == "plan" and why in out["note"]


@pytest.mark.slow
def test_cli_route_llm_level(fake: FakeOpenAI) -> None:
    fake.script.append(classify({"strategy": "plan_and_subagent", "reason": "sweeping change"}))
    proc = run_cli("route", "--json", "--base-url", fake.base_url, "--model", "m", "Tidy up the utilities")
    assert json.loads(proc.stdout) == {"strategy": "plan_and_subagent", "level": "llm", "reason": "sweeping change"}
    request = fake.requests[0]
    assert "tools" not in request and request["response_format"]["json_schema"]["name"] == "route"


@pytest.mark.slow
def test_cli_route_no_llm_text() -> None:
    proc = run_cli("route", "--no-llm", "Add type hints to all files")
    assert proc.returncode == 0
    assert proc.stdout.startswith("plan_and_subagent (keyword): ")
