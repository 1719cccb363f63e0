"""The browser is a hostile neighbour: `serve` and `watch` obey only their own page.

A page from another origin (another port on this machine, as any site the user visits would be) tries the
WebSocket and every HTTP endpoint, in the same headless Chromium that holds the real page's cookie; a name that
resolves to 127.0.0.1 (DNS rebinding) and a forged `Host` are tried too. Each is refused with 403 and one log line,
and the model never hears from them.
"""

from __future__ import annotations

import http.server
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fake_openai import FakeOpenAI  # noqa: E402
from web_helpers import CHROMIUM, free_port, make_session, needs_chromium, running  # noqa: E402

from liveplan_tui.web import access, allowed_hosts  # noqa: E402

ATTACK_PAGE = """<!doctype html><html><body><script>
window.results = {};
const target = "%(target)s";
function tryWs(name, url) {
  return new Promise(done => {
    const ws = new WebSocket(url);
    ws.onopen = () => { ws.send(JSON.stringify(["stdin", "rm -rf ~\\r"])); window.results[name] = "open"; done(); };
    ws.onerror = () => { window.results[name] = "refused"; done(); };
  });
}
async function tryFetch(name, url, init) {
  try { const r = await fetch(url, init); window.results[name] = "status " + r.status; }
  catch (e) { window.results[name] = "blocked"; }
}
(async () => {
  await tryWs("ws", target.replace("http", "ws") + "ws");
  await tryFetch("index", target, {mode: "no-cors", credentials: "include"});
  await tryFetch("state", target + "state", {credentials: "include"});
  await tryFetch("post", target + "ws", {method: "POST", mode: "no-cors", body: "x", credentials: "include"});
  window.done = true;
})();
</script></body></html>"""


@contextmanager
def attacker_site(target: str) -> Iterator[str]:
    """A page on another origin (its own port) that attacks `target`."""
    body = (ATTACK_PAGE % {"target": target}).encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def status_of(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_serve_needs_a_token_even_on_loopback_and_watch_does_not() -> None:
    url, token, warnings = access("127.0.0.1", 8100, secret=True)
    assert token and url == f"http://127.0.0.1:8100/?token={token}" and warnings == []
    assert access("localhost", 8100)[1] is None


@pytest.mark.parametrize(
    ("host", "port", "good", "bad"),
    [
        (
            "127.0.0.1",
            8100,
            ["127.0.0.1:8100", "localhost:8100", "[::1]:8100", "LOCALHOST:8100"],
            ["evil.example:8100", "127.0.0.1:8101", "127.0.0.1", "", "127.0.0.1.nip.io:8100", "localhost.evil:8100"],
        ),
        ("::1", 9000, ["[::1]:9000", "127.0.0.1:9000"], ["::1:9000", "[::2]:9000"]),
        ("devbox.lan", 80, ["devbox.lan", "devbox.lan:80", "localhost"], ["devbox.lan.evil", "evil:80"]),
    ],
)
def test_only_the_names_we_listen_on_are_hosts(host: str, port: int, good: list[str], bad: list[str]) -> None:
    hosts = allowed_hosts(host, port)
    assert all(name.lower() in hosts for name in good), hosts
    assert not any(name.lower() in hosts for name in bad), hosts


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "watch"])
def test_forged_host_and_foreign_origin_get_403_and_a_log_line(fake: FakeOpenAI, command: str) -> None:
    make_session(fake)
    port = free_port()
    extra = ["--base-url", fake.base_url, "--model", "m"] if command == "serve" else []
    with running(command, "--port", str(port), *extra) as (proc, url):
        own = f"127.0.0.1:{port}"
        assert status_of(url, {}) == 200
        refused = [
            {"Host": f"attacker.example:{port}"},
            {"Host": f"rebind.127.0.0.1.nip.io:{port}"},
            {"Host": own, "Origin": "http://attacker.example"},
            {"Host": own, "Origin": f"http://localhost:{port}"},  # another origin, even on this machine
            {"Host": own, "Origin": "null"},
        ]
        for headers in refused:
            assert status_of(url, headers) == 403, headers
        upgrade = {
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Origin": "http://attacker.example",
            "Host": own,
        }
        base, mark, query = url.partition("?")
        assert status_of(base + "ws" + mark + query, upgrade) == 403
    assert proc.stderr is not None
    log = proc.stderr.read()
    assert log.count("liveplan: refused") >= len(refused) + 1, log
    assert "\x1b" not in log


@pytest.mark.slow
def test_serve_without_the_token_is_refused_on_loopback(fake: FakeOpenAI) -> None:
    port = free_port()
    with running("serve", "--port", str(port), "--base-url", fake.base_url, "--model", "m") as (_, url):
        assert "?token=" in url
        bare = f"http://127.0.0.1:{port}/"
        assert status_of(bare, {}) == 403 and status_of(bare + "ws", {}) == 403
        assert status_of(url.replace("token=", "token=x"), {}) == 403
        assert status_of(url, {}) == 200


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("command", ["serve", "watch"])
def test_a_page_from_another_origin_cannot_reach_serve_or_watch(fake: FakeOpenAI, command: str) -> None:
    from playwright.sync_api import sync_playwright

    make_session(fake)
    requests_before = len(fake.requests)
    port = free_port()
    extra = ["--base-url", fake.base_url, "--model", "m"] if command == "serve" else []
    with (
        running(command, "--port", str(port), *extra) as (proc, url),
        attacker_site(f"http://127.0.0.1:{port}/") as evil,
    ):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--host-resolver-rules=MAP rebind.test 127.0.0.1"],
            )
            context = browser.new_context()
            page = context.new_page()
            page.goto(url)  # the user's own tab: the token's cookie is now in this browser
            attack = context.new_page()
            attack.goto(evil)
            attack.wait_for_function("window.done === true", timeout=15000)
            results = attack.evaluate("window.results")
            rebound = context.new_page().goto(f"http://rebind.test:{port}/state")
            browser.close()
    assert results["ws"] == "refused", results
    assert results["state"] == "blocked", results  # the page may not read it (and the server refused it)
    assert rebound is not None and rebound.status == 403
    assert proc.stderr is not None
    log = proc.stderr.read()
    assert log.count("liveplan: refused") >= 4, log
    assert "Origin 'http://127.0.0.1:" in log and "Host 'rebind.test:" in log
    assert len(fake.requests) == requests_before  # nothing reached the model
