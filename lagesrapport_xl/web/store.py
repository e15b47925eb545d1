"""The server's SQLite database: uploads (the submission log), the insatser's link keys, staff
accounts and their sessions, RAR's reviews and the audit log.

A new connection per unit of work (uploads are handled in a thread pool, and a connection must
not be shared between threads); `writing()` takes SQLite's write lock at once (BEGIN IMMEDIATE),
so that "are these bytes already stored?" and storing them happen as one step, also between
processes. Only short steps write; a reading of the whole log (RAR's page, the master) is a
`reading()` snapshot, which never holds the write lock. The database lives in the server's state folder, never in the inbox.

The audit log and the review history are append-only: triggers refuse every UPDATE and DELETE on
them (tests/test_web_audit.py also checks that no such statement exists in the package). A
database from before the links gets its new columns on first use (`_migrate`); its sessions,
which belonged to no named user, end. Login attempts and upload slots (limits.py) are the only
rows removed as they age: they count, they record nothing (the audit log does).
"""

from __future__ import annotations

import os
import sqlite3
import threading
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
    receipt TEXT NOT NULL,               -- intake.Receipt as JSON: what the answer page shows
    mode TEXT,                           -- 'link': sent through an insats' link; 'check': only checked
                                         -- (stores nothing); 'found': in the inbox without a row at a
                                         -- start (recovery.py); NULL: stored before links existed
    insats TEXT,                         -- the link's insats (keys.Insats.key)
    key_id INTEGER                       -- the link key it came with (insats_keys.id)
);
-- The same bytes are stored once: the row that stored them is the only one without duplicate_of.
CREATE UNIQUE INDEX IF NOT EXISTS stored_once ON uploads(sha256)
    WHERE stored_name IS NOT NULL AND duplicate_of IS NULL;
