"""The `liveplan` command: flag parsing and error reporting around the core.

Every failure the user can cause ends as one line on stderr and a non-zero
exit code; a traceback is shown only with LIVEPLAN_DEBUG=1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .config import (
    APPROVALS,
    MODES,
    SANDBOXES,
    TOOL_MODES,
    ConfigError,
    Endpoint,
    Settings,
    load_settings,
    resolve_endpoint,
    wants_remote,
)
from .local.model import ModelError
from .store import Store, StoreError
from .textsafe import clean_text

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_INTERNAL = 70
LATEST = "__latest__"

EPILOG = """\
examples:
  liveplan                                   open the chat (TUI)
  liveplan --continue                        reopen the latest session
  liveplan exec "add a --verbose flag to cli.py"
  liveplan exec --json "summarise README.md"  one JSON event per line
  liveplan exec --base-url http://localhost:11434/v1 --model qwen2.5-coder "..."
  liveplan route --no-llm "add type hints to all files"

endpoint: OPENAI_API_KEY for OpenAI; --base-url/--model (or LIVEPLAN_BASE_URL,
LIVEPLAN_MODEL, OPENAI_BASE_URL) for any OpenAI-compatible server; with none of
these, the offline model when the [local] extra is installed (--local forces it).
config: `liveplan config init` writes a commented config.toml.
exit codes: 0 done, 1 failed, 2 bad usage or config, 3 iteration limit, 130 interrupted, 143 terminated.
"""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _endpoint_flags(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """Shared flags; on a subcommand they default to 'absent' so `liveplan --model X exec` keeps X."""
    g = p.add_argument_group("model endpoint", argument_default=argparse.SUPPRESS if sub else None)
    g.add_argument("--base-url", metavar="URL", help="OpenAI-compatible endpoint (default: OpenAI)")
    g.add_argument("--model", metavar="NAME", help="model name (env LIVEPLAN_MODEL)")
    g.add_argument("--api-key", metavar="KEY", help="key for --base-url (env LIVEPLAN_API_KEY); prefer the env var")
    g.add_argument("--max-iterations", type=_positive, metavar="N", help="model calls per turn before giving up (default 25)")
    g.add_argument("--mode", choices=MODES, help="override the task router")
    g.add_argument("--workspace", metavar="DIR", help="folder the tools work in (default: current directory)")
    g.add_argument("--profile", metavar="NAME", help="use [profiles.NAME] from the config file")
    g.add_argument("--local", action="store_const", const=True, help="use the embedded offline model (needs the [local] extra)")
    g.add_argument("--local-model", metavar="PATH", help="any GGUF file to run locally instead of the default model")
    g.add_argument("--tool-mode", choices=TOOL_MODES, help="native tool calls, or structured JSON moves for small models")
    g.add_argument("--threads", type=_positive, metavar="N", help="CPU threads for the local model (default 2)")
    g.add_argument("--context-window", type=_positive, metavar="TOKENS", help="override the model's context window")
    g.add_argument("--max-parallel", type=_positive, metavar="N", help="strict mode: steps run at once (default 1)")
    g.add_argument("--max-retries", type=int, metavar="N", help="strict mode: retries of a failed step (default 2)")
    g.add_argument(
        "--sandbox",
        choices=SANDBOXES,
        help="workspace: shell commands may write only in the workspace and temp dir (Landlock, default); off: no sandbox",
    )
    g.add_argument(
        "--approval",
        choices=APPROVALS,
        help="ask: writes and shell ask (default); auto-edit: only shell asks; never-ask: nothing asks",
    )


class Parser(argparse.ArgumentParser):
    """Usage errors are one line that points at --help, not a page of usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _session_flags(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    g = p.add_argument_group("sessions", argument_default=argparse.SUPPRESS if sub else None)
    g.add_argument("--resume", nargs="?", const=LATEST, metavar="ID", help="reopen a saved session (the latest without ID)")
    g.add_argument("--continue", dest="cont", action="store_const", const=True, help="reopen the latest session")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="liveplan",
        description="A terminal coding agent whose plan is live program state.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"liveplan {__version__}")
    _endpoint_flags(parser)
    _session_flags(parser)
    parser.set_defaults(handler=_cmd_tui)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)

    ex = sub.add_parser(
        "exec",
        help="run one task non-interactively and print the answer",
        description="Run TASK to completion without a human and print the final answer on stdout.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ex.add_argument("task", metavar="TASK", help="what to do, in plain words; - reads it from stdin")
    ex.add_argument("--json", action="store_true", help="print one JSON event per line instead of the answer")
    ex.add_argument(
        "--yes", "-y", action="store_true", help="approve every write and shell command (exec can't ask; without it they are denied)"
    )
    _endpoint_flags(ex, sub=True)
    _session_flags(ex, sub=True)
    ex.set_defaults(handler=_cmd_exec)

    ch = sub.add_parser("chat", help="open the chat; --plain for a line-mode chat (REPL)", description="Open the chat.")
    ch.add_argument("--plain", action="store_true", help="line mode: for plain terminals, screen readers and recorded demos")
    _endpoint_flags(ch, sub=True)
    _session_flags(ch, sub=True)
    ch.set_defaults(handler=_cmd_tui)

    ss = sub.add_parser("sessions", help="list recent sessions", description="List recent sessions, newest first.")
    ss.add_argument("--json", action="store_true", help="one JSON object per line")
    ss.add_argument("-n", type=_positive, default=20, metavar="N", help="how many (default 20)")
    ss.set_defaults(handler=_cmd_sessions)

    xp = sub.add_parser("export", help="write a session as a Markdown transcript", description="Write session ID as Markdown.")
    xp.add_argument("id", metavar="ID", help="a session id or its first characters (see `liveplan sessions`)")
    xp.add_argument("-o", "--output", metavar="PATH", help="file to write (default: stdout)")
    xp.set_defaults(handler=_cmd_export)

    cf = sub.add_parser("config", help="show where the config file is, what is in effect, or create one")
    cf.add_argument("action", choices=["path", "show", "init"], help="path: print the file's path; show: the settings in effect; init: write a commented file")
    cf.set_defaults(handler=_cmd_config)

    rt = sub.add_parser(
        "route",
        help="show how a message would be routed (direct, plan or plan_and_subagent)",
        description="Print the router's decision for MESSAGE: the strategy, the level that decided it, and why.",
    )
    rt.add_argument("message", metavar="MESSAGE")
    rt.add_argument("--no-llm", action="store_true", help="skip the LLM classifier (level 2)")
    rt.add_argument("--json", action="store_true", help="print the decision as one JSON object")
    _endpoint_flags(rt, sub=True)
    rt.set_defaults(handler=_cmd_route)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
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
    )


