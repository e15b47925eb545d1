"""A link per insats: the secret keys that let an insats submit for itself, and nothing else.

RAR issues each insats of its register a random key (192 bits from `secrets`); the link
`/insats/<key>` opens the insats' own page and the key authorises its uploads (also as
`Authorization: Bearer <key>` to the API). Only the key's SHA-256 is stored: a copy of the
database opens no insats' page. A key is revoked by RAR, and issuing a new one revokes the old.

An insats is who the consolidation says a file is from (coverage.identity): its case number when
the register gives one, else its name, case and spaces ignored. An upload through a link counts
only when the file is that insats' report (`Insats.owns`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from ..consolidate.coverage import identity
from . import audit
from .store import Store

KEY_BYTES = 24  # 192 bits
_KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")


@dataclass(frozen=True)
class Insats:
    """An insats as a link knows it: its identity key, what the register calls it, and the key row
    (None for an insats not reached through a link)."""

    key: str  # 'dnr:2020-0042' or 'namn:nyttiga affärer'
    case_number: str | None
    initiative_name: str | None
    key_id: int | None = None

    @property
    def title(self) -> str:
        return " ".join(part for part in (self.case_number, self.initiative_name) if part) or self.key

    @classmethod
    def of(cls, values: dict[str, Any], key_id: int | None = None) -> Insats | None:
        """The insats of a register row's prefill or a file's answers; None when it names none."""
        found = identity(values)
        if found.case_number:
            key = f"dnr:{found.case_number}"
        elif found.name:
            key = f"namn:{found.name}"
        else:
            return None
        case, name = values.get("case_number"), values.get("initiative_name")
        return cls(key, str(case).strip() if case else None, str(name).strip() if name else None, key_id)

    def owns(self, values: dict[str, Any]) -> bool:
        """Is a file with these answers (or raw values) this insats' report? By case number when
        the link has one (a file without one is not), else by name."""
        found = identity(values)
        kind, _, wanted = self.key.partition(":")
        return (found.case_number if kind == "dnr" else found.name) == wanted

    def refusal(self, values: dict[str, Any]) -> str:
        """The Swedish answer to a file that is not this insats' report."""
        other = Insats.of(values)
        sent = f"rapporten för {other.title}" if other else "en rapport utan diarienummer och namn"
        return (
            f"Länken gäller insatsen {self.title}, men filen är {sent}. Filen togs inte emot. Skicka "
            f"{self.title}s egen rapport här; varje insats har en egen länk från RAR."
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def issue(store: Store, insats: Insats, user: str) -> tuple[str, int]:
    """A new key for the insats (revoking any it had): the secret, shown once, and its row id."""
    secret = new_key()
    now = time.time_ns()
    with store.writing() as db:
        _revoke(db, insats, user, now)
        cursor = db.execute(
            "INSERT INTO insats_keys (insats, case_number, initiative_name, key_sha256, issued_ns, issued_by) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (insats.key, insats.case_number, insats.initiative_name, _digest(secret), now, user),
        )
        key_id = int(cursor.lastrowid)
        audit.record(db, "link_issued", at_ns=now, user_name=user, insats=insats.key, insats_title=insats.title,
                     key_id=key_id)
    return secret, key_id


def revoke(store: Store, insats: Insats, user: str) -> int:
    """Revoke the insats' key(s); how many were active."""
    now = time.time_ns()
    with store.writing() as db:
        return _revoke(db, insats, user, now)


def _revoke(db: sqlite3.Connection, insats: Insats, user: str, now: int) -> int:
    active = db.execute("SELECT id FROM insats_keys WHERE insats = ? AND revoked_ns IS NULL", (insats.key,)).fetchall()
    for row in active:
        db.execute("UPDATE insats_keys SET revoked_ns = ?, revoked_by = ? WHERE id = ?", (now, user, row["id"]))
        audit.record(db, "link_revoked", at_ns=now, user_name=user, insats=insats.key, insats_title=insats.title,
                     key_id=row["id"])
    return len(active)


def lookup(store: Store, secret: str | None) -> Insats | None:
    """The insats of an active key; None for a wrong, revoked or malformed one."""
    if not secret or not _KEY_SHAPE.fullmatch(secret):
        return None
    with store.connect() as db:
        row = db.execute(
            "SELECT id, insats, case_number, initiative_name FROM insats_keys WHERE key_sha256 = ? "
            "AND revoked_ns IS NULL", (_digest(secret),)).fetchone()
    if row is None:
        return None
    return Insats(row["insats"], row["case_number"], row["initiative_name"], row["id"])


@dataclass(frozen=True)
class KeyState:
    """An insats' current link, for RAR's page (never the secret: only its issue)."""

    key_id: int
    issued_ns: int
    issued_by: str


def active_keys(store: Store) -> dict[str, KeyState]:
    """insats key → its active link."""
    with store.connect() as db:
        found = db.execute(
            "SELECT id, insats, issued_ns, issued_by FROM insats_keys WHERE revoked_ns IS NULL").fetchall()
    return {row["insats"]: KeyState(row["id"], row["issued_ns"], row["issued_by"]) for row in found}
