"""`liveplan serve` and `liveplan watch`: the URL first, the token off loopback, a live read-only plan page, and the
TUI in a real headless Chromium (Debian's `chromium`, driven by Playwright with that executable)."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI
from web_helpers import CHROMIUM, free_port, get_json, make_session, needs_chromium, running

from liveplan_tui.web import access, is_loopback


def test_loopback_needs_no_token_and_anything_else_does() -> None:
    assert access("127.0.0.1", 8100) == ("http://127.0.0.1:8100/", None, [])
    url, token, warnings = access("0.0.0.0", 8100)
    assert token and url.endswith(f"/?token={token}") and "warning" in warnings[0]
    assert is_loopback("::1") and is_loopback("localhost") and not is_loopback("192.168.1.5")
    assert access("0.0.0.0", 1)[1] != token  # a new token each time


@pytest.mark.slow
def test_watch_serves_the_plan_and_follows_the_store(fake: FakeOpenAI) -> None:
    make_session(fake)
    with running("watch", "--port", str(free_port())) as (_, url):
        page = urllib.request.urlopen(url, timeout=5).read().decode()
        assert "LivePlan · watch" in page and "/state" not in page.split("fetch(")[0]
        state = get_json(url + "state")
        plan = state["plan"]
        assert plan["goal"] == "Fix the bug" and (plan["done"], plan["total"]) == (1, 2)
        assert [s["glyph"] for s in plan["steps"]] == ["✔", "▶"] and plan["steps"][0]["result"] == "found it"
        assert state["chat"][-1] == {"role": "assistant", "text": "Step 2 waits for your go."}
        fake.script.extend(
            [
                {
                    "tool_calls": [
                        {
                            "name": "update_plan",
                            "arguments": {"updates": [{"id": 2, "status": "completed", "result": "changed"}]},
                        }
                    ]
                },
                {"text": "All done."},
            ]
        )
        run_cli("exec", "--continue", "--mode", "plan", "--base-url", fake.base_url, "--model", "m", "go on")
        later = get_json(url + "state")
        assert later["plan"]["finished"] and later["plan"]["done"] == 2 and later["chat"][-1]["text"] == "All done."


@pytest.mark.slow
def test_watch_off_loopback_needs_the_token(fake: FakeOpenAI) -> None:
    make_session(fake)
    port = free_port()
    with running("watch", "--host", "0.0.0.0", "--port", str(port)) as (proc, url):
        assert "?token=" in url
        token = url.split("token=")[1]
        local = f"http://127.0.0.1:{port}/"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(local + "state", timeout=5)
        assert refused.value.code == 403
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(local + "state?token=wrong", timeout=5)
        assert get_json(f"{local}state?token={token}")["plan"]["goal"] == "Fix the bug"


@pytest.mark.slow
@pytest.mark.parametrize("args", [("watch", "nosuchsession"), ("watch", "--port", "70000"), ("serve", "--port", "0")])
def test_bad_web_arguments_are_one_line(fake: FakeOpenAI, args: tuple[str, ...]) -> None:
    make_session(fake)
    proc = run_cli(*args)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0


@pytest.mark.slow
def test_serve_prints_its_url_first_and_serves_the_app_page(fake: FakeOpenAI) -> None:
    with running("serve", "--port", str(free_port()), "--base-url", fake.base_url, "--model", "m") as (_, url):
        page = urllib.request.urlopen(url, timeout=5).read().decode()
        assert "ws://" in page and "/ws" in page and "LivePlan" in page


@pytest.mark.slow
@needs_chromium
def test_serve_in_headless_chromium_renders_the_tui_and_a_message_reaches_the_model(fake: FakeOpenAI) -> None:
    from playwright.sync_api import sync_playwright

    fake.script.append({"text": "Hello from the fake model."})
    with running(
        "serve", "--port", str(free_port()), "--base-url", fake.base_url, "--model", "m", "--mode", "direct"
    ) as (_, url):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url)
            # The TUI draws into xterm.js's canvas; the page marks the first byte the app sent.
            page.wait_for_function("document.body.classList.contains('-first-byte')", timeout=30000)
            page.wait_for_timeout(1500)  # the app draws first, then builds its session
            page.focus(".xterm-helper-textarea")  # where xterm.js takes the keyboard
            page.keyboard.type("hello from the browser", delay=20)
            page.keyboard.press("Enter")
            deadline = time.monotonic() + 30
            while not fake.main_requests() and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            page.wait_for_timeout(1000)  # the streamed reply is drawn
            page.screenshot(path=str(Path(os.environ.get("LIVEPLAN_SCREENSHOT_DIR", "/tmp")) / "liveplan-serve.png"))
            browser.close()
    sent = [m["content"] for r in fake.main_requests() for m in r["messages"] if m["role"] == "user"]
    assert "hello from the browser" in sent


@pytest.mark.slow
@needs_chromium
def test_watch_in_headless_chromium_shows_the_plan_large(fake: FakeOpenAI) -> None:
    from playwright.sync_api import sync_playwright

    make_session(fake)
    with running("watch", "--port", str(free_port())) as (_, url):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            page.goto(url)
            page.wait_for_function("document.getElementById('headline').innerText.startsWith('1/2')", timeout=15000)
            assert page.inner_text("#headline") == "1/2 · Change it"
            assert "✔" in page.inner_text("#steps") and "found it" in page.inner_text("#steps")
            size = page.eval_on_selector("li .line", "e => parseFloat(getComputedStyle(e).fontSize)")
            assert size >= 24  # readable on a projector
            page.screenshot(path=str(Path(os.environ.get("LIVEPLAN_SCREENSHOT_DIR", "/tmp")) / "liveplan-watch.png"))
            done = {"id": 2, "status": "completed", "result": "changed"}
            fake.script.extend(
                [{"tool_calls": [{"name": "update_plan", "arguments": {"updates": [done]}}]}, {"text": "Done."}]
            )
            run_cli("exec", "--continue", "--mode", "plan", "--base-url", fake.base_url, "--model", "m", "go on")
            page.wait_for_function("document.getElementById('headline').innerText === '2/2 · finished'", timeout=15000)
            assert page.inner_text("#steps").count("✔") == 2 and "changed" in page.inner_text("#steps")
            browser.close()
