"""Regenerate the README screenshots by driving the real app against the fake model server.

    python scripts/screenshots.py            # writes screenshots/*.svg
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_openai import FakeOpenAI  # noqa: E402
from tui_helpers import make_app, submit, wait_for  # noqa: E402

OUT = ROOT / "screenshots"


def tc(name: str, **arguments) -> dict:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


SCRIPT = [
    {"when": "classify", "json": {"strategy": "plan", "reason": "a change in a few ordered steps"}},
    {"text": "Let me plan this.", "chunk": 6, **tc("update_plan", goal="Add a --verbose flag to the CLI", steps=[
        {"description": "Read cli.py and find where flags are built", "status": "in_progress"},
        {"description": "Add the --verbose flag", "depends_on": [1]},
        {"description": "Run the tests", "depends_on": [2]},
    ])},
    tc("read_file", path="cli.py"),
    {"text": "Flags are built in `build_parser()`.", **tc("update_plan", updates=[
        {"id": 1, "status": "completed", "result": "flags live in build_parser()"}, {"id": 2, "status": "in_progress"}])},
    {"text": "Next I'll add `--verbose` as a `store_true` option and pass it to the logger so that debug output "
             "appears only when asked for. " * 3, "chunk": 4, "delay": 0.03,
     **tc("edit_file", path="cli.py", old="    return parser", new="    parser.add_argument('--verbose', action='store_true')\n    return parser")},
]

FINISH = [
    tc("update_plan", updates=[{"id": 2, "status": "completed", "result": "store_true flag"}, {"id": 3, "status": "in_progress"}]),
    tc("run_shell", command="python -c 'import cli; cli.build_parser().parse_args([\"--verbose\"])' && echo ok"),
    tc("update_plan", updates=[{"id": 3, "status": "completed", "result": "parses; ok"}]),
    {"text": "Done. `--verbose` is parsed by `build_parser()` and the check passes.\n\n```python\nparser.add_argument('--verbose', action='store_true')\n```"},
]


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(SCRIPT + FINISH) as fake:
        work = Path(tmp)
        (work / "cli.py").write_text("import argparse\n\n\ndef build_parser():\n    parser = argparse.ArgumentParser()\n    return parser\n")
        for size, name in (((120, 40), "liveplan"), ((70, 40), "liveplan-narrow")):
            fake.script[:] = [dict(e) for e in SCRIPT + FINISH]
            app = make_app(fake.base_url, workspace=work)
            async with app.run_test(size=size) as pilot:
                app.prompt.cursor_blink = False
                await submit(pilot, "Add a --verbose flag to the CLI and check it parses")
                await wait_for(pilot, lambda: app.plan_panel.plan.progress() == "1/3 done")
                await pilot.pause(1.5)
                app.save_screenshot(str(OUT / f"{name}-working.svg"))
                if name != "liveplan":
                    app.action_cancel_turn()
                    continue
                await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ApprovalScreen", timeout=30)
                app.save_screenshot(str(OUT / "liveplan-approval.svg"))
                await pilot.press("a")
                await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ApprovalScreen", timeout=30)
                await pilot.press("y")
                await wait_for(pilot, lambda: not app.turn_running, timeout=30)
                await pilot.pause(0.5)
                app.save_screenshot(str(OUT / "liveplan-finished.svg"))
        await plan_review(work)
        await goal_in_progress(work)
        await substeps_reviewed(work)
    print("\n".join(str(p.relative_to(ROOT)) for p in sorted(OUT.glob("*.svg"))))


async def plan_review(work: Path) -> None:
    """The review view with plan approval on: step 2 reworded by typing, before Enter approves it."""
    with FakeOpenAI([dict(e) for e in SCRIPT[:2]]) as fake:
        app = make_app(fake.base_url, workspace=work, plan_approval="ask", mode="plan")
        async with app.run_test(size=(120, 40)) as pilot:
            app.prompt.cursor_blink = False
            await submit(pilot, "Add a --verbose flag to the CLI and check it parses")
            await wait_for(pilot, lambda: app.screen.__class__.__name__ == "PlanReviewScreen", timeout=30)
            step = list(app.screen.query(".plan-review-step"))[1]
            step.focus()
            step.value = "Add --verbose and a -v alias"
            step.cursor_position = len(step.value)
            await pilot.pause(0.5)
            app.save_screenshot(str(OUT / "liveplan-plan-review.svg"))


GOAL_SCRIPT = [
    tc("update_plan", goal="Write the release notes", steps=[
        {"description": "Draft the notes", "status": "in_progress"}, {"description": "Check they exist"}]),
    tc("write_file", path="NOTES.draft.md", content="# Release 1.2\n\n- faster start\n"),
    tc("update_plan", updates=[{"id": 1, "status": "completed", "result": "draft written"},
                               {"id": 2, "status": "in_progress"}]),
    tc("run_shell", command="ls"),
    tc("update_plan", updates=[{"id": 2, "status": "completed", "result": "listed"}]),
    {"text": "The notes are drafted."},
    {"text": "The check wants RELEASE_NOTES.md, so I'll write the notes there and check again. " * 4,
     "chunk": 4, "delay": 0.05},
]


async def goal_in_progress(work: Path) -> None:
    """A goal in its second turn: the first check failed, the status bar shows the budget used."""
    with FakeOpenAI([dict(e) for e in GOAL_SCRIPT]) as fake:
        app = make_app(fake.base_url, workspace=work, approval="never-ask", mode="plan")
        async with app.run_test(size=(120, 40)) as pilot:
            app.prompt.cursor_blink = False
            await submit(pilot, "/goal write the release notes --until test -f RELEASE_NOTES.md")
            await wait_for(pilot, lambda: "1/10 turns" in app.status.goal, timeout=30)
            await pilot.pause(1.5)
            app.save_screenshot(str(OUT / "liveplan-goal.svg"))
            app.action_cancel_turn()


SUBSTEPS_SCRIPT = [
    tc("update_plan", goal="Add a --json flag", steps=[
        {"description": "Read cli.py", "status": "in_progress"}, {"description": "Do the rest"}]),
    {"text": "The review is right: I'll split the work and add a test run.", **tc("update_plan", goal="Add a --json flag to the CLI", steps=[
        {"description": "Read cli.py", "status": "completed", "result": "argparse in build_parser()"},
        {"description": "Add the flag", "status": "in_progress", "substeps": [
            {"description": "Parse --json"}, {"description": "Print the result as JSON"}]},
        {"description": "Run the CLI tests"}])},
    tc("edit_file", path="cli.py", old="    return parser", new="    parser.add_argument('--json', action='store_true')\n    return parser"),
    tc("update_plan", updates=[{"id": "2.1", "status": "completed", "result": "store_true"},
                               {"id": "2.2", "status": "in_progress"}]),
    {"text": "Now the output: when `--json` is set, print `json.dumps(result)` instead of the table. " * 4,
     "chunk": 4, "delay": 0.05},
]


async def substeps_reviewed(work: Path) -> None:
    """Sub-steps in the panel, and the lint review's findings on the first plan in the chat."""
    with FakeOpenAI([dict(e) for e in SUBSTEPS_SCRIPT]) as fake:
        app = make_app(fake.base_url, workspace=work, approval="never-ask", mode="plan")
        async with app.run_test(size=(120, 40)) as pilot:
            app.prompt.cursor_blink = False
            await submit(pilot, "Add a --json flag to the CLI")
            await wait_for(pilot, lambda: app.plan_panel.plan.progress() == "2/4 done", timeout=30)
            await pilot.pause(1.5)
            app.save_screenshot(str(OUT / "liveplan-substeps.svg"))
            app.action_cancel_turn()


