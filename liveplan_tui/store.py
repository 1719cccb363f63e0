"""Sessions in SQLite, written as they happen, so a crash loses at most the reply in flight.

Every message, plan change, condensation and route decision is committed when
it occurs (WAL mode, one short transaction each). The record keeps every
message; the model's condensed view is stored beside it. A database written
by a newer LivePlan, or one that is corrupt, is refused and never modified.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .plan import PlanBoard

SCHEMA_VERSION = 1
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY, created REAL NOT NULL, updated REAL NOT NULL,
        title TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '', workspace TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
        body TEXT NOT NULL, created REAL NOT NULL
    );
    CREATE INDEX messages_by_session ON messages(session_id, id);
    CREATE TABLE plans (
        session_id TEXT PRIMARY KEY REFERENCES sessions(id), board TEXT NOT NULL, updated REAL NOT NULL
    );
    CREATE TABLE context (
        session_id TEXT PRIMARY KEY REFERENCES sessions(id), messages TEXT NOT NULL, summary TEXT NOT NULL,
        upto INTEGER NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
        kind TEXT NOT NULL, body TEXT NOT NULL, created REAL NOT NULL
    );
    CREATE TABLE artifacts (
        session_id TEXT NOT NULL REFERENCES sessions(id), artifact_id TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (session_id, artifact_id)
    );
    """,
}


class StoreError(Exception):
    """The session database can't be used; the message says why and what to do."""


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


class Store:
    def __init__(self, path: Path):
        self.path = path
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
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"session database {path} is unreadable ({exc}); move it aside to start fresh. It was left untouched."
            ) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction: all of it is committed, or none of it."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _migrate(self, version: int) -> None:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction() as db:
                for statement in filter(str.strip, MIGRATIONS[target].split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {target}")

    def close(self) -> None:
        self.db.close()

    # -- writing, as it happens ------------------------------------------

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        with self._transaction() as db:
            db.execute(sql, args)

    def create_session(self, model: str, workspace: str) -> str:
        session_id = uuid.uuid4().hex[:12]
        now = time.time()
        self._write("INSERT INTO sessions (id, created, updated, model, workspace) VALUES (?, ?, ?, ?, ?)", (session_id, now, now, model, workspace))
        return session_id

    def add_message(self, session_id: str, message: dict[str, Any]) -> None:
        now = time.time()
        with self._transaction() as db:
            db.execute("INSERT INTO messages (session_id, body, created) VALUES (?, ?, ?)", (session_id, json.dumps(message), now))
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
        upto = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM messages WHERE session_id = ?", (session_id,)).fetchone()[0]
        self._write(
            "INSERT INTO context (session_id, messages, summary, upto) VALUES (?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE "
            "SET messages = excluded.messages, summary = excluded.summary, upto = excluded.upto",
            (session_id, json.dumps(messages), summary, upto),
        )

    def add_event(self, session_id: str, kind: str, body: dict[str, Any]) -> None:
        self._write("INSERT INTO events (session_id, kind, body, created) VALUES (?, ?, ?, ?)", (session_id, kind, json.dumps(body), time.time()))

    def save_artifact(self, session_id: str, artifact_id: str, text: str) -> None:
        self._write("INSERT OR REPLACE INTO artifacts (session_id, artifact_id, body) VALUES (?, ?, ?)", (session_id, artifact_id, text))

    # -- reading ----------------------------------------------------------

    def _info(self, row: tuple[Any, ...]) -> SessionInfo:
        session_id, created, updated, title, model = row
        board_row = self.db.execute("SELECT board FROM plans WHERE session_id = ?", (session_id,)).fetchone()
        progress = "-"
        if board_row:
            board = PlanBoard.model_validate_json(board_row[0])
            shown = board.latest
            if not shown.is_empty:
                progress = shown.progress() + (" ✔" if board.active.is_empty else "")
        return SessionInfo(session_id, created, updated, title or "(untitled)", model, progress)

    def sessions(self, limit: int = 20) -> list[SessionInfo]:
        rows = self.db.execute("SELECT id, created, updated, title, model FROM sessions ORDER BY updated DESC LIMIT ?", (limit,)).fetchall()
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
            raise StoreError(f"no session {session_id!r}; see `liveplan sessions`")
        if len(rows) > 1:
            raise StoreError(f"session id {session_id!r} is ambiguous; give more characters")
        return rows[0][0]

    def load(self, session_id: str) -> SavedSession:
        row = self.db.execute("SELECT id, created, updated, title, model FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise StoreError(f"no session {session_id!r}; see `liveplan sessions`")
        try:
            rows = self.db.execute("SELECT id, body FROM messages WHERE session_id = ? ORDER BY id", (session_id,)).fetchall()
            record = [json.loads(body) for _, body in rows]
            board_row = self.db.execute("SELECT board FROM plans WHERE session_id = ?", (session_id,)).fetchone()
            board = PlanBoard.model_validate_json(board_row[0]) if board_row else PlanBoard()
            ctx_row = self.db.execute("SELECT messages, summary, upto FROM context WHERE session_id = ?", (session_id,)).fetchone()
            artifacts = dict(self.db.execute("SELECT artifact_id, body FROM artifacts WHERE session_id = ?", (session_id,)).fetchall())
            context = None
            if ctx_row:
                context = json.loads(ctx_row[0]) + [json.loads(body) for mid, body in rows if mid > ctx_row[2]]
        except (json.JSONDecodeError, ValueError) as exc:
            raise StoreError(f"session {session_id} is damaged ({type(exc).__name__}); it was left untouched") from None
        return SavedSession(self._info(row), record, context, ctx_row[1] if ctx_row else "", board, artifacts)


def open_store(data_dir: Path) -> Store:
    return Store(data_dir / "sessions.db")
