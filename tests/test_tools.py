"""Workspace tools: behaviour, error cases and confinement."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from liveplan_tui.agent.conversation import Conversation
from liveplan_tui.agent.tool_runs import run_tool
from liveplan_tui.llm.openai_compat import ToolCall
from liveplan_tui.plan.keeper import PlanKeeper
from liveplan_tui.tools import default_tools
from liveplan_tui.tools.artifacts import ArtifactStore
from liveplan_tui.tools.base import ToolContext
from liveplan_tui.tools.search import SearchTool
from liveplan_tui.tools.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def greet(name):\n    return 'hi ' + name\n\n\nprint(greet('bob'))\n")
    (root / "README.md").write_text("# Demo\nSome text about greet.\n")
    (root / ".gitignore").write_text("build/\n*.log\n!keep.log\n")
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text("greet = 1\n")
    (root / "debug.log").write_text("greet in a log\n")
    (root / "keep.log").write_text("greet kept\n")
    (root / "img.bin").write_bytes(b"\x00\x01\x02greet")
    (root / ".env").write_text("OPENAI_API_KEY=sk-abcdefghijklmnopqrstuvwxyz123456\n")
    return root


@pytest.fixture
def ctx(ws: Path) -> ToolContext:
    return ToolContext(
        plans=PlanKeeper(Conversation()),
        workspace=Workspace(ws),
        artifacts=ArtifactStore(),
        secrets=("configured-secret-value",),
    )


async def call(ctx: ToolContext, name: str, tools=None, **arguments) -> tuple[str, bool]:
    import json

    result = await run_tool(
        tools or default_tools(), ToolCall(id="c1", name=name, arguments=json.dumps(arguments)), ctx
    )
    return result.text, result.is_error


async def test_read_file_numbers_lines_and_pages(ctx: ToolContext) -> None:
    text, err = await call(ctx, "read_file", path="src/app.py", start_line=2, end_line=3)
    assert not err
    assert text.splitlines()[0] == "src/app.py (lines 2-3 of 5)"
    assert text.splitlines()[1:3] == ["2      return 'hi ' + name", "3  "]
    assert "[2 more lines: call read_file with start_line=4]" in text


async def test_read_file_caps_long_files(ctx: ToolContext, ws: Path) -> None:
    (ws / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, 1001)))
    text, _ = await call(ctx, "read_file", path="long.txt")
    assert "(lines 1-400 of 1000)" in text and "start_line=401" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"path": "img.bin"}, "binary file"),
        ({"path": "nope.py"}, "does not exist"),
        ({"path": "src"}, "is not a file"),
        ({"path": "src/app.py", "start_line": 99}, "past the end"),
        ({"path": 5}, "Input should be a valid string"),
        ({}, "path: Field required"),
    ],
)
async def test_read_file_errors(ctx: ToolContext, args: dict, message: str) -> None:
    text, err = await call(ctx, "read_file", **args)
    assert err and text.startswith("error: ") and message in text


async def test_list_dir_respects_gitignore(ctx: ToolContext) -> None:
    text, err = await call(ctx, "list_dir")
    assert not err
    lines = text.splitlines()
    assert "src/" in lines and "src/app.py" in lines and "keep.log" in lines
    assert not any(line.startswith(("build", ".git/")) or line == "debug.log" for line in lines)


async def test_search_fallback_respects_gitignore_and_format(ctx: ToolContext) -> None:
    tools = default_tools()
    tools._tools["search"] = SearchTool(use_ripgrep=False)
    text, err = await call(ctx, "search", tools, pattern=r"greet\(")
    assert not err
    assert text.splitlines() == ["src/app.py:1: def greet(name):", "src/app.py:5: print(greet('bob'))"]
    text, _ = await call(ctx, "search", tools, pattern="greet", glob="*.log")
    assert text == "keep.log:1: greet kept"
    text, err = await call(ctx, "search", tools, pattern="(unclosed")
    assert err and "bad regular expression" in text


@pytest.mark.parametrize(
    "use_rg",
    [
        False,
        pytest.param(True, marks=pytest.mark.skipif(shutil.which("rg") is None, reason="ripgrep is not installed")),
    ],
)
async def test_search_backends_agree_and_skip_secrets(ctx: ToolContext, use_rg: bool) -> None:
    tools = default_tools()
    tools._tools["search"] = SearchTool(use_ripgrep=use_rg)
    text, _ = await call(ctx, "search", tools, pattern=r"greet\(")
    assert text.splitlines() == ["src/app.py:1: def greet(name):", "src/app.py:5: print(greet('bob'))"]
    text, _ = await call(ctx, "search", tools, pattern="greet")
    assert sorted(line.split(":")[0] for line in text.splitlines()) == [
        "README.md",
        "keep.log",
        "src/app.py",
        "src/app.py",
    ]
    text, _ = await call(ctx, "search", tools, pattern="OPENAI_API_KEY")
    assert text.startswith("no matches")


async def test_search_caps_matches(ctx: ToolContext, ws: Path) -> None:
    (ws / "many.txt").write_text("hit\n" * 500)
    tools = default_tools()
    tools._tools["search"] = SearchTool(use_ripgrep=False)
    text, _ = await call(ctx, "search", tools, pattern="hit", path="many.txt")
    assert "more than 200 matches" in text


async def test_write_and_edit_file(ctx: ToolContext, ws: Path) -> None:
    text, err = await call(ctx, "write_file", path="new/mod.py", content="x = 1\ny = 2\n")
    assert not err and text.startswith("created new/mod.py")
    text, err = await call(ctx, "edit_file", path="new/mod.py", old="y = 2", new="y = 3")
    assert not err
    assert "-y = 2\n+y = 3" in text and "--- a/new/mod.py" in text
    assert (ws / "new/mod.py").read_text() == "x = 1\ny = 3\n"


async def test_edit_file_errors(ctx: ToolContext, ws: Path) -> None:
    (ws / "dup.py").write_text("a\na\n")
    text, err = await call(ctx, "edit_file", path="dup.py", old="a", new="b")
    assert err and "occurs 2 times" in text and "count=2" in text
    text, err = await call(ctx, "edit_file", path="dup.py", old="zzz", new="b")
    assert err and "not found" in text
    text, err = await call(ctx, "edit_file", path="dup.py", old="a", new="b", count=2)
    assert not err and (ws / "dup.py").read_text() == "b\nb\n"


@pytest.mark.parametrize(
    "path",
    ["../outside.txt", "../../etc/passwd", "/etc/passwd", "src/../../x", "/tmp/x"],
)
async def test_paths_outside_are_refused(ctx: ToolContext, path: str) -> None:
    for name, extra in (("read_file", {}), ("write_file", {"content": "pwned"}), ("list_dir", {})):
        text, err = await call(ctx, name, path=path, **extra)
        assert err and "outside the workspace" in text, (name, text)
    assert not Path("/tmp/x").exists() or Path("/tmp/x").read_text() != "pwned"


async def test_symlink_escapes_are_refused(ctx: ToolContext, ws: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    (ws / "etc").symlink_to("/etc")
    (ws / "leak").symlink_to(secret)
    (ws / "loop_a").symlink_to(ws / "loop_b")
    (ws / "loop_b").symlink_to(ws / "loop_a")
    text, err = await call(ctx, "read_file", path="etc/passwd")
    assert err and "through a symlink" in text
    text, err = await call(ctx, "write_file", path="leak", content="overwritten")
    assert err and secret.read_text() == "top secret"
    text, err = await call(ctx, "read_file", path="loop_a")
    assert err and text.startswith("error: ")
    listing, _ = await call(ctx, "list_dir")
    assert "etc/" not in listing.splitlines() and "top secret" not in listing


async def test_non_string_path_is_refused(ctx: ToolContext) -> None:
    for bad in (["a"], {"p": 1}, None, 3):
        text, err = await call(ctx, "write_file", path=bad, content="x")
        assert err and "valid string" in text


async def test_large_output_becomes_a_pageable_artifact(ctx: ToolContext, ws: Path) -> None:
    (ws / "big.txt").write_text("".join(f"row {i} " + "x" * 60 + "\n" for i in range(1, 400)))
    text, err = await call(ctx, "read_file", path="big.txt")
    assert not err
    assert "stored as artifact a1" in text and len(text) < 6000
    page, err = await call(ctx, "read_artifact", id="a1", start=350, end=352)
    assert not err
    assert page.splitlines()[0].endswith("row 349 " + "x" * 60)  # line 350 of the numbered output
    assert "[lines 350-352 of 400" in page
    text, err = await call(ctx, "read_artifact", id="a9")
    assert err and "known artifacts: a1" in text


async def test_outputs_are_redacted(ctx: ToolContext, ws: Path) -> None:
    (ws / "conf.py").write_text("KEY = 'configured-secret-value'\ntoken = 'ghp_abcdefghijklmnopqrstuvwxyz0123'\n")
    text, _ = await call(ctx, "read_file", path="conf.py")
    assert "configured-secret-value" not in text and "ghp_abc" not in text
    assert text.count("[REDACTED]") == 2


async def test_tool_exceptions_become_results(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*a, **k):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "scandir", broken)
    text, err = await call(ctx, "list_dir")
    assert not err and "(empty" in text  # unreadable folders are skipped, never crash