def browser_shots() -> None:
    """`serve` and `watch` in headless Chromium (Debian's `chromium`), when it is installed."""
    import shutil
    import subprocess
    import time

    chromium = shutil.which("chromium")
    if chromium is None:
        print("chromium is not installed: no serve/watch screenshots (apt install chromium)")
        return
    from playwright.sync_api import sync_playwright

    steps = [{"description": "Read cli.py and find where flags are built", "status": "in_progress"},
             {"description": "Add the --verbose flag"}, {"description": "Run the tests"}]
    script = [tc("update_plan", goal="Add a --verbose flag to the CLI", steps=steps),
              tc("update_plan", updates=[{"id": 1, "status": "completed", "result": "flags live in build_parser()"},
                                         {"id": 2, "status": "in_progress"}]),
              {"text": "Adding the flag next."}, {"text": "Step 2 is under way."}, {"text": "Hello! Ask me for a change."}]
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(script) as fake:
        env = {**__import__("os").environ, "LIVEPLAN_DATA_DIR": f"{tmp}/data", "LIVEPLAN_CONFIG": f"{tmp}/none.toml"}
        cli = [sys.executable, "-m", "liveplan_tui.cli"]
        subprocess.run([*cli, "exec", "--mode", "plan", "--base-url", fake.base_url, "--model", "gpt-4.1-mini",
                        "--workspace", tmp, "Add a --verbose flag to the CLI and run the tests"], env=env, capture_output=True)
        for name, args, size in (("watch", ["watch", "--port", "8391"], (1600, 900)),
                                 ("serve", ["serve", "--port", "8392", "--base-url", fake.base_url, "--model", "m",
                                            "--workspace", tmp, "--resume"], (1280, 800))):
            server = subprocess.Popen([*cli, *args], env=env, stdout=subprocess.PIPE, text=True)
            url = server.stdout.readline().strip()
            time.sleep(1.5)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": size[0], "height": size[1]})
                page.goto(url)
                page.wait_for_timeout(4000)
                page.screenshot(path=str(OUT / f"liveplan-{name}.png"))
                browser.close()
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    asyncio.run(main())
    browser_shots()
