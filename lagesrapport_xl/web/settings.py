"""What the web intake needs: its folders, the form, the limits, RAR's password hash, cookies.

The inbox is exactly what `lagesrapport consolidate INBOX` reads (every file below it), so the
server's own files — the SQLite log, the session secret, annotated copies, refused files kept for
audit, written master workbooks — live in a separate state folder, by default a sibling of the
inbox ("inkorg" → "inkorg-server"), and never inside it.

RAR's password is given as a hash (`lagesrapport serve --hash-password` makes one): the `[web]`
table of the `--config` TOML (`password_hash = "scrypt:…"`) or the environment variable
LAGESRAPPORT_PASSWORD_HASH. A plain password in LAGESRAPPORT_PASSWORD is hashed at start and
removed from the environment; it is never stored or logged. The accessibility statement's texts
are the `[web.accessibility]` table (accessibility.py); the limits that keep one client from
taking the server's time, disk or accounts are the `[web.limits]` table (`Guard`, docs/web.md
"Gränser"); `public_url` is the address the links RAR sends out are built from.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..common.config import ConfigError, TemplateOptions, config_table, template_options
from ..form.spec import FormSpec, default_spec
from ..reader.safety import DEFAULT_LIMITS, Limits, MiB, size_text
from .accessibility import Statement, statement_from
from .auth import check_password_hash, hash_password

ENV_PASSWORD_HASH = "LAGESRAPPORT_PASSWORD_HASH"
ENV_PASSWORD = "LAGESRAPPORT_PASSWORD"
WEB_KEYS = {"password_hash", "https", "max_mb", "accessibility", "limits", "public_url", "rows_per_page"}
ROWS_PER_PAGE = 100  # RAR's table, a part at a time (web/paging.py)
_PUBLIC_URL = re.compile(r"https?://[^/?#\s]+(/[^?#\s]*)?")


class SettingsError(ValueError):
    """A setting that cannot be used; the message is Swedish and says what to change."""


@dataclass(frozen=True)
class Guard:
    """The limits that hold (web/limits.py; their rar.toml keys are these names, in `[web.limits]`).
    Logins are counted per address and per account within the window; uploads per link key and
    per address within a minute; the bytes of the requests per address within a day."""

    uploads_per_key_per_minute: int = 10
    uploads_per_address_per_minute: int = 30
    mb_per_address_per_day: float = 200.0
    refused_files_mb: float = 100.0  # refused files kept for audit, all together; the oldest go first
    login_failures_per_address: int = 5
    login_failures_per_account: int = 20
    login_window_minutes: float = 15.0
    password_checks_at_once: int = 2  # scrypt checks in the whole server (16 MB each)

    @property
    def bytes_per_address_per_day(self) -> int:
        return int(self.mb_per_address_per_day * MiB)

    @property
    def refused_files_bytes(self) -> int:
        return int(self.refused_files_mb * MiB)

    @property
    def login_window(self) -> float:
        return self.login_window_minutes * 60


GUARD_KEYS = tuple(Guard.__dataclass_fields__)


@dataclass(frozen=True)
class Settings:
    inbox: Path
    state: Path
    spec: FormSpec = field(default_factory=default_spec)
    register: Path | None = None
    password_hash: str | None = None  # None: RAR's page is closed
    limits: Limits = DEFAULT_LIMITS  # limits.max_file_bytes is also the upload limit
    https: bool = False  # behind a TLS proxy: cookies are sent over HTTPS only
    session_hours: float = 8.0
    login_delay: float = 1.0  # seconds every failed login waits before its answer
    guard: Guard = Guard()  # the limits per client, link and account
    public_url: str | None = None  # "https://rapporter.rar.example/lagesrapport": links sent out start so
    accessibility: Statement = field(default_factory=Statement)  # the tillgänglighetsredogörelse's texts
    template: TemplateOptions = TemplateOptions()  # rar.toml's [template]: the templates it hands out
    rows_per_page: int = ROWS_PER_PAGE

    @property
    def max_upload_bytes(self) -> int:
        return self.limits.max_file_bytes

    @property
    def max_body_bytes(self) -> int:
        """The largest request: the file plus its multipart envelope (a browser's is under 1 kB:
        boundaries, part headers, the CSRF token; python-multipart allows 4 kB per header line)."""
        return self.max_upload_bytes + 16 * 1024


def default_state(inbox: Path) -> Path:
    """The sibling "<inbox>-server": beside the inbox, never in it."""
    inbox = inbox.resolve()
    return inbox.with_name(f"{inbox.name}-server")


def web_config(config: str | Path | None) -> dict[str, Any]:
    """The `[web]` table of RAR's config file ({} without a file or table). The form part of the
    same file is read by spec.load_spec, which ignores this table."""
    try:
        return config_table(config, "web", WEB_KEYS)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None


def template_config(config: str | Path | None) -> TemplateOptions:
    """The `[template]` table: the templates the server hands out are the CLI's (common/config.py)."""
    try:
        return template_options(config)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None


