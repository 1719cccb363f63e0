"""Checkpoints of every file a tool changes, and the undo and rewind built on them.

Each change records the bytes before and after, and the plan step in progress
at that moment, so `/rewind N` can put back every file changed since step N
started and `/undo` can revert the last change (a rewind included). A file
changed since by someone else (the user, a shell command) is never overwritten
silently: the operation stops and shows what would be lost, unless forced.
Shell commands are not tracked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from .. import confined
from ..errors import LivePlanError
from ..events import PlanUpdated
from ..memory import WorkMemory
from ..plan import PlanBoard
from ..plan.keeper import PlanKeeper
from ..store import Store

SHELL_NOTE = "Changes made by shell commands are not tracked and were not undone."
UNSAFE = {"link": "a link", "folder": "a folder", "other": "not a regular file", "outside": "reached through a link"}


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the workspace
    before: bytes | None  # None: the file did not exist
    after: bytes | None


@dataclass(frozen=True)
class Change:
    kind: Literal["tool", "rewind"]
    files: tuple[FileChange, ...]
    step: int | None = None  # the step in progress when a tool made it
    goal: str = ""  # the plan it belongs to
    board: str = ""  # a rewind's board before it, as JSON, so undo restores the plan too
    reverted: tuple[int, ...] = ()  # the tool changes a rewind reverted
    undone: bool = False
    id: int = 0


@dataclass
class Outcome:
    """What an undo or rewind did, or why it stopped; `lost` shows what forcing it would overwrite."""

    done: bool
    message: str
    lost: list[str] = field(default_factory=list)
    board: PlanBoard | None = None  # the plan to put back, when it changes


class RewindError(LivePlanError):
    """Nothing to undo, or no such step; one line for the user."""


def _text(data: bytes | None) -> list[str]:
    return [] if data is None else data.decode("utf-8", errors="replace").splitlines(keepends=True)


def loss(path: str, expected: bytes | None, actual: bytes | None) -> str:
    """The edits someone made after LivePlan's change, as the diff forcing would throw away."""
    import difflib

    diff = difflib.unified_diff(_text(expected), _text(actual), f"{path} (as LivePlan left it)", f"{path} (now)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff).rstrip("\n")


class ChangeLog:
    """The session's changes, oldest first; `persist` writes each new one, `mark` its undone flag."""

    def __init__(
        self,
        root: Path,
        changes: list[Change] | None = None,
        persist: Callable[[Change], int] | None = None,
        mark: Callable[[int, bool], None] | None = None,
    ):
        self.root = root.resolve()
        self.changes = list(changes or [])
        self.persist = persist
        self.mark = mark

    def add(self, change: Change) -> Change:
        if self.persist is not None:
            change = replace(change, id=self.persist(change))
        else:
            change = replace(change, id=len(self.changes) + 1)
        self.changes.append(change)
        return change

    def _set_undone(self, change_id: int, undone: bool) -> None:
        self.changes = [replace(c, undone=undone) if c.id == change_id else c for c in self.changes]
        if self.mark is not None:
            self.mark(change_id, undone)

    def _read(self, rel: str) -> bytes | None:
        return confined.read_bytes(self.root, rel) if confined.kind(self.root, rel) == "file" else None

    def _write(self, rel: str, data: bytes | None) -> None:
        if data is None:
            confined.remove(self.root, rel)
        else:
            confined.write_bytes(self.root, rel, data)

    def _refused(self, targets: dict[str, tuple[bytes | None, bytes | None]]) -> Outcome | None:
        """Only regular files inside the workspace are restored: where a link, a folder or a path through a link
        now stands (planted by a command, say), the whole operation stops, even forced, and names each file."""
        unsafe = {rel: confined.kind(self.root, rel) for rel in targets}
        named = [f"{rel} (now {UNSAFE[k]})" for rel, k in sorted(unsafe.items()) if k in UNSAFE]
        if not named:
            return None
        return Outcome(
            False,
            "refused: these files are no longer plain files in the workspace, so nothing was "
            "restored (not even with force): " + "; ".join(named),
        )

    def _restore(
        self, targets: dict[str, tuple[bytes | None, bytes | None]], force: bool
    ) -> tuple[list[str], tuple[FileChange, ...]]:
        """Put each file back to its first value if it still holds the second; else (the losses, nothing)."""
        current = {rel: self._read(rel) for rel in targets}
        lost = [loss(rel, expected, current[rel]) for rel, (_, expected) in targets.items() if current[rel] != expected]
        if lost and not force:
            return lost, ()
        for rel, (wanted, _) in targets.items():
            self._write(rel, wanted)
        return [], tuple(FileChange(rel, current[rel], wanted) for rel, (wanted, _) in targets.items())

    def undo(self, board: PlanBoard, force: bool = False) -> Outcome:
        live = [c for c in self.changes if not c.undone]
        if not live:
            raise RewindError("nothing to undo: no file was changed by a tool in this session")
        last = live[-1]
        targets = {f.path: (f.before, f.after) for f in reversed(last.files)}
        if refused := self._refused(targets):
            return refused
        lost, _ = self._restore(targets, force)
        if lost:
            return Outcome(False, _stopped("undo", "/undo force"), lost=lost)
        self._set_undone(last.id, True)
        for reverted in last.reverted:
            self._set_undone(reverted, False)
        names = ", ".join(sorted(targets)) or "no files"
        plan = PlanBoard.model_validate_json(last.board) if last.board else None
        what = "the rewind" if last.kind == "rewind" else "the last change"
        return Outcome(True, f"undid {what}: {names}" + (" (and the plan)" if plan else ""), board=plan)

    def rewind(self, board: PlanBoard, step: int, force: bool = False) -> Outcome:
        plan = board.latest
        if plan.step(step) is None:
            raise RewindError(
                f"there is no step {step} in the plan" + (f" (it has 1-{plan.total})" if plan.total else "")
            )
        ours = [c for c in self.changes if c.kind == "tool" and not c.undone and c.goal == plan.goal]
        start = next((i for i, c in enumerate(ours) if c.step is not None and c.step >= step), len(ours))
        since = ours[start:]
        targets: dict[str, tuple[bytes | None, bytes | None]] = {}
        for change in since:
            for f in change.files:
                first = targets.get(f.path, (f.before, f.after))[0]
                targets[f.path] = (first, f.after)
        if refused := self._refused(targets):
            return refused
        lost, files = self._restore(targets, force)
        if lost:
            return Outcome(False, _stopped("rewind", f"/rewind {step} force"), lost=lost)
        reverted = tuple(c.id for c in since)
        self.add(Change("rewind", files, step=step, goal=plan.goal, board=board.model_dump_json(), reverted=reverted))
        for change in since:
            self._set_undone(change.id, True)
        names = ", ".join(sorted(targets)) or "no files (none was changed by a tool since then)"
        message = f"rewound to step {step}: restored {names}; steps {step}-{plan.total} are pending again. {SHELL_NOTE}"
        return Outcome(True, message, board=board.reopened(step))


def _stopped(what: str, force: str) -> str:
    return (
        f"{what} stopped: files were changed after LivePlan's change, and {what} would lose those edits "
        f"(shown below). Keep them, or run {force} to overwrite them."
    )


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def change_to_json(change: Change) -> str:
    """A change as stored: file contents in base64, so any bytes survive."""
    body = asdict(change)
    body["files"] = [{"path": f.path, "before": _b64(f.before), "after": _b64(f.after)} for f in change.files]
    body.pop("id")
    body.pop("undone")
    return json.dumps(body)


def change_from_json(change_id: int, body: str, undone: bool) -> Change:
    data = json.loads(body)
    files = tuple(FileChange(f["path"], _unb64(f["before"]), _unb64(f["after"])) for f in data.pop("files"))
    data["reverted"] = tuple(data.get("reverted", ()))
    return Change(files=files, id=change_id, undone=undone, **data)


def log_from_rows(root: Path, rows: list[tuple[int, str, bool]]) -> ChangeLog:
    """A saved session's changes; a damaged row is skipped, so the rest still undo."""
    changes = []
    for row in rows:
        try:
            changes.append(change_from_json(*row))
        except (ValueError, KeyError, TypeError):
            continue
    return ChangeLog(root, changes)


def rewind_saved(store: Store, session_id: str, step: int, force: bool = False) -> Outcome:
    """`liveplan rewind`: the same rewind on a saved session, without a model; the next turn is told."""
    saved = store.load(session_id)
    log = log_from_rows(Path(store.workspace_of(session_id) or "."), store.changes(session_id))
    log.persist = lambda change: store.add_change(session_id, change_to_json(change))
    log.mark = store.mark_change
    outcome = log.rewind(saved.board, step, force)
    if outcome.done and outcome.board is not None:
        store.save_board(session_id, outcome.board)
        try:
            memory = WorkMemory.model_validate_json(saved.memory) if saved.memory else WorkMemory()
        except ValueError:
            memory = WorkMemory()
        told = memory.tell(f"The user ran `liveplan rewind {step}`: {outcome.message}")
        store.save_memory(session_id, told.model_dump_json())
    return outcome


def tool_change(board: PlanBoard, path: str, before: bytes | None, after: bytes | None) -> Change:
    """A tool's change to one file, tagged with the step in progress and the plan it belongs to."""
    step = board.active.current.id if board.active.current is not None else None
    return Change("tool", (FileChange(path, before, after),), step=step, goal=board.latest.goal)


def settle(outcome: Outcome, keeper: PlanKeeper, tell: Callable[[str], None]) -> tuple[Outcome, PlanUpdated | None]:
    """After an undo or rewind: the model is told on its next call, and the plan goes back when it changed."""
    if not outcome.done:
        return outcome, None
    tell(f"The user ran /undo or /rewind: {outcome.message}")
    if outcome.board is None:
        return outcome, None
    return outcome, keeper.restore(outcome.board, why=outcome.message)
