"""The session database's shape, version by version: `Store` applies the migrations a database has not seen, in
one transaction each, and refuses a database from a newer schema."""

from __future__ import annotations

SCHEMA_VERSION = 2
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
    2: """
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
        body TEXT NOT NULL, undone INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL
    );
    CREATE INDEX changes_by_session ON changes(session_id, id);
    CREATE TABLE memory (
        session_id TEXT PRIMARY KEY REFERENCES sessions(id), body TEXT NOT NULL
    );
    """,
}
