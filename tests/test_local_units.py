"""Structured-action schema, the JSON-in-text parser, and model assembly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from liveplan_tui.agent.engines.structured import PLAN_SCHEMA, default_plan, plan_move
from liveplan_tui.agent.text import summary, unwrap
from liveplan_tui.llm.json_actions import json_objects, tool_calls_in
from liveplan_tui.local.model import ModelError, assemble

TOOLS = {"update_plan", "read_file", "run_shell"}


def test_plan_schema_allows_only_the_create_move() -> None:
    assert PLAN_SCHEMA["properties"]["action"] == {"const": "update_plan"}
    steps = PLAN_SCHEMA["properties"]["steps"]
    assert (steps["minItems"], steps["maxItems"]) == (2, 3)
    assert set(PLAN_SCHEMA["required"]) == {"action", "goal", "steps"}


def test_plan_move_accepts_valid_and_starts_step_one() -> None:
    move = plan_move(
        '{"action":"update_plan","goal":"Reverse","steps":[{"description":"a"},{"description":"b"},{"description":"c"},{"description":"d"}]}'
    )
    assert move is not None and move.goal == "Reverse" and move.steps is not None
    assert [(s.description, s.status) for s in move.steps] == [("a", "in_progress"), ("b", "pending"), ("c", "pending")]


@pytest.mark.parametrize(
    "content",
    [
        "",
        "I will plan this.",
        '{"action":"update_plan","goal":"x","steps":[{"description":"only one"}]}',
        '{"action":"final","answer":"hi"}',
        '{"goal":"","steps":[{"description":"a"},{"description":"b"}]}',
        '{"action":"update_plan","goal":"x","steps":"a, b"}',
    ],
)
def test_plan_move_rejects_invalid_moves(content: str) -> None:
    assert plan_move(content) is None


def test_default_plan_is_valid_and_has_no_placeholders() -> None:
    move = default_plan("  write   a parser  ")
    assert move.steps is not None
    assert move.goal == "write a parser" and len(move.steps) == 2 and move.steps[0].status == "in_progress"


def test_summary_and_unwrap() -> None:
    assert (
        summary("```python\nx\n```\n## Done: reversed with slicing and printed it")
        == "Done: reversed with slicing and printed it"
    )
    assert summary("word " * 40).endswith("…") and len(summary("word " * 40)) <= 81
    assert unwrap("```markdown\n# Hi\n\n```python\nx=1\n```\n```") == "# Hi\n\n```python\nx=1\n```"
    assert unwrap("plain") == "plain"


def test_parser_finds_fenced_call() -> None:
    text = 'Sure:\n```json\n{"name": "read_file", "arguments": {"path": "a.py"}}\n```\nDone.'
    calls = tool_calls_in(text, TOOLS)
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [("read_file", {"path": "a.py"})]


def test_parser_handles_several_blocks_and_shapes() -> None:
    text = (
        '```json\n{"action": "update_plan", "goal": "g", "steps": [{"description": "a"}]}\n```\n'
        'then\n```\n{"function": {"name": "run_shell", "arguments": "{\\"command\\": \\"ls\\"}"}}\n```'
    )
    calls = tool_calls_in(text, TOOLS)
    assert [c.name for c in calls] == ["update_plan", "run_shell"]
    assert json.loads(calls[1].arguments) == {"command": "ls"}


def test_parser_finds_bare_objects_with_braces_in_strings() -> None:
    text = 'I will call {"tool": "run_shell", "args": {"command": "echo \\"{}\\" }"}} now'
    calls = tool_calls_in(text, TOOLS)
    assert len(calls) == 1 and json.loads(calls[0].arguments) == {"command": 'echo "{}" }'}


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"name": "read_file", "arguments": {"path": \n```',  # partial
        "{not json at all}",
        '{"name": "format_disk", "arguments": {}}',  # unknown tool
        '{"name": "read_file", "arguments": "not-json"}',
        "no braces here",
        '{"a": [1, 2, {"b": }',
    ],
)
def test_parser_ignores_garbage(text: str) -> None:
    assert tool_calls_in(text, TOOLS) == []


def test_json_objects_skips_non_objects() -> None:
    assert json_objects("```json\n[1, 2]\n```") == []
    assert json_objects('x {"a": 1} y {"b": 2}') == [{"a": 1}, {"b": 2}]


def make_parts(tmp_path: Path) -> tuple[list[Path], str]:
    chunks = [b"GGUF" + bytes(range(256)) * 50, b"middle" * 1000, b"end"]
    parts = []
    for i, chunk in enumerate(chunks):
        part = tmp_path / f"part{i}.bin"
        part.write_bytes(chunk)
        parts.append(part)
    return parts, hashlib.sha256(b"".join(chunks)).hexdigest()


def test_assemble_joins_and_verifies(tmp_path: Path) -> None:
    parts, sha = make_parts(tmp_path)
    seen = []
    out = assemble(parts, tmp_path / "model.gguf", sha, progress=lambda done, total: seen.append((done, total)))
    assert out.read_bytes() == b"".join(p.read_bytes() for p in parts)
    assert seen[-1][0] == seen[-1][1]
    assert assemble(parts, out, "not-checked-again") == out  # reused, not rebuilt


def test_assemble_refuses_a_wrong_hash_and_leaves_nothing(tmp_path: Path) -> None:
    parts, _ = make_parts(tmp_path)
    dest = tmp_path / "model.gguf"
    with pytest.raises(ModelError, match="sha256 .* expected"):
        assemble(parts, dest, "0" * 64)
    assert not dest.exists() and not list(tmp_path.glob("model.gguf.*"))
