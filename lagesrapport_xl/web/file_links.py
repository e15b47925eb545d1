"""What RAR's page shows of each stored file — its first receipt's token (the file, the receipt and
the kontrollkopia are reached by it), the name it was sent under and, for a file with errors, its
issues — looked up once per file and kept from one view of the page to the next.

A stored file's first receipt never changes (the upload log only grows), so after an upload the
page asks the log about the new file alone instead of reading every row and every receipt with
errors again (6 400 reports: 1 280 receipts, about half a second of every view; docs/performance.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..consolidate.statuses import Coverage
from .intake import Intake
from .receipt import Receipt

CHUNK = 500  # names per query: under SQLite's limit of bound parameters


@dataclass(frozen=True)
class FileLink:
    token: str
    sent: str


class FileLinks:
    """Each stored file's FileLink, filled as the page first needs it (thread-safe)."""

    def __init__(self, intake: Intake):
        self.intake = intake
        self.known: dict[str, FileLink] = {}
        self.issues: dict[str, list[Any]] = {}  # stored name → the issues of a file with errors
        self.lock = threading.Lock()

    def for_page(self, rows: Iterable[Coverage]) -> dict[str, dict[str, Any]]:
        """stored name → {"token", "sent", "issues"} for every file the rows show (issues only of
        their files with errors, as the page lists them inline)."""
        shown = {name: name in c.rejected for c in rows for name in (c.accepted, *c.superseded, *c.rejected) if name}
        with self.lock:
            self._look_up([name for name in shown if name not in self.known or (shown[name] and name not in self.issues)],
                          shown)
            files = {}
            for name, rejected in shown.items():
                link = self.known.get(name)
                if link is None:  # not in the log (put in the inbox by hand): the page shows its name alone
                    continue
                files[name] = {"token": link.token, "sent": link.sent, "issues": self.issues.get(name, []) if rejected else []}
        return files

    def _look_up(self, names: list[str], rejected: dict[str, bool]) -> None:
        """The log's rows of `names`, and the issues on the receipts of those with errors."""
        with self.intake.store.connect() as db:
            for row in _rows(db, "token, file_name", names):
                name = row["stored_name"]
                self.known[name] = FileLink(row["token"], row["file_name"] or name)
            for row in _rows(db, "receipt", [name for name in names if rejected[name]]):
                self.issues[row["stored_name"]] = Receipt.from_json(json.loads(row["receipt"])).issues


def _rows(db: Any, columns: str, names: list[str]) -> Iterator[Any]:
    """The stored files' rows of the upload log (a duplicate's row names the file it repeats)."""
    for start in range(0, len(names), CHUNK):
        part = names[start:start + CHUNK]
        yield from db.execute(f"SELECT stored_name, {columns} FROM uploads WHERE duplicate_of IS NULL "
                              f"AND stored_name IN ({','.join('?' * len(part))})", part)