def guard_from(table: Any, max_upload_bytes: int) -> Guard:
    """The `[web.limits]` table as a Guard (its defaults for what it leaves out)."""
    if table is None:
        return Guard()
    if not isinstance(table, dict):
        raise SettingsError("[web.limits] ska vara en tabell.")
    unknown = sorted(set(table) - set(GUARD_KEYS))
    if unknown:
        raise SettingsError(f"okända inställningar i [web.limits]: {', '.join(unknown)}. Möjliga: {', '.join(GUARD_KEYS)}.")
    values: dict[str, Any] = {}
    for key, value in table.items():
        whole = isinstance(Guard.__dataclass_fields__[key].default, int)
        number = isinstance(value, int) if whole else isinstance(value, (int, float))
        if not number or isinstance(value, bool) or not value > 0:
            kind = "ett helt tal" if whole else "ett tal"
            raise SettingsError(f"[web.limits] {key} ska vara {kind} större än 0, inte {value!r}.")
        values[key] = value
    guard = Guard(**values)
    for key, size in (("mb_per_address_per_day", guard.bytes_per_address_per_day),
                      ("refused_files_mb", guard.refused_files_bytes)):
        if size < max_upload_bytes:
            raise SettingsError(
                f"[web.limits] {key} ska vara minst lika stor som största fil ({size_text(max_upload_bytes)}), "
                f"annars får inte ens en fil plats."
            )
    return guard


def public_url_from(value: Any) -> str | None:
    """The server's public address (no slash last), or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not _PUBLIC_URL.fullmatch(value.strip()):
        raise SettingsError(f"public_url ska vara en webbadress som https://rapporter.rar.example/lagesrapport, "
                            f"utan ? och #, inte {value!r}.")
    return value.strip().rstrip("/")


def password_hash_from(table: dict[str, Any], environ: MutableMapping[str, str] | None = None) -> str | None:
    """RAR's password hash: the environment before the config file; a plain password from the
    environment is hashed here and removed from it, so that no child process inherits it."""
    environ = os.environ if environ is None else environ
    plain = environ.pop(ENV_PASSWORD, None)
    stored = environ.get(ENV_PASSWORD_HASH) or table.get("password_hash")
    if plain:
        stored = hash_password(plain)
    if stored:
        try:
            check_password_hash(stored)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
    return stored or None


def build_settings(
    inbox: str | Path,
    *,
    state: str | Path | None = None,
    spec: FormSpec | None = None,
    register: str | Path | None = None,
    table: dict[str, Any] | None = None,
    environ: MutableMapping[str, str] | None = None,
    https: bool | None = None,
    max_mb: float | None = None,
    **extra: Any,
) -> Settings:
    """Settings from the command line's values and the `[web]` table; the command line wins."""
    table = table or {}
    inbox = Path(inbox).resolve()
    state = Path(state).resolve() if state is not None else default_state(inbox)
    if state == inbox or state.is_relative_to(inbox):
        raise SettingsError(
            f"Serverns egen mapp ({state}) får inte ligga i inkorgen ({inbox}): sammanställningen läser "
            "varje fil i inkorgen. Välj en annan mapp med --state."
        )
    max_mb = max_mb if max_mb is not None else table.get("max_mb")
    limits = DEFAULT_LIMITS
    if max_mb is not None:
        if not isinstance(max_mb, (int, float)) or not 0 < max_mb <= DEFAULT_LIMITS.max_file_bytes / MiB:
            raise SettingsError(
                f"Största filstorlek ska vara mellan 0 och {DEFAULT_LIMITS.max_file_bytes // MiB} MB, inte {max_mb}."
            )
        limits = replace(DEFAULT_LIMITS, max_file_bytes=int(max_mb * MiB))
    rows = extra.pop("rows_per_page", table.get("rows_per_page", ROWS_PER_PAGE))
    if type(rows) is not int or not 1 <= rows <= 10_000:
        raise SettingsError(f"rows_per_page ska vara ett heltal mellan 1 och 10 000 (rader i RAR:s tabell), inte {rows!r}.")
    guard = extra.pop("guard", None) or guard_from(table.get("limits"), limits.max_file_bytes)
    accessibility = extra.pop("accessibility", None)
    if accessibility is None:
        try:
            accessibility = statement_from(table.get("accessibility"))
        except ValueError as exc:
            raise SettingsError(f"[web.accessibility]: {exc}") from None
    return Settings(
        inbox=inbox,
        state=state,
        spec=spec or default_spec(),
        register=Path(register).resolve() if register else None,
        password_hash=password_hash_from(table, environ),
        limits=limits,
        https=bool(table.get("https", False)) if https is None else https,
        accessibility=accessibility,
        guard=guard,
        public_url=public_url_from(extra.pop("public_url", table.get("public_url"))),
        rows_per_page=rows,
        **extra,
    )
