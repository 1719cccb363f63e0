"""Slash commands: one registry for every front-end's completer, `/help` and palette.

Commands act on the Session only; front-ends render the returned result (and
perform `action`, like quitting), then refresh what they show from the session's
view, so the TUI and the REPL behave the same.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # imported where used: the TUI draws before pydantic and the core load
    from .agent.session import Outcome, Session
    from .events import Event
    from .plan import PlanUpdate

Action = Literal["quit", "new", "help", "compact", "resume", "export", "goal"]
DuringTurn = Literal["run", "wait", "cancel"]  # at once; after the running turn ends; cancel the turn, then run


@dataclass
class CommandResult:
    message: str = ""
    error: bool = False
    events: list[Event] = field(default_factory=list)
    action: Action | None = None
    argument: str = ""


Handler = Callable[["Session", str], Awaitable[CommandResult]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str
    handler: Handler
    during_turn: DuringTurn = "run"

    def rows(self) -> list[tuple[str, str]]:
        """(usage, help) for each form of the command, e.g. `/plan add TEXT`."""
        return list(zip(self.usage.split(" | "), self.help.split(" | "), strict=True))


REGISTRY: dict[str, Command] = {}


def command(name: str, usage: str, help: str, during_turn: DuringTurn = "run") -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        REGISTRY[name] = Command(name, usage, help, fn, during_turn)
        return fn

    return register


def during_turn(line: str) -> DuringTurn:
    """What a command line does while a turn runs: a front-end runs it, holds it until the turn ends, or cancels
    the turn first. An unknown command runs at once (to say what exists)."""
    cmd = REGISTRY.get(line.strip().removeprefix("/").partition(" ")[0])
    return cmd.during_turn if cmd is not None else "run"


def completions(prefix: str) -> list[Command]:
    """Commands whose usage starts with what was typed, e.g. '/pl' or '/plan a'."""
    text = prefix.lstrip()
    if not text.startswith("/"):
        return []
    head = text[1:].split(" ", 1)[0]
    if " " not in text:
        return [c for c in REGISTRY.values() if c.name.startswith(head)]
    return [c for c in REGISTRY.values() if c.name == head]


def usage_lines() -> list[tuple[str, str]]:
    """(usage, help) pairs, including each sub-usage, in registry order."""
    return [row for cmd in REGISTRY.values() for row in cmd.rows()]


def help_text() -> str:
    rows = usage_lines()
    width = max(len(u) for u, _ in rows)
    return "\n".join(f"{u.ljust(width)}  {h}" for u, h in rows)


async def run(session: Session, line: str) -> CommandResult:
    """Run one slash command line; unknown commands say what exists."""
    name, _, rest = line.strip().removeprefix("/").partition(" ")
    cmd = REGISTRY.get(name)
    if cmd is None:
        close = [c.name for c in REGISTRY.values() if c.name.startswith(name[:2])] or list(REGISTRY)
        return CommandResult(f"unknown command /{name}; try " + ", ".join("/" + n for n in close), error=True)
    return await cmd.handler(session, rest.strip())


@command("help", "/help", "show the commands and keys")
async def _help(session: Session, arg: str) -> CommandResult:
    return CommandResult(help_text(), action="help")


def _step_id(text: str) -> int:
    from .plan import PlanError

    try:
        return int(text)
    except ValueError:
        raise PlanError(f"expected a step number, got {text!r}") from None


def _user_update(session: Session, update: PlanUpdate) -> CommandResult:
    from .plan import PlanError

    try:
        event = session.edit_plan(update)
    except PlanError as exc:
        return CommandResult(f"plan unchanged: {exc}", error=True)
    return CommandResult(event.new.render(), events=[event])


@command(
    "plan",
    "/plan | /plan add TEXT | /plan edit N TEXT | /plan done N | /plan cancel N | /plan clear",
    "show the live plan | add a step | reword step N | mark step N completed | cancel step N | drop the plan",
)
async def _plan(session: Session, arg: str) -> CommandResult:
    from .plan import NewStep, PlanError, PlanUpdate, StepPatch, StepStatus

    sub, _, rest = arg.partition(" ")
    rest = rest.strip()
    board = session.view.board
    try:
        if not sub:
            shown = board.latest
            if shown.is_empty:
                return CommandResult("no plan yet; the agent makes one for multi-step tasks, or use /plan add TEXT")
            records = [f"step {s.id}: {s.shown_evidence}" for s in shown.steps if s.shown_evidence]
            return CommandResult("\n".join([shown.render(), *(["Evidence:", *records] if records else [])]))
        if sub == "add":
            if not rest:
                raise PlanError("usage: /plan add TEXT")
            steps = [
                NewStep(
                    description=s.description,
                    status=s.status,
                    result=s.result or None,
                    depends_on=list(s.depends_on) or None,
                )
                for s in board.active.steps
            ]
            return _user_update(session, PlanUpdate(steps=[*steps, NewStep(description=rest)]))
        if sub == "edit":
            number, _, text = rest.partition(" ")
            return _user_update(session, PlanUpdate(updates=[StepPatch(id=_step_id(number), description=text)]))
        if sub in ("done", "cancel"):
            status = StepStatus.COMPLETED if sub == "done" else StepStatus.CANCELLED
            return _user_update(session, PlanUpdate(updates=[StepPatch(id=_step_id(rest), status=status)]))
        if sub == "clear":
            return CommandResult("plan cleared", events=[session.clear_plan()])
    except PlanError as exc:
        return CommandResult(f"plan unchanged: {exc}", error=True)
    return CommandResult(f"unknown /plan subcommand {sub!r}; use add, edit, done, cancel or clear", error=True)


@command("work", "/work", "show the working memory: files read and changed, last commands, last failure")
async def _work(session: Session, arg: str) -> CommandResult:
    return CommandResult(session.view.work or "nothing done yet: no file read or changed, no command run")


def _rewound(run: Callable[[], tuple[Outcome, Event | None]]) -> CommandResult:
    from .agent.session import RewindError
    from .errors import SessionBusy

    try:
        outcome, event = run()
    except (RewindError, SessionBusy) as exc:
        return CommandResult(str(exc), error=True)
    if not outcome.done:
        return CommandResult("\n\n".join([outcome.message, *outcome.lost]), error=True)
    return CommandResult(outcome.message, events=[event] if event is not None else [])


@command("undo", "/undo [force]", "revert the last file change a tool made (or the last rewind)", during_turn="wait")
async def _undo(session: Session, arg: str) -> CommandResult:
    if arg not in ("", "force"):
        return CommandResult("usage: /undo, or /undo force to overwrite edits made since", error=True)
    return _rewound(lambda: session.undo(force=arg == "force"))


@command(
    "rewind",
    "/rewind N [force]",
    "put back every file changed since step N started and reopen steps N onward (shell changes are not tracked)",
    during_turn="wait",
)
async def _rewind(session: Session, arg: str) -> CommandResult:
    number, _, rest = arg.partition(" ")
    if not number.isdigit() or rest.strip() not in ("", "force"):
        return CommandResult("usage: /rewind N (a step number), or /rewind N force", error=True)
    return _rewound(lambda: session.rewind(int(number), force=rest.strip() == "force"))


@command(
    "init", "/init", "write a starter AGENTS.md for this workspace (asks first, like any write)", during_turn="wait"
)
async def _init(session: Session, arg: str) -> CommandResult:
    from .instructions import FILENAME, starter

    root = session.ctx.workspace.root
    if os.path.lexists(root / FILENAME):  # a link there (even a dangling one) is not ours to replace
        return CommandResult(f"{FILENAME} already exists in {root}; edit it, and LivePlan reads it", error=True)
    result = await session.call_tool("write_file", {"path": FILENAME, "content": starter(root)})
    if result.is_error:
        return CommandResult(f"{FILENAME} not written: {result.text.removeprefix('error: ')}", error=True)
    session.reload_instructions()
    return CommandResult(f"wrote {FILENAME}; it is in the prompt from the next message. Edit it to fit the project.")


@command("mode", "/mode auto|direct|plan|strict", "pick how tasks run (auto lets the router decide)")
async def _mode(session: Session, arg: str) -> CommandResult:
    from .choices import MODES

    if arg not in MODES:
        return CommandResult(f"mode is {session.view.mode}; choose one of: {', '.join(MODES)}", error=bool(arg))
    session.set_mode(arg)  # type: ignore[arg-type]
    return CommandResult(f"mode set to {arg}")


@command("model", "/model NAME", "switch the model for the next request")
async def _model(session: Session, arg: str) -> CommandResult:
    if not arg:
        return CommandResult(f"model is {session.view.model}; use /model NAME to switch")
    session.set_model(arg)
    return CommandResult(f"model set to {arg}")


@command("compact", "/compact [FOCUS]", "condense older messages now (the plan is kept whole)", during_turn="wait")
async def _compact(session: Session, arg: str) -> CommandResult:
    event = await session.compact(arg)
    if event is None:
        return CommandResult("nothing to condense yet")
    return CommandResult(events=[event])


@command("resume", "/resume [ID]", "reopen a saved session (the previous one without ID)", during_turn="wait")
async def _resume(session: Session, arg: str) -> CommandResult:
    from .errors import SessionBusy
    from .store import StoreError

    try:
        saved = session.resume(arg or None)
    except (StoreError, SessionBusy) as exc:
        return CommandResult(str(exc), error=True)
    return CommandResult(f"resumed session {saved.info.id}: {saved.info.title}", action="resume")


@command("export", "/export [PATH]", "write this session as a Markdown transcript")
async def _export(session: Session, arg: str) -> CommandResult:
    from .store import StoreError

    try:
        path = session.export(arg)
    except (OSError, StoreError) as exc:
        return CommandResult(f"export failed: {exc}", error=True)
    return CommandResult(f"exported to {path}", action="export", argument=str(path))


@command(
    "goal",
    "/goal TEXT [--until CMD] | /goal | /goal stop",
    "work turn after turn until TEXT is met (CMD exits 0, or a verifier agrees) | show the goal | stop it",
)
async def _goal(session: Session, arg: str) -> CommandResult:
    if arg and arg != "stop" and not arg.partition("--until")[0].strip():
        return CommandResult("usage: /goal TEXT [--until CMD]", error=True)
    return CommandResult(action="goal", argument=arg)


def goal_parts(arg: str) -> tuple[str, str]:
    """(goal, until) from `/goal TEXT --until CMD`."""
    text, _, until = arg.partition("--until")
    return text.strip(), until.strip()


@command("new", "/new", "start a new conversation (clears chat and plan)", during_turn="cancel")
async def _new(session: Session, arg: str) -> CommandResult:
    session.reset()
    return CommandResult("new conversation", action="new")


@command("quit", "/quit", "leave LivePlan")
async def _quit(session: Session, arg: str) -> CommandResult:
    return CommandResult(action="quit")
