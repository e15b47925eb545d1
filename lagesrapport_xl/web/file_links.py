"""What RAR's page shows of each stored file — its first receipt's token (the file, the receipt and
the kontrollkopia are reached by it) and, for a file with errors, its issues — looked up once per
file and kept from one view of the page to the next. The name it was sent under comes with the
overview (its receipts, from the log's fold in logview.py).

A stored file's first receipt never changes (the upload log only grows), so after an upload the
page asks the log about the new file alone instead of reading every row and every receipt with
errors again (6 400 reports: 1 280 receipts, about half a second of every view; docs/performance.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .intake import Intake
from .overview import InsatsRow, Overview
from .receipt import Receipt

CHUNK = 500  # names per query: under SQLite's limit of bound parameters


class FileLinks:
    """Each stored file's token, and each file with errors its issues, filled as the page first
    needs them (thread-safe)."""

    def __init__(self, intake: Intake):
        self.intake = intake
        self.known: dict[str, str] = {}  # stored name → its first receipt's token
        self.issues: dict[str, list[Any]] = {}  # stored name → the issues of a file with errors
        self.lock = threading.Lock()

    def for_rows(self, rows: Sequence[InsatsRow], overview: Overview) -> dict[str, dict[str, Any]]:
        """stored name → {"token", "sent", "issues"} for every file the overview's `rows` show (the
        part of the page being shown, paging.py; issues only of their files with errors, as the
        page lists them inline)."""
        sent = overview.receipts.sent if overview.receipts is not None else {}
        shown = {name: name in row.coverage.rejected for row in rows
                 for name in (row.coverage.accepted, *row.coverage.superseded, *row.coverage.rejected) if name}
        with self.lock:
            self._look_up([name for name, rejected in shown.items()
                           if name not in self.known or (rejected and name not in self.issues)], shown)
            return {
                name: {"token": self.known[name], "sent": sent.get(name, name),
                       "issues": self.issues.get(name, []) if rejected else []}
                for name, rejected in shown.items()
                if name in self.known  # else not in the log (put in the inbox by hand): shown by its name alone
            }

    def _look_up(self, names: list[str], rejected: dict[str, bool]) -> None:
        """The log's tokens of `names`, and the issues on the receipts of those with errors."""
        with self.intake.store.connect() as db:
            for row in _rows(db, "token", names):
                self.known[row["stored_name"]] = row["token"]
            for row in _rows(db, "receipt", [name for name in names if rejected[name]]):
                self.issues[row["stored_name"]] = Receipt.from_json(json.loads(row["receipt"])).issues


def _rows(db: Any, column: str, names: list[str]) -> Iterator[Any]:
    """The stored files' rows of the upload log (a duplicate's row names the file it repeats)."""
    for start in range(0, len(names), CHUNK):
        part = names[start:start + CHUNK]
        yield from db.execute(f"SELECT stored_name, {column} FROM uploads WHERE duplicate_of IS NULL "
                              f"AND stored_name IN ({','.join('?' * len(part))})", part)
