"""Text from outside is shown, never obeyed: every place where the model's, a tool's, a file name's, a hook's or an
MCP server's text reaches a terminal, walked with one set of hostile payloads.

Each payload is a class: CSI (7-bit and the one-byte C1 form), OSC (title, clipboard, hyperlink), DCS, bare C0
controls, bidi overrides and isolates, zero-width characters, and the invisible tag block. The TUI is also tried
with Textual markup, which must show as text, not run as an action.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conftest import run_cli  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402

from liveplan_tui.textsafe import terminal_safe  # noqa: E402

PAYLOADS = {
    "csi": "\x1b[2J\x1b[31m",
    "c1-csi": "\x9b6n",
    "osc-title": "\x1b]0;owned\x07",
    "osc-clipboard": "\x1b]52;c;cm0gLXJmIH4=\x1b\\",
    "osc-link": "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "dcs": "\x1bP1$r\x1b\\",
    "c0": "\x07\x08\r\x0b\x0c",
    "bidi": "\u202eevil\u202c\u2066x\u2069\u200f",
    "zero-width": "a\u200bb\u200dc\u2060d\ufeffe\u00ad",
    "tags": "\U000e0069\U000e0067\U000e006e",
}
HOSTILE = "".join(PAYLOADS.values())
# Anything a terminal would obey or hide: the same classes terminal_safe escapes, checked independently of it.
RAW = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\U000e0000-\U000e007f]"
)


def assert_inert(text: str, where: str) -> None:
    found = RAW.search(text)
    assert found is None, (
        f"{where}: {found.group()!r} reached the terminal in {text[max(0, found.start() - 40) : found.end() + 40]!r}"
    )


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_terminal_safe_leaves_nothing_to_obey_in_each_class(name: str) -> None:
    shown = terminal_safe(f"before {PAYLOADS[name]} after")
    assert_inert(shown, name)
    assert shown.startswith("before ") and shown.endswith(" after")
    assert terminal_safe("tabs\tand\nlines, ünïcödé, 日本語, emoji ✔️") == "tabs\tand\nlines, ünïcödé, 日本語, emoji ✔️"


def hostile_plan_script() -> list[dict]:
    steps = [
        {"description": f"Read {HOSTILE} the code", "status": "in_progress"},
        {"description": f"[@click=app.quit]Change[/] {HOSTILE}"},
    ]
    done = {"id": 1, "status": "completed", "result": f"found {HOSTILE}"}
    return [
        {"when": "classify", "text": json.dumps({"strategy": "plan", "reason": f"because {HOSTILE}"})},
        {
            "tool_calls": [
                {"name": "update_plan", "arguments": {"goal": f"Goal {HOSTILE}", "steps": steps, "notes": HOSTILE}}
            ]
        },
        {
            "tool_calls": [
                {
                    "name": "update_plan",
                    "arguments": {"updates": [done, {"id": 2, "status": "completed", "result": HOSTILE}]},
                }
            ]
        },
        {"text": f"The answer {HOSTILE} is here."},
    ]


def write_hook_and_mcp_config(home: Path) -> None:
    noisy = f'{sys.executable} -c "import sys; sys.stderr.write({HOSTILE!r}); sys.exit(3)"'
    home.joinpath("config.toml").write_text(
        '[[hooks]]\nevent = "step_completed"\ncommand = '
        + json.dumps(noisy)
        + "\n\n"
        + f"[mcp_servers.noisy]\ncommand = {json.dumps(sys.executable)}\n"
        + f"args = {json.dumps(['-c', f'import sys; sys.stderr.write({HOSTILE!r}); sys.exit(1)'])}\n"
    )


@pytest.mark.slow
def test_every_printer_shows_hostile_text_inert(fake: FakeOpenAI, isolated_env: Path, tmp_path: Path) -> None:
    write_hook_and_mcp_config(isolated_env)
    fake.script.extend(hostile_plan_script())
    task = f"do it {HOSTILE}"
    base = ("--base-url", fake.base_url, "--model", "m", "--workspace", str(tmp_path))
    ran = run_cli("exec", *base, task)
    assert ran.returncode == 0, ran.stderr
    assert "Goal" in ran.stderr or "plan" in ran.stderr  # the plan's progress lines were printed
    assert "hook" in ran.stderr  # the hook's failure, with its stderr, is a notice
    outputs = {"exec stdout": ran.stdout, "exec stderr": ran.stderr}
    fake.script.append({"when": "classify", "text": json.dumps({"strategy": "direct", "reason": f"r {HOSTILE}"})})
    outputs["route"] = run_cli("route", *base, f"route {HOSTILE}").stdout
    outputs["sessions"] = run_cli("sessions").stdout
    session_id = json.loads(run_cli("sessions", "--json").stdout.splitlines()[0])["id"]
    outputs["export"] = run_cli("export", session_id).stdout
    exported = tmp_path / "out.md"
    run_cli("export", session_id, "--output", str(exported))
    outputs["export file"] = exported.read_text()
    mcp = run_cli("mcp", "list")
    outputs["mcp list"] = mcp.stdout + mcp.stderr
    for where, text in outputs.items():
        assert_inert(text, where)
    assert "\\x1b]52" in outputs["export"] and "found" in outputs["export"]  # shown as marks, not dropped
    assert "\\x1b" in outputs["route"] and "\\u202e" in outputs["mcp list"]


def test_the_line_chat_prints_the_plan_inert(fake: FakeOpenAI, tmp_path: Path) -> None:
    import asyncio
    import io

    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from liveplan_tui.config import load_settings, resolve_endpoint
    from liveplan_tui.repl import run_repl

    fake.script.extend(hostile_plan_script()[1:])
    settings = load_settings(base_url=fake.base_url, model="m", mode="plan", workspace=str(tmp_path))
    out = io.StringIO()

    async def go() -> None:
        with create_pipe_input() as pipe:
            for line in ("do it in steps", "/plan", "/quit"):
                pipe.send_text(line + "\n")
            await run_repl(
                settings, resolve_endpoint(settings), lambda a: None, None, input=pipe, output=DummyOutput(), out=out
            )

    asyncio.run(go())
    text = out.getvalue()
    assert "Goal" in text and "found" in text
    assert_inert(text, "REPL")


async def test_the_tui_shows_plan_notices_and_markup_as_text(fake: FakeOpenAI, tmp_path: Path) -> None:
    from textual.content import Content
    from textual.widget import Widget
    from tui_helpers import chat_text, make_app, started, submit, wait_for

    from liveplan_tui.events import Notice, Route

    fake.script.extend(hostile_plan_script()[1:])
    app = make_app(fake.base_url, tmp_path, mode="plan", model=f"model {HOSTILE} [reverse]")  # shown in the status bar
    async with app.run_test(size=(140, 50)) as pilot:
        await started(pilot)
        await submit(pilot, f"go {HOSTILE}")
        await wait_for(pilot, lambda: app.plan_panel.finished and not app.turn_running, 15)
        assert "The answer" in chat_text(app) and "\\x1b" in chat_text(app)
        await app.handle_event(Notice(message=f"mcp server said {HOSTILE} [@click=app.quit]x[/]"))
        await app.handle_event(Route(strategy="plan", level="llm", reason=f"why {HOSTILE} [b]bold[/b]"))
        await pilot.pause(0.2)
        assert app.is_running  # no markup action ran
        texts = []
        for widget in [*app.screen.query("*"), *app.query("*")]:
            assert isinstance(widget, Widget)
            try:
                rendered = widget.render()
            except Exception:  # containers that render nothing of their own
                continue
            text = rendered.plain if isinstance(rendered, Content) else str(rendered)
            assert_inert(text, type(widget).__name__)
            texts.append(text)
        everything = "\n".join(texts)
        assert "[@click=app.quit]Change[/]" in everything  # markup shown as typed, not parsed
        assert "\\x1b]52" in everything and "\\u202e" in everything
        assert "mcp server said" in everything and "[b]bold[/b]" in everything and "[reverse]" in everything
