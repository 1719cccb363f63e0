"""Sessions in SQLite, written as they happen, so a crash loses at most the reply in flight.

Every message, plan change, condensation and route decision is committed when
it occurs (WAL mode, one short transaction each). The record keeps every
message; the model's condensed view is stored beside it. A database written
by a newer LivePlan, or one that is corrupt, is refused and never modified.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import LivePlanError
from .plan import PlanBoard
from .store_schema import MIGRATIONS, SCHEMA_VERSION


class StoreError(LivePlanError):
    """The session database can't be used; the message says why and what to do."""


def no_session(session_id: str) -> StoreError:
    return StoreError(f"no session {session_id!r}; see `liveplan sessions`")


def write_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """Name the real cause of a failed write: a full disk, a read-only file, a lock."""
    text = str(exc).lower()
    if "full" in text:
        return StoreError(
            f"the disk is full: cannot save the session to {path}; free some space (the chat so far is kept)"
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(
            f"the session database {path} is read-only; fix its permissions or set LIVEPLAN_DATA_DIR elsewhere"
        )
    if "locked" in text or "busy" in text:
        return StoreError(
            f"the session database {path} is busy in another LivePlan; try again, or set LIVEPLAN_DATA_DIR elsewhere"
        )
    return StoreError(f"cannot write the session database {path} ({exc}); set LIVEPLAN_DATA_DIR elsewhere")


@dataclass
class SessionInfo:
    id: str
    created: float
    updated: float
    title: str
    model: str
    progress: str


@dataclass
class SavedSession:
    info: SessionInfo
    record: list[dict[str, Any]]
    context: list[dict[str, Any]] | None
    summary: str
    board: PlanBoard
    artifacts: dict[str, str]
    memory: str = ""  # the working memory, as JSON


class Store:
    def __init__(self, path: Path):
        self.path = path
        self._locks: dict[str, int] = {}
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5)
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                self.db.close()
                raise StoreError(
                    f"session database {path} was written by a newer LivePlan (schema {version} > {SCHEMA_VERSION}); "
                    "upgrade LivePlan, or point LIVEPLAN_DATA_DIR elsewhere. It was left untouched."
                )
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate(version)
        except sqlite3.OperationalError as exc:
            raise write_error(path, exc) from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"session database {path} is unreadable ({exc}); move it aside to start fresh. It was left untouched."
            ) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction: all of it is committed, or none of it.

        SQLite may already have rolled back (a full disk does that), so a failed ROLLBACK
        never hides the error that caused it.
        """
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    try:
                        self.db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise
        except sqlite3.Error as exc:
            raise write_error(self.path, exc) from None

    def _migrate(self, version: int) -> None:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction() as db:
                for statement in filter(str.strip, MIGRATIONS[target].split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {target}")

    def close(self) -> None:
        for fd in self._locks.values():
            os.close(fd)
        self._locks.clear()
        self.db.close()

    def lock(self, session_id: str) -> None:
        """Hold this session for this process: a second LivePlan continuing it gets a clear refusal."""
        if session_id in self._locks:
            return
        folder = self.path.parent / "locks"
        try:
            folder.mkdir(exist_ok=True, mode=0o700)
            fd = os.open(folder / f"{session_id}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StoreError(
                f"cannot lock session {session_id} in {folder} ({exc.strerror}); set LIVEPLAN_DATA_DIR elsewhere"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StoreError(
                f"session {session_id} is open elsewhere (another LivePlan is continuing it); "
                "finish there first, or start a new session without --continue/--resume"
            ) from None
        self._locks[session_id] = fd

    def unlock(self, session_id: str) -> None:
        fd = self._locks.pop(session_id, None)
        if fd is not None:
            os.close(fd)

    # -- writing, as it happens ------------------------------------------

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        with self._transaction() as db:
            db.execute(sql, args)

    def create_session(self, model: str, workspace: str) -> str:
        session_id = uuid.uuid4().hex[:12]
        now = time.time()
        self._write(
            "INSERT INTO sessions (id, created, updated, model, workspace) VALUES (?, ?, ?, ?, ?)",
            (session_id, now, now, model, workspace),
        )
        return session_id

    def add_message(self, session_id: str, message: dict[str, Any]) -> None:
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO messages (session_id, body, created) VALUES (?, ?, ?)",
                (session_id, json.dumps(message), now),
            )
            if message.get("role") == "user" and isinstance(message.get("content"), str):
                title = " ".join(message["content"].split())[:80]
                db.execute("UPDATE sessions SET title = ? WHERE id = ? AND title = ''", (title, session_id))
            db.execute("UPDATE sessions SET updated = ? WHERE id = ?", (now, session_id))

    def save_board(self, session_id: str, board: PlanBoard) -> None:
        self._write(
            "INSERT INTO plans (session_id, board, updated) VALUES (?, ?, ?) "
            "ON CONFLICT(session_id) DO UPDATE SET board = excluded.board, updated = excluded.updated",
            (session_id, board.model_dump_json(), time.time()),
        )

    def save_context(self, session_id: str, messages: list[dict[str, Any]], summary: str) -> None:
        """The model's condensed view; messages recorded after it are appended on resume."""
        upto = self.db.execute(
            "SELECT COALESCE(MAX(id), 0) FROM messages WHERE session_id = ?", (session_id,)
        ).fetchone()[0]
        self._write(
            "INSERT INTO context (session_id, messages, summary, upto) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(session_id) DO UPDATE "
            "SET messages = excluded.messages, summary = excluded.summary, upto = excluded.upto",
            (session_id, json.dumps(messages), summary, upto),
        )

    def add_event(self, session_id: str, kind: str, body: dict[str, Any]) -> None:
        self._write(
            "INSERT INTO events (session_id, kind, body, created) VALUES (?, ?, ?, ?)",
            (session_id, kind, json.dumps(body), time.time()),
        )

    def events(self, session_id: str, kind: str) -> list[dict[str, Any]]:
        """The bodies of this session's recorded events of `kind`, oldest first; an unreadable one is skipped."""
        rows = self.db.execute(
            "SELECT body FROM events WHERE session_id = ? AND kind = ? ORDER BY id", (session_id, kind)
        ).fetchall()
        bodies = []
        for (body,) in rows:
            try:
                value = json.loads(body)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                bodies.append(value)
        return bodies

    def save_artifact(self, session_id: str, artifact_id: str, text: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO artifacts (session_id, artifact_id, body) VALUES (?, ?, ?)",
            (session_id, artifact_id, text),
        )

    def save_memory(self, session_id: str, body: str) -> None:
        self._write(
            "INSERT INTO memory (session_id, body) VALUES (?, ?) "
            "ON CONFLICT(session_id) DO UPDATE SET body = excluded.body",
            (session_id, body),
        )

    def add_change(self, session_id: str, body: str) -> int:
        """A file checkpoint (or a rewind), kept so /undo and /rewind work after a restart too."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO changes (session_id, body, created) VALUES (?, ?, ?)", (session_id, body, time.time())
            )
        return int(cursor.lastrowid or 0)

    def mark_change(self, change_id: int, undone: bool) -> None:
        self._write("UPDATE changes SET undone = ? WHERE id = ?", (int(undone), change_id))

    # -- reading ----------------------------------------------------------

    def _info(self, row: tuple[Any, ...]) -> SessionInfo:
        session_id, created, updated, title, model = row
        board_row = self.db.execute("SELECT board FROM plans WHERE session_id = ?", (session_id,)).fetchone()
        progress = "-"
        if board_row:
            try:
                board = PlanBoard.model_validate_json(board_row[0])
            except ValueError:  # one damaged row must not hide every other session
                return SessionInfo(session_id, created, updated, title or "(untitled)", model, "damaged")
            shown = board.latest
            if not shown.is_empty:
                progress = shown.progress() + (" ✔" if board.active.is_empty else "")
        return SessionInfo(session_id, created, updated, title or "(untitled)", model, progress)

    def sessions(self, limit: int = 20) -> list[SessionInfo]:
        rows = self.db.execute(
            "SELECT id, created, updated, title, model FROM sessions ORDER BY updated DESC LIMIT ?", (limit,)
        ).fetchall()
        return [self._info(r) for r in rows]

    def resolve(self, session_id: str | None) -> str:
        """A full session id from a prefix, or the latest session when None."""
        if session_id is None:
            row = self.db.execute("SELECT id FROM sessions ORDER BY updated DESC LIMIT 1").fetchone()
            if row is None:
                raise StoreError("there are no saved sessions yet")
            return row[0]
        rows = self.db.execute("SELECT id FROM sessions WHERE id LIKE ?", (session_id + "%",)).fetchall()
        if not rows:
            raise no_session(session_id)
        if len(rows) > 1:
            raise StoreError(f"session id {session_id!r} is ambiguous; give more characters")
        return rows[0][0]

    def changes(self, session_id: str) -> list[tuple[int, str, bool]]:
        """A session's file checkpoints, (id, body, undone) oldest first: read only by undo and rewind, since
        they hold whole file contents."""
        rows = self.db.execute(
            "SELECT id, body, undone FROM changes WHERE session_id = ? ORDER BY id", (session_id,)
        ).fetchall()
        return [(cid, body, bool(undone)) for cid, body, undone in rows]

    def _session_row(self, session_id: str) -> tuple[Any, ...]:
        row = self.db.execute(
            "SELECT id, created, updated, title, model FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None:
            raise no_session(session_id)
        return tuple(row)

    def _board(self, session_id: str) -> PlanBoard:
        row = self.db.execute("SELECT board FROM plans WHERE session_id = ?", (session_id,)).fetchone()
        return PlanBoard.model_validate_json(row[0]) if row else PlanBoard()

    def stamp(self, session_id: str) -> tuple[Any, ...]:
        """What moves whenever the session does (a message, a plan change): `watch` asks this each second and reads
        the session only when it moved."""
        row = self.db.execute(
            "SELECT updated, (SELECT updated FROM plans WHERE session_id = ?), "
            "(SELECT MAX(id) FROM messages WHERE session_id = ?) FROM sessions WHERE id = ?",
            (session_id, session_id, session_id),
        ).fetchone()
        if row is None:
            raise no_session(session_id)
        return tuple(row)

    def glance(self, session_id: str, last: int) -> tuple[SessionInfo, PlanBoard, list[dict[str, Any]]]:
        """A session's info, its plan board and its last `last` chat messages (user or assistant text), read from
        the newest back: a long session costs what its tail does."""
        row = self._session_row(session_id)
        chat: list[dict[str, Any]] = []
        try:
            board = self._board(session_id)
            for (body,) in self.db.execute(
                "SELECT body FROM messages WHERE session_id = ? ORDER BY id DESC", (session_id,)
            ):
                message = json.loads(body)
                content = message.get("content")
                if message.get("role") in ("user", "assistant") and isinstance(content, str) and content.strip():
                    chat.append(message)
                    if len(chat) >= last:
                        break
        except (json.JSONDecodeError, ValueError) as exc:
            raise StoreError(f"session {session_id} is damaged ({type(exc).__name__}); it was left untouched") from None
        return self._info(row), board, chat[::-1]

    def workspace_of(self, session_id: str) -> str:
        row = self.db.execute("SELECT workspace FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row[0] if row else ""

    def load(self, session_id: str) -> SavedSession:
        row = self._session_row(session_id)
        try:
            rows = self.db.execute(
                "SELECT id, body FROM messages WHERE session_id = ? ORDER BY id", (session_id,)
            ).fetchall()
            record = [json.loads(body) for _, body in rows]
            board = self._board(session_id)
            ctx_row = self.db.execute(
                "SELECT messages, summary, upto FROM context WHERE session_id = ?", (session_id,)
            ).fetchone()
            artifacts = dict(
                self.db.execute(
                    "SELECT artifact_id, body FROM artifacts WHERE session_id = ?", (session_id,)
                ).fetchall()
            )
            memory_row = self.db.execute("SELECT body FROM memory WHERE session_id = ?", (session_id,)).fetchone()
            context = None
            if ctx_row:
                context = json.loads(ctx_row[0]) + [json.loads(body) for mid, body in rows if mid > ctx_row[2]]
        except (json.JSONDecodeError, ValueError) as exc:
            raise StoreError(f"session {session_id} is damaged ({type(exc).__name__}); it was left untouched") from None
        return SavedSession(
            self._info(row),
            record,
            context,
            ctx_row[1] if ctx_row else "",
            board,
            artifacts,
            memory_row[0] if memory_row else "",
        )


def open_store(data_dir: Path) -> Store:
    return Store(data_dir / "sessions.db")
