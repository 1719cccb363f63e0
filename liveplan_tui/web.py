"""The chat and the live plan in a browser: `liveplan serve` (the full TUI, through textual-serve) and
`liveplan watch` (a read-only page of one session's plan and chat, for pairing and projectors).

Both listen on 127.0.0.1 unless `--host` says otherwise; then a warning is printed and every request needs a
random token, given in the URL (and kept in a cookie for the page's own requests). The full URL is always the
first line printed. `watch` reads the session store only: no model is called, and it follows a running session
as it writes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import shlex
import socket
import sys
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from .agent.masking import mask_plan
from .llm.openai_compat import loopback_host as is_loopback
from .plan.status import STATUS_TABLE, VERIFICATION_BADGES
from .redact import redact
from .store import Store, StoreError
from .textsafe import echo

COOKIE = "liveplan_token"
CHAT_MESSAGES = 40
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def public_host(host: str) -> str:
    """The host to put in the printed URL: a wildcard bind is shown as this machine's address."""
    if host in ("0.0.0.0", "::", ""):
        try:
            return socket.gethostbyname(socket.gethostname())
        except OSError:
            return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def access(host: str, port: int, *, secret: bool = False) -> tuple[str, str | None, list[str]]:
    """The URL to print first, the token every request must carry, and the warnings.

    Off loopback there is always a token; on loopback only when `secret` (serve runs commands, so any page
    the user visits must not be able to drive it, and only the printed URL can).
    """
    base = f"http://{public_host(host)}:{port}/"
    if is_loopback(host) and not secret:
        return base, None, []
    token = secrets.token_urlsafe(18)
    warnings = []
    if not is_loopback(host):
        warnings.append(
            f"liveplan: warning: listening on {host}, reachable from other machines; only people with the URL above "
            "(it holds a token) can open it. Use --host 127.0.0.1 to keep it on this machine."
        )
    return f"{base}?token={token}", token, warnings


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The `Host` values a request may carry: the loopback names and the `--host` name, with the port.

    Anything else is a page that reached us through a name it controls (DNS rebinding) or a forged header.
    """
    names = {"127.0.0.1", "localhost", "[::1]", public_host(host), f"[{host}]" if ":" in host else host}
    with_port = {f"{name}:{port}".lower() for name in names if name}
    return frozenset(with_port | ({name.lower() for name in names if name} if port == 80 else set()))


def refusal(request: web.Request, hosts: frozenset[str]) -> str | None:
    """Why this request is refused (a wrong `Host`, or an `Origin` other than the page's own), or None."""
    given = request.headers.get("Host", "").lower()
    if given not in hosts:
        return f"Host {given!r} is not this server"
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower() != f"http://{given}":
        return f"Origin {origin!r} is another site"
    return None


def guard(token: str | None, hosts: frozenset[str], port: int) -> Middleware:
    """Check every request and WebSocket upgrade: its Host and Origin, then the token (URL or cookie).

    The first good URL sets the cookie, named by port so two LivePlan servers on one machine keep their own.
    """
    cookie = f"{COOKIE}_{port}"

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        reason = refusal(request, hosts)
        if reason is None and token is not None:
            given = request.query.get("token") or request.cookies.get(cookie, "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                reason = "no token or a wrong one"
        if reason is not None:
            line = f"liveplan: refused {request.method} {request.path} from {request.remote}: {reason}"
            echo(line[:300], err=True)
            raise web.HTTPForbidden(text="LivePlan: this page needs the URL with its token, as printed at start-up.")
        response = await handler(request)
        if token is not None and request.query.get("token") and isinstance(response, web.Response):
            response.set_cookie(cookie, token, httponly=True, samesite="Strict")
        return response

    return check


# -- serve: the full TUI ---------------------------------------------------------------


def chat_command(forwarded: list[str]) -> str:
    """The command each browser tab runs: the TUI, with the flags `serve` was given (minus its own)."""
    return shlex.join([sys.executable, "-m", "liveplan_tui.cli", "chat", *forwarded])


def serve(forwarded: list[str], host: str, port: int) -> None:
    from textual_serve.server import Server

    url, token, warnings = access(host, port, secret=True)
    hosts = allowed_hosts(host, port)

    class GuardedServer(Server):
        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(guard(token, hosts, port))
            return app

        async def on_startup(self, app: web.Application) -> None:
            return None  # the URL was printed first, before anything else

        async def handle_index(self, request: web.Request) -> Any:
            # The page's WebSocket goes back to the name the page was opened by (its Host, checked by the
            # guard), so its Origin matches and its cookie goes with it, whether that is localhost or 127.0.0.1.
            self.public_url = f"http://{request.host}"
            return await super().handle_index(request)

    echo(url)
    for warning in warnings:
        echo(warning, err=True)
    public = url.split("/?", 1)[0].rstrip("/")
    GuardedServer(chat_command(forwarded), host=host, port=port, title="LivePlan", public_url=public).serve()


# -- watch: a read-only page of one session ----------------------------------------------


def session_state(store: Store, session_id: str) -> dict[str, Any]:
    """What the page shows, read from the store: the plan (or the last finished one) and the latest chat."""
    info, board, tail = store.glance(session_id, CHAT_MESSAGES)
    plan = mask_plan(board.latest, ())  # sessions stored before masking are masked on the way out
    finished = board.active.is_empty and not plan.is_empty
    chat = [{"role": m["role"], "text": redact(m["content"])} for m in tail]
    steps = [
        {
            "id": s.key,
            "depth": depth,
            "description": s.description,
            "status": s.status,
            "glyph": STATUS_TABLE[s.status].glyph,
            "result": s.result,
            "badge": VERIFICATION_BADGES[s.verified],
            "evidence": s.shown_evidence,
            "verified": s.verified,
        }
        for depth, s in plan.rows()
    ]
    return {
        "session": {"id": info.id, "title": info.title, "model": info.model},
        "updated": info.updated,
        "plan": {"goal": plan.goal, "steps": steps, "done": plan.done, "total": plan.total, "finished": finished},
        "chat": chat,
    }


def watch_app(store: Store, session_id: str, token: str | None, hosts: frozenset[str], port: int) -> web.Application:
    page = resources.files("liveplan_tui").joinpath("watch.html").read_text(encoding="utf-8")

    async def index(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    shown: dict[str, Any] = {}  # the last state sent: its stamp, its ETag and its body

    async def state(request: web.Request) -> web.Response:
        """The page's state; read from the store only when the session moved, and not sent again while the page
        holds it (304): an idle watch of a long session costs a one-row query a second."""
        try:
            stamp = store.stamp(session_id)
            if shown.get("stamp") != stamp:
                body = json.dumps(session_state(store, session_id), ensure_ascii=False)
                digest = hashlib.sha256(body.encode()).hexdigest()[:16]
                shown.update(stamp=stamp, etag=f'"{digest}"', body=body)
        except StoreError as exc:
            return web.json_response({"error": str(exc)}, status=503)
        headers = {"ETag": shown["etag"], "Cache-Control": "no-cache"}
        if request.headers.get("If-None-Match") == shown["etag"]:
            return web.Response(status=304, headers=headers)
        return web.Response(text=shown["body"], content_type="application/json", headers=headers)

    app = web.Application(middlewares=[guard(token, hosts, port)])
    app.add_routes([web.get("/", index), web.get("/state", state)])
    return app


def watch(store: Store, session_id: str, host: str, port: int) -> None:
    url, token, warnings = access(host, port)
    echo(url)
    for warning in warnings:
        echo(warning, err=True)
    echo(f"liveplan: watching session {session_id} (read-only; Ctrl+C stops)", err=True)
    app = watch_app(store, session_id, token, allowed_hosts(host, port), port)
    web.run_app(app, host=host, port=port, print=lambda *a: None)
