"""The server's SQLite database: one row per upload (the submission log) and RAR's sessions.

A new connection per unit of work (uploads are handled in a thread pool, and a connection must
not be shared between threads); `writing()` takes SQLite's write lock at once (BEGIN IMMEDIATE),
so that "are these bytes already stored?" and storing them happen as one step, also between
processes. The database lives in the server's state folder, never in the inbox.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    id INTEGER PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,          -- the receipt's unguessable address
    received_ns INTEGER NOT NULL,        -- receipt time, ns since the epoch (the stored file's mtime)
    file_name TEXT NOT NULL,             -- the name the browser sent (shortened)
    size INTEGER,
    sha256 TEXT,
    outcome TEXT NOT NULL,               -- intake.Outcome
    code TEXT,                           -- why it was refused (safety's code, too_large, no_file …)
    stored_name TEXT,                    -- its file in the inbox (for a duplicate: the existing one)
    duplicate_of INTEGER REFERENCES uploads(id),
    case_number TEXT,
    initiative_name TEXT,
    report_number INTEGER,
    signed_date TEXT,                    -- ISO date, for the supersede rule
    client TEXT,
    receipt TEXT NOT NULL                -- intake.Receipt as JSON: what the answer page shows
);
-- The same bytes are stored once: the row that stored them is the only one without duplicate_of.
CREATE UNIQUE INDEX IF NOT EXISTS stored_once ON uploads(sha256)
    WHERE stored_name IS NOT NULL AND duplicate_of IS NULL;
CREATE INDEX IF NOT EXISTS by_time ON uploads(received_ns);  -- the latest receipt time, per upload
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY,       -- the cookie's hash: the database never holds a usable token
    expires REAL NOT NULL
);
"""


class Store:
    """The database file; created with its tables on first use."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            connection.executescript(SCHEMA)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading or for single statements (autocommit)."""
        connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding the write lock from its first statement; rolled back on error."""
        with self.connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
