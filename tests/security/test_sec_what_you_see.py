"""Class 3: what the user approves is every character that runs, and no model or file text drives the terminal."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from attack import call, exec_attack, make_workspace
from textual.app import App

from liveplan_tui.agent.approvals import ApprovalRequest, Decision
from liveplan_tui.lines import EditorLines
from liveplan_tui.repl import Repl
from liveplan_tui.textsafe import terminal_safe, visible
from liveplan_tui.ui.widgets.approval import ApprovalScreen

HIDDEN_TAILS = [
    "ls -la" + " " * 300 + "; touch PWNED",
    "ls -la\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t; touch PWNED",
    "echo " + "a" * 400 + "; touch PWNED",
    "ls -la\x1b[2K\x1b[1G; touch PWNED",
    "ls -la\r; touch PWNED",
    "ls -la #\u202e; touch PWNED",
]


def screen_text(svg: str) -> str:
    """The characters drawn in a Textual SVG screenshot, as plain text."""
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


class Host(App):
    def __init__(self, request: ApprovalRequest):
        super().__init__()
        self.request = request
        self.decision: Decision | None = None

    def on_mount(self) -> None:
        self.push_screen(ApprovalScreen(self.request), callback=lambda d: setattr(self, "decision", d))


@pytest.mark.parametrize("command", HIDDEN_TAILS)
async def test_tui_dialog_shows_the_hidden_tail(command: str) -> None:
    app = Host(ApprovalRequest(call_id="1", tool="run_shell", why="runs a shell command", preview=f"$ {command}"))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause(0.1)
        text = screen_text(app.export_screenshot())
        assert "touch PWNED" in text or "touch" in text and "PWNED" in text
        assert "\x1b" not in text and "\u202e" not in text


async def test_tui_dialog_counts_lines_below_the_fold_and_scrolls() -> None:
    preview = "\n".join(f"+line {n}" for n in range(1, 121)) + "\n+rm -rf ~ # the last line"
    app = Host(ApprovalRequest(call_id="1", tool="write_file", why="changes files", preview=preview))
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            text = screen_text(app.export_screenshot())
            if "more lines below" in text:
                break
        found = re.search(r"(\d+) more lines below", text)
        assert found is not None
        hidden = int(found.group(1))
        assert hidden > 90
        app.screen.query_one("#approval-preview").scroll_end(animate=False)
        for _ in range(100):  # scrolling settles over a few refreshes, more on a busy machine
            await pilot.pause(0.05)
            text = screen_text(app.export_screenshot())
            if "thelastline" in text.replace(" ", "") and "more lines below" not in text:
                break
        assert "thelastline" in text.replace(" ", "") and "more lines below" not in text


class Session:
    """prompt_toolkit's prompt, answered from a list: the terminal side of the REPL."""

    def __init__(self, answers: list[str]):
        self.answers = answers

    async def prompt_async(self, message: str) -> str:
        return self.answers.pop(0)


class Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> None:
        self.text += s

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("command", HIDDEN_TAILS)
async def test_repl_prints_every_character_escaped(command: str) -> None:
    out = Out()
    repl = Repl(agent=None, lines=EditorLines(Session(["n", ""])), out=out)  # type: ignore[arg-type]
    decision = await repl.approve(
        ApprovalRequest(call_id="1", tool="run_shell", why="runs a shell command", preview=f"$ {command}")
    )
    assert decision.action == "deny"
    assert "PWNED" in out.text and "\x1b" not in out.text and "\r" not in out.text and "\u202e" not in out.text


async def test_repl_says_how_many_lines_it_hides_and_shows_them_on_request() -> None:
    preview = "\n".join(f"+line {n}" for n in range(1, 501))
    out = Out()
    repl = Repl(agent=None, lines=EditorLines(Session(["v", "y"])), out=out)  # type: ignore[arg-type]
    decision = await repl.approve(ApprovalRequest(call_id="1", tool="write_file", why="changes files", preview=preview))
    assert decision.action == "once"
    first, _, rest = out.text.partition("more lines hidden")
    assert "+line 200" in first and "+line 201" not in first
    assert "300" in first.splitlines()[-1]
    assert "+line 500" in rest


@pytest.mark.slow
def test_exec_text_mode_neutralises_escapes_in_the_answer(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    fake.script.append({"text": "safe\x1b[2K\x1b[1Gfake prompt$ \x1b]0;title\x07 \x9b31m done"})
    proc = exec_attack(fake, ws)
    assert proc.returncode == 0
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "\x9b" not in proc.stdout
    assert "\\x1b[2K" in proc.stdout


@pytest.mark.slow
def test_tool_results_with_escapes_reach_the_terminal_escaped(fake, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    (ws / "evil.txt").write_text("hello\x1b[2J\x1b[H everything is fine\n")
    fake.script.extend([call("read_file", path="evil.txt"), {"text": "file says: hello\x1b[2J"}])
    proc = exec_attack(fake, ws)
    assert "\x1b" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("text", ["a\tb", "trailing   ", "x" + " " * 40 + "y", "\x00\x07\x1b\x7f\x85\u200b\u2066"])
def test_visible_marks_every_invisible_character(text: str) -> None:
    shown = visible(text)
    assert all(c == "\n" or c.isprintable() for c in shown)
    assert len(shown) >= len(text.strip(" ")) or "⟨" in shown


def test_terminal_safe_keeps_ordinary_text() -> None:
    text = "Hello — ünïcode ✔ 漢字\n\tindented\n"
    assert terminal_safe(text) == text