def _progress(label: str, unit: str = "s") -> Callable[[float], None]:
    """A one-line spinner on stderr, only when it is a terminal."""
    frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    state = {"n": 0}

    def tick(value: float) -> None:
        if sys.stderr.isatty():
            state["n"] += 1
            sys.stderr.write(f"\r{frames[state['n'] % len(frames)]} {label} {value:4.1f}{unit}")
            sys.stderr.flush()

    return tick


def _endpoint(settings: Settings) -> tuple[Endpoint, Any]:
    """Remote when one is configured; else the embedded model when installed; else a clear error."""
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
        prepare = _progress("preparing the local model (first run only)", "%")
        model = default_model(lambda done, total: prepare(done / max(total, 1) * 100))
    runtime = LocalRuntime(model, threads=settings.threads, ctx=settings.local_ctx)
    url = runtime.start(tick=_progress("starting the local model"))
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
    return Endpoint(base_url=url, model=model.stem, api_key=None, local=True), runtime


def _cmd_exec(args: argparse.Namespace) -> int:
    from .agent.session import Session, fixed_approver
    from .headless import run_exec

    task = _task_text(args.task)
    if not task.strip():
        raise ConfigError("exec needs a task: liveplan exec \"what to do\" (or - to read it from stdin)")
    settings = _settings(args)
    _check_workspace(settings)
    endpoint, runtime = _endpoint(settings)
    if settings.approval == "never-ask":
        print("liveplan: warning: approval is never-ask; writes and shell commands run without asking", file=sys.stderr)
    reason = "liveplan exec runs unattended without --yes, so writes and shell commands are not allowed; say what you would change instead"
    approver = fixed_approver(args.yes, reason)

    async def go() -> int:
        agent = Session(settings, endpoint, approver=approver)
        _open_session(agent, args)
        try:
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
        print(json.dumps(out))
    else:
        print(f"{decision.strategy} ({decision.level}): {decision.reason}" + (f"  [{note}]" if note else ""))
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
            print(json.dumps({"id": r.id, "updated": r.updated, "title": r.title, "plan": r.progress, "model": r.model}))
        return 0
    if not rows:
        print("no sessions yet")
        return 0
    for r in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.updated))
        print(f"{r.id}  {when}  {r.progress:<10}  {r.model[:28]:<28}  {r.title[:60]}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import export_markdown

    store = _store()
    text = export_markdown(store.load(store.resolve(args.id)))
    if args.output:
        Path(args.output).expanduser().write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    from .config import config_path, config_template, effective_config

    path = config_path()
    if args.action == "path":
        print(path)
    elif args.action == "show":
        print(effective_config(load_settings()), end="")
    else:
        if path.exists():
            raise ConfigError(f"{path} already exists; edit it, or move it aside to start again")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(config_template(), encoding="utf-8")
        print(f"wrote {path}")
    return 0


def _check_workspace(settings: Settings) -> None:
    if not settings.workspace.is_dir():
        raise ConfigError(f"workspace {settings.workspace} is not a folder: pass --workspace DIR")


def _cmd_tui(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _check_workspace(settings)
    plain = getattr(args, "plain", False) or not sys.stdout.isatty() or os.environ.get("TERM") == "dumb"
    if not plain and not sys.stdin.isatty():
        raise ConfigError("the chat needs a terminal; for scripts use: liveplan exec \"TASK\"")
    store = _store() if settings.save_sessions else None  # refuse a bad database before starting anything
    endpoint, runtime = _endpoint(settings)
    if plain:
        from .repl import run_repl

        try:
            return asyncio.run(run_repl(settings, endpoint, lambda agent: _open_session(agent, args), store))
        finally:
            if runtime is not None:
                runtime.stop()
    from .agent.session import Session
    from .ui.app import LivePlanApp

    notices = []
    if settings.approval == "never-ask":
        notices.append("Approval is never-ask: writes and shell commands run without asking.")
    if endpoint.key_withheld:
        notices.append("OPENAI_API_KEY is not sent to this endpoint; pass --api-key if it needs one.")
    def make_session(approver: Any) -> Session:
        session = Session(settings, endpoint, approver=approver)
        _open_session(session, args)
        return session

    app = LivePlanApp(make_session, keymap=settings.keymap, theme=settings.theme, notices=notices)
    try:
        app.run()
    finally:
        if runtime is not None:
            runtime.stop()
    if app.return_code == EXIT_TERMINATED:
        raise Terminated()
    return app.return_code or 0


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"liveplan: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"liveplan: error: {exc}", file=sys.stderr)
        return 1
    except ModelError as exc:
        print(f"liveplan: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("liveplan: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("liveplan: terminated (SIGTERM); stopped every command it had started", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as exc:
        if os.environ.get("LIVEPLAN_DEBUG"):
            raise
        print(
            f"liveplan: internal error: {type(exc).__name__}: {exc} (rerun with LIVEPLAN_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so every `finally` (and each command's supervisor) runs."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    parser = build_parser()
    args: Any = parser.parse_args(argv)
    return _run(args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
