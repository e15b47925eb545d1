"""Named staff accounts with a role, instead of one shared password.

- *kansli*: reads everything, reviews reports, issues and revokes links, writes the utskick list
  and the master.
- *ekonomi*: reads everything and downloads the master and the files; no review, no links.

Accounts live in the server's database and are managed with `lagesrapport users add|passwd|disable
--state DIR` (cli/users_cmd.py), also while the server runs. Passwords are hashed as auth.py hashes
them (scrypt, salted); changing a password or disabling an account ends its sessions at once.

The single password of earlier versions (LAGESRAPPORT_PASSWORD_HASH, or `password_hash` in the
config) still works: it is the account `kansli` with the role kansli, unless the database has an
account of that name, which then wins.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from enum import Enum
from functools import cache

from . import audit
from .auth import hash_password, verify_password
from .store import Store

LEGACY_NAME = "kansli"
MIN_PASSWORD = 10
_NAME = re.compile(r"[A-Za-zÅÄÖåäöÉéÜü0-9._@-]{2,64}")


class Role(str, Enum):
    KANSLI = "kansli"
    EKONOMI = "ekonomi"

    @property
    def may_review(self) -> bool:
        """Review, links, the utskick list: the kansli's work."""
        return self is Role.KANSLI

    @property
    def text(self) -> str:
        return {Role.KANSLI: "kansliet", Role.EKONOMI: "ekonomi"}[self]


class AccountError(ValueError):
    """An account change that cannot be made; the message is Swedish."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    disabled: bool


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise AccountError("Användarnamnet ska vara 2–64 tecken: bokstäver, siffror och . _ @ -.")
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Välj ett lösenord med minst {MIN_PASSWORD} tecken.")


def add(store: Store, name: str, role: Role, password: str, *, by: str) -> None:
    _check_name(name)
    _check_password(password)
    now = time.time_ns()
    with store.writing() as db:
        if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise AccountError(f"Det finns redan ett konto som heter {name}. Byt lösenord med users passwd.")
        db.execute("INSERT INTO users (name, role, password_hash, created_ns, changed_ns) VALUES (?, ?, ?, ?, ?)",
                   (name, role.value, hash_password(password), now, now))
        audit.record(db, "user_added", at_ns=now, user_name=by, detail=f"{name} ({role.value})")


def set_password(store: Store, name: str, password: str, *, by: str) -> None:
    """A new password (and the account enabled again); every session of the account ends."""
    _check_password(password)
    now = time.time_ns()
    with store.writing() as db:
        _existing(db, name)
        db.execute("UPDATE users SET password_hash = ?, disabled = 0, changed_ns = ? WHERE name = ?",
                   (hash_password(password), now, name))
        db.execute("DELETE FROM sessions WHERE user_name = ?", (name,))
        audit.record(db, "user_password", at_ns=now, user_name=by, detail=name)


def disable(store: Store, name: str, *, by: str) -> None:
    """The account can no longer log in; every session of it ends."""
    now = time.time_ns()
    with store.writing() as db:
        _existing(db, name)
        db.execute("UPDATE users SET disabled = 1, changed_ns = ? WHERE name = ?", (now, name))
        db.execute("DELETE FROM sessions WHERE user_name = ?", (name,))
        audit.record(db, "user_disabled", at_ns=now, user_name=by, detail=name)


def _existing(db, name: str) -> None:
    if not db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
        raise AccountError(f"Det finns inget konto som heter {name}. Skapa det med users add.")


def accounts(store: Store) -> list[Account]:
    with store.connect() as db:
        rows = db.execute("SELECT name, role, disabled FROM users ORDER BY name").fetchall()
    return [Account(row["name"], Role(row["role"]), bool(row["disabled"])) for row in rows]


def authenticate(store: Store, name: str, password: str, legacy_hash: str | None) -> User | None:
    """The user whose name and password these are; None otherwise (also for a disabled account).
    The password is checked (scrypt) also for an unknown name, so that the answer takes as long."""
    name = name.strip()
    with store.connect() as db:
        row = db.execute("SELECT name, role, password_hash, disabled FROM users WHERE name = ?", (name,)).fetchone()
    if row is not None:
        good = verify_password(password, row["password_hash"])
        return User(row["name"], Role(row["role"])) if good and not row["disabled"] else None
    if legacy_hash and name.casefold() == LEGACY_NAME:
        return User(LEGACY_NAME, Role.KANSLI) if verify_password(password, legacy_hash) else None
    verify_password(password, _dummy_hash())  # as long as a real check
    return None


@cache
def _dummy_hash() -> str:
    return hash_password("x" * MIN_PASSWORD)


def any_login(store: Store, legacy_hash: str | None) -> bool:
    """Can anyone log in at all (an enabled account, or the single password)?"""
    if legacy_hash:
        return True
    with store.connect() as db:
        return db.execute("SELECT 1 FROM users WHERE disabled = 0").fetchone() is not None