CREATE INDEX IF NOT EXISTS by_time ON uploads(received_ns);  -- the latest receipt time, per upload
CREATE INDEX IF NOT EXISTS by_sha ON uploads(sha256);  -- an upload's earlier receipts, whatever the inbox's size
CREATE INDEX IF NOT EXISTS by_insats ON uploads(insats);  -- an insats' uploads (supersession.py, its page)
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY,       -- HMAC-SHA-256 of the cookie under the server's secret (auth.py):
                                         -- the database never holds a usable token
    expires REAL NOT NULL,
    user_name TEXT,                      -- whose session (accounts.py); a session without one is void
    role TEXT,
    credential TEXT                      -- a fingerprint of the password hash it logged in with
);
CREATE TABLE IF NOT EXISTS login_attempts (  -- counted before the password is checked (limits.LoginGuard)
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,                    -- seconds since the epoch
    account TEXT NOT NULL,               -- the name typed, stripped and case-folded
    client TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_by_account ON login_attempts(account, at);
CREATE INDEX IF NOT EXISTS attempts_by_client ON login_attempts(client, at);
CREATE TABLE IF NOT EXISTS upload_slots (    -- each upload let through, for the limits (limits.UploadGuard)
    at REAL NOT NULL,
    client TEXT NOT NULL,
    key_id INTEGER,                      -- the link key it came with (NULL: a check or a wrong key)
    bytes INTEGER NOT NULL               -- the request's size (its Content-Length)
);
CREATE INDEX IF NOT EXISTS slots_by_client ON upload_slots(client, at);
CREATE INDEX IF NOT EXISTS slots_by_key ON upload_slots(key_id, at);
CREATE TABLE IF NOT EXISTS insats_keys (
    id INTEGER PRIMARY KEY,
    insats TEXT NOT NULL,                -- keys.Insats.key: 'dnr:2020-0042' or 'namn:nyttiga affärer'
    case_number TEXT,
    initiative_name TEXT,
    key_sha256 TEXT NOT NULL UNIQUE,     -- the link's secret is never stored, only its hash
    issued_ns INTEGER NOT NULL,
    issued_by TEXT NOT NULL,
    revoked_ns INTEGER,
    revoked_by TEXT
);
CREATE INDEX IF NOT EXISTS keys_by_insats ON insats_keys(insats);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('kansli', 'ekonomi')),
    password_hash TEXT NOT NULL,         -- auth.hash_password: scrypt, never the password
    disabled INTEGER NOT NULL DEFAULT 0,
    created_ns INTEGER NOT NULL,
    changed_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reviews (     -- RAR's review of a received report: one row per change
    id INTEGER PRIMARY KEY,
    at_ns INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,                -- the reviewed version (its bytes)
    stored_name TEXT NOT NULL,
    insats TEXT,
    report_number INTEGER,
    state TEXT NOT NULL,                 -- consolidate.receipts.Review's value
    comment TEXT NOT NULL DEFAULT '',
    cells TEXT NOT NULL DEFAULT '[]'     -- the questions the comment points at, as JSON
);
CREATE INDEX IF NOT EXISTS reviews_by_sha ON reviews(sha256);
CREATE TABLE IF NOT EXISTS audit (       -- append-only: see the triggers below
    id INTEGER PRIMARY KEY,
    at_ns INTEGER NOT NULL,
    action TEXT NOT NULL,                -- audit.ACTIONS
    user_name TEXT,                      -- a staff account; NULL for a coordinator or a stranger
    insats TEXT,
    insats_title TEXT,
    key_id INTEGER,
    client TEXT,
    sha256 TEXT,
    verdict TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_insats ON audit(insats);
"""

APPEND_ONLY = ("audit", "reviews")
TRIGGERS = "".join(
    f"""
CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"""
    for table in APPEND_ONLY for verb in ("UPDATE", "DELETE")
)
ADDED_COLUMNS = {  # columns a database from an earlier version lacks
    "uploads": {"mode": "TEXT", "insats": "TEXT", "key_id": "INTEGER"},
    "sessions": {"user_name": "TEXT", "role": "TEXT", "credential": "TEXT"},
}


class Store:
    """The database file; created with its tables on first use."""

    def __init__(self, path: str | Path, timeout: float = 60):
        self.path = Path(path)
        self.timeout = timeout  # how long a writer waits for another's write lock (every write is short)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            _migrate(connection)
            connection.executescript(SCHEMA + TRIGGERS)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading or for single statements (autocommit)."""
        connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every statement in it sees the log as it was at its first, and no
        writer waits for it (WAL). What RAR's page and the master are built from."""
        with self.connect() as connection:
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                connection.execute("COMMIT")

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding the write lock from its first statement; rolled back on error.

        The server's own writers take turns at a lock of the process first: SQLite's busy handler
        lets waiting writers sleep and retry, and under load an unlucky one lost again and again
        (issue 21's load test: uploads waited up to 25 s). SQLite's lock still guards against other
        processes."""
        turn = _writer_turn(self.path)
        if not turn.acquire(timeout=self.timeout):
            busy = sqlite3.OperationalError("database is locked (the server's other writers)")
            busy.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
            raise busy
        try:
            with self.connect() as connection:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    yield connection
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
        finally:
            turn.release()


_TURNS: dict[str, threading.Lock] = {}
_TURNS_LOCK = threading.Lock()


def _writer_turn(path: Path) -> threading.Lock:
    """The process's lock for writing this database (one per file, whichever Store opened it)."""
    with _TURNS_LOCK:
        return _TURNS.setdefault(os.path.realpath(path), threading.Lock())


def _migrate(connection: sqlite3.Connection) -> None:
    """Add the columns an earlier version's tables lack; end the sessions of no named user."""
    for table, columns in ADDED_COLUMNS.items():
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if not present:
            continue  # a new database: SCHEMA makes the table whole
        for column, kind in columns.items():
            if column not in present:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    if {row[1] for row in connection.execute("PRAGMA table_info(sessions)")}:
        connection.execute("DELETE FROM sessions WHERE user_name IS NULL")

