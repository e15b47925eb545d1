"""Staff login: password hashes, sessions, CSRF tokens and a brake on guessing.

- Passwords: stdlib scrypt (memory-hard) with a random salt; the stored string carries its
  parameters (`scrypt:16384:8:1:<salt>:<key>`, base64), so they can be raised later without
  breaking old hashes. Colons, not the customary "$": shells, Docker Compose and .env files
  expand "$", and a hash pasted into them must arrive unchanged. Compared in constant time.
- Sessions: a random token in an HttpOnly cookie; the database keeps only its SHA-256, expiry and
  account, so a copied database opens no session. Logging out deletes the row; so does a password
  change or a disabled account (accounts.py).
- CSRF: every form carries HMAC(server secret, the browser's CSRF cookie) — a forged form from
  another site cannot know the cookie, and without the secret no one can compute the token.
- Guessing: every failed login waits (Settings.login_delay) and a client with too many failures
  within the window is refused until the window has passed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from .store import Store

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # 16 MB and ~50 ms per check on this machine
KEY_BYTES = 32
PREFIX = "scrypt"
BAD_HASH = (
    "Lösenordshashen för RAR:s sida är inte giltig. Gör en ny med `lagesrapport serve --hash-password` "
    "och klistra in hela raden (den börjar med scrypt:)."
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=256 * n * r + 2**20
    )


def hash_password(password: str) -> str:
    """The string to store in the config file or the environment; never the password itself."""
    salt = os.urandom(16)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return ":".join([PREFIX, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(key)])


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes]:
    try:
        prefix, n, r, p, salt, key = stored.strip().split(":")
        parsed = int(n), int(r), int(p), base64.b64decode(salt, validate=True), base64.b64decode(key, validate=True)
    except ValueError:
        raise ValueError(BAD_HASH) from None
    n_, r_, p_, salt_, key_ = parsed
    power_of_two = n_ & (n_ - 1) == 0
    if prefix != PREFIX or not 2**10 <= n_ <= 2**20 or not power_of_two or not 1 <= r_ <= 32 or not 1 <= p_ <= 16 \
            or len(salt_) < 8 or len(key_) != KEY_BYTES:
        raise ValueError(BAD_HASH)
    return n_, r_, p_, salt_, key_


def check_password_hash(stored: str) -> None:
    """Raise ValueError (Swedish) unless `stored` is a hash this module made."""
    _parse(stored)


def verify_password(password: str, stored: str) -> bool:
    n, r, p, salt, key = _parse(stored)
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), key)


# --- CSRF ---------------------------------------------------------------------------------------


def new_token() -> str:
    """An unguessable token for a cookie or an address (128 bits and more)."""
    return secrets.token_urlsafe(24)


def csrf_token(secret: bytes, cookie: str) -> str:
    return hmac.new(secret, b"csrf:" + cookie.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, cookie: str | None, token: str | None) -> bool:
    if not cookie or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, cookie), token)


def load_secret(path: Path) -> bytes:
    """The server's secret for CSRF tokens: made once (mode 0600) and kept, so that forms open
    in browsers stay valid when the server restarts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    secret = path.read_bytes()
    if len(secret) < 32:  # a half-written file from a crash: make it anew
        path.unlink()
        return load_secret(path)
    return secret


# --- sessions ------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Sessions:
    """Staff's logged-in browsers, in the server's database (they survive a restart). Each session
    belongs to one account (accounts.py), whose password change or disabling deletes its rows."""

    def __init__(self, store: Store, hours: float):
        self.store = store
        self.seconds = hours * 3600

    def start(self, user: str = "kansli", role: str = "kansli") -> str:
        token = new_token()
        now = time.time()
        with self.store.connect() as db:
            db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            db.execute("INSERT INTO sessions (token_sha256, expires, user_name, role) VALUES (?, ?, ?, ?)",
                       (_digest(token), now + self.seconds, user, role))
        return token

    def user(self, token: str | None) -> tuple[str, str] | None:
        """(account name, role) of a valid session; None for none, an expired or an ended one."""
        if not token:
            return None
        with self.store.connect() as db:
            row = db.execute("SELECT expires, user_name, role FROM sessions WHERE token_sha256 = ?",
                             (_digest(token),)).fetchone()
        if row is None or row["expires"] <= time.time() or not row["user_name"]:
            return None
        return row["user_name"], row["role"]

    def valid(self, token: str | None) -> bool:
        return self.user(token) is not None

    def end(self, token: str | None) -> None:
        if token:
            with self.store.connect() as db:
                db.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_digest(token),))


class LoginThrottle:
    """Failed logins per client address within a sliding window (in memory: a restart forgets)."""

    def __init__(self, attempts: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def locked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, self.clock())) >= self.attempts

    def failed(self, client: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent(client, now).append(now)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
