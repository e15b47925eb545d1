"""The audit log: every step of the half year, with when, who and from where.

One row per upload (through a link or only checked: insats, the key used, the source address, the
SHA-256 and the verdict), review change, link issued or revoked, login (and failed login),
logout, template, master and file download, account change, and kept refused file removed under
its cap (limits.py). Rows are only ever added:
`record` is the one writer (an INSERT, inside the caller's transaction where there is one, so that
an upload and its audit row are stored together), the database's triggers refuse UPDATE and
DELETE (store.py), and RAR's page reads and exports it (`rows`, `csv_bytes`, `write_xlsx`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import listbook
from .store import Store

# action → what RAR's page calls it
ACTIONS = {
    "upload": "Uppladdning genom länk",
    "check": "Kontroll utan länk (sparas inte)",
    "found_at_start": "Fil funnen i inkorgen vid start (utan rad i loggen)",
    "review": "Granskning",
    "link_issued": "Länk utfärdad",
    "link_revoked": "Länk återkallad",
    "login": "Inloggning",
    "login_failed": "Misslyckad inloggning",
    "logout": "Utloggning",
    "template": "Mall nedladdad",
    "master": "Sammanställning nedladdad",
    "board_report": "Styrelserapport nedladdad",
    "download": "Fil nedladdad",
    "utskick": "Utskickslista skriven",
    "audit_export": "Loggen exporterad",
    "user_added": "Konto skapat",
    "user_password": "Lösenord bytt",
    "user_disabled": "Konto avstängt",
    "refused_pruned": "Avvisad fil borttagen (taket för sparade avvisade filer)",
}
COLUMNS = ("at", "action", "user_name", "insats_title", "key_id", "client", "sha256", "verdict", "detail")
HEADINGS = ("Tid", "Händelse", "Användare", "Insats", "Länk nr", "Adress", "SHA-256", "Utfall", "Detaljer")
FIELDS = ("user_name", "insats", "insats_title", "key_id", "client", "sha256", "verdict", "detail")


@dataclass(frozen=True)
class Entry:
    """One row of the audit log, as shown and exported."""

    id: int
    at: dt.datetime
    action: str
    user_name: str | None
    insats: str | None
    insats_title: str | None
    key_id: int | None
    client: str | None
    sha256: str | None
    verdict: str | None
    detail: str | None

    @property
    def action_text(self) -> str:
        return ACTIONS.get(self.action, self.action)

    def cells(self) -> list[Any]:
        values = {**self.__dict__, "action": self.action_text, "at": self.at.strftime("%Y-%m-%d %H:%M:%S")}
        return [values[column] for column in COLUMNS]


def record(db: sqlite3.Connection, action: str, *, at_ns: int | None = None, **fields: Any) -> None:
    """Add one row (the only statement that writes the audit table)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown audit fields {sorted(unknown)}")
    values = [fields.get(name) for name in FIELDS]
    db.execute(
        f"INSERT INTO audit (at_ns, action, {', '.join(FIELDS)}) VALUES (?, ?, {', '.join('?' * len(FIELDS))})",
        (at_ns or time.time_ns(), action, *values),
    )


def log(store: Store, action: str, **fields: Any) -> None:
    """`record` in a connection of its own, for steps that write nothing else."""
    with store.connect() as db:
        record(db, action, **fields)


def rows(store: Store, *, insats: str | None = None, limit: int | None = None) -> list[Entry]:
    """The log, newest first; of one insats (keys.Insats.key) when given."""
    query = "SELECT * FROM audit" + (" WHERE insats = ?" if insats else "") + " ORDER BY id DESC"
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    with store.connect() as db:
        found = db.execute(query, (insats,) if insats else ()).fetchall()
    return [
        Entry(row["id"], dt.datetime.fromtimestamp(row["at_ns"] / 1e9), row["action"],
              *(row[name] for name in FIELDS))
        for row in found
    ]


def csv_bytes(entries: list[Entry]) -> bytes:
    return listbook.csv_bytes(HEADINGS, [entry.cells() for entry in entries])


def write_xlsx(entries: list[Entry], path: Path) -> Path:
    return listbook.write_xlsx(path, "Logg", HEADINGS, [entry.cells() for entry in entries],
                               (19, 26, 14, 30, 8, 15, 20, 30, 50))
