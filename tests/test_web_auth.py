"""Passwords, CSRF tokens, sessions and the login brake (web/auth.py, web/limits.py); settings and
`serve` itself."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lagesrapport_xl.cli import main as cli_main
from lagesrapport_xl.web.auth import (
    Sessions,
    check_password_hash,
    csrf_token,
    csrf_valid,
    hash_password,
    load_secret,
    verify_password,
)
from lagesrapport_xl.web.limits import Attempt, LoginGuard, Refusal
from lagesrapport_xl.web.settings import (
    ENV_PASSWORD,
    Guard,
    ENV_PASSWORD_HASH,
    SettingsError,
    build_settings,
    web_config,
)
from lagesrapport_xl.web.store import Store


def test_a_password_hash_carries_salt_and_parameters_and_verifies_only_its_password() -> None:
    stored = hash_password("korrekt häst batteri")
    prefix, n, r, p, salt, key = stored.split(":")
    assert (prefix, n, r, p) == ("scrypt", "16384", "8", "1") and "korrekt" not in stored
    assert verify_password("korrekt häst batteri", stored)
    assert not verify_password("korrekt häst batteri ", stored) and not verify_password("", stored)
    assert hash_password("korrekt häst batteri") != stored  # a new salt every time
    assert "$" not in stored  # safe to paste into a shell, a .env file or Docker Compose


@pytest.mark.parametrize("stored", [
    "", "scrypt", "bcrypt:16384:8:1:c2FsdHNhbHQ=:a2V5", "scrypt:16385:8:1:c2FsdHNhbHQ=:" + "A" * 44,
    "scrypt:16384:8:1:inte-base64!:" + "A" * 44, "scrypt:4194304:8:1:c2FsdHNhbHQ=:" + "A" * 44,
    "scrypt:16384:8:1:c2FsdHNhbHQ=:a2V5",  # a key of the wrong length
])
def test_a_malformed_hash_is_refused_in_swedish(stored: str) -> None:
    with pytest.raises(ValueError, match="--hash-password"):
        check_password_hash(stored)


def test_csrf_tokens_fit_one_cookie_and_one_secret() -> None:
    secret, other = os.urandom(32), os.urandom(32)
    token = csrf_token(secret, "kaka")
    assert csrf_valid(secret, "kaka", token)
    assert not csrf_valid(secret, "en annan kaka", token)
    assert not csrf_valid(other, "kaka", token)
    assert not csrf_valid(secret, None, token) and not csrf_valid(secret, "kaka", None)
    assert not csrf_valid(secret, "kaka", token[:-1])


def test_the_secret_is_made_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "state" / "secret.key"
    secret = load_secret(path)
    assert len(secret) == 32 and load_secret(path) == secret
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_bytes(b"kort")  # half-written by a crash
    assert len(load_secret(path)) == 32


def test_sessions_are_kept_as_keyed_hashes_and_end_on_logout_expiry_new_password_or_new_secret(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    secret, credentials = os.urandom(32), {"kansli": hash_password("första lösenordet")}
    sessions = Sessions(store, 1, secret, credentials.get)
    token = sessions.start()
    assert sessions.user(token) == ("kansli", "kansli")
    assert not sessions.valid(token + "x") and not sessions.valid(None)
    with store.connect() as db:
        [(stored, credential)] = db.execute("SELECT token_sha256, credential FROM sessions").fetchall()
    assert token not in stored and stored != hashlib.sha256(token.encode()).hexdigest()  # keyed: a copy opens nothing
    assert credentials["kansli"] not in credential
    assert not Sessions(store, 1, os.urandom(32), credentials.get).valid(token)  # a restart with another secret
    credentials["kansli"] = hash_password("ett nytt lösenord")  # e.g. a new LAGESRAPPORT_PASSWORD_HASH at restart
    assert not sessions.valid(token)
    again = sessions.start()
    del credentials["kansli"]  # disabled, or no longer an account
    assert not sessions.valid(again)
    credentials["kansli"] = hash_password("tredje")
    token = sessions.start()
    sessions.end(token)
    assert not sessions.valid(token)
    expired = Sessions(store, -1, secret, credentials.get).start()
    assert not sessions.valid(expired)


def test_login_attempts_are_counted_before_the_check_per_address_and_per_account_and_survive_a_restart(
    tmp_path: Path,
) -> None:
    now = [1000.0]
    guard = Guard(login_failures_per_address=3, login_failures_per_account=5, login_window_minutes=15)
    logins = LoginGuard(Store(tmp_path / "db.sqlite3"), guard, clock=lambda: now[0])
    for _ in range(3):
        assert isinstance(logins.begin("anna", "10.0.0.1"), Attempt)  # counted as it begins
        now[0] += 60
    refused = logins.begin("anna", "10.0.0.1")
    assert isinstance(refused, Refusal) and refused.retry_after == 900 - 180  # when the first leaves the window
    assert "från din adress" in refused.message and "12 minuter" in refused.message
    restarted = LoginGuard(Store(tmp_path / "db.sqlite3"), guard, clock=lambda: now[0])
    assert isinstance(restarted.begin("Anna ", "10.0.0.1"), Refusal)  # the database remembers
    assert isinstance(restarted.begin("anna", "10.0.0.2"), Attempt) and isinstance(restarted.begin("ANNA", "10.0.0.3"), Attempt)
    account = restarted.begin("anna", "10.0.0.4")  # five for the account, from any address
    assert isinstance(account, Refusal) and "för det här kontot" in account.message
    other = restarted.begin("eva", "10.0.0.2")
    assert isinstance(other, Attempt)
    restarted.succeeded(other)  # a right password: eva's attempts from that address no longer count
    now[0] += 900 - 180  # the first three leave the window
    assert isinstance(restarted.begin("anna", "10.0.0.1"), Attempt)


# --- settings -----------------------------------------------------------------------------------------


def test_a_plain_password_from_the_environment_is_hashed_and_removed(tmp_path: Path) -> None:
    environ = {ENV_PASSWORD: "ett långt lösenord"}
    settings = build_settings(tmp_path / "inkorg", environ=environ)
    assert ENV_PASSWORD not in environ and verify_password("ett långt lösenord", settings.password_hash)


def test_the_hash_comes_from_the_environment_or_the_config_file(tmp_path: Path) -> None:
    from_env, from_file = hash_password("miljön"), hash_password("filen")
    config = tmp_path / "rar.toml"
    config.write_text(f'[web]\npassword_hash = "{from_file}"\nhttps = true\nmax_mb = 5\n', encoding="utf-8")
    table = web_config(config)
    settings = build_settings(tmp_path / "inkorg", table=table, environ={})
    assert settings.password_hash == from_file and settings.https and settings.max_upload_bytes == 5 * 2**20
    settings = build_settings(tmp_path / "inkorg", table=table, environ={ENV_PASSWORD_HASH: from_env}, https=False)
    assert settings.password_hash == from_env and not settings.https
    assert build_settings(tmp_path / "inkorg", environ={}).password_hash is None


def test_bad_settings_are_refused_in_swedish(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="--hash-password"):
        build_settings(tmp_path / "inkorg", environ={ENV_PASSWORD_HASH: "hemligt"})  # a password, not a hash
    with pytest.raises(SettingsError, match="mellan 0 och 20 MB"):
        build_settings(tmp_path / "inkorg", environ={}, max_mb=50)
    config = tmp_path / "rar.toml"
    config.write_text("[web]\npasword_hash = 'x'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="okända inställningar i \\[web\\]: pasword_hash"):
        web_config(config)


# --- the command -------------------------------------------------------------------------------------


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lagesrapport_xl", *args], input=stdin, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_hash_password_reads_standard_input_and_prints_only_the_hash() -> None:
    done = run("serve", "--hash-password", stdin="ett långt lösenord\n")
    assert done.returncode == 0
    assert verify_password("ett långt lösenord", done.stdout.strip()) and "lösenord" not in done.stdout
    assert "LAGESRAPPORT_PASSWORD_HASH" in done.stderr
    short = run("serve", "--hash-password", stdin="kort\n")
    assert short.returncode == 2 and "minst 10 tecken" in short.stderr


def test_serve_refuses_bad_settings_before_it_starts(tmp_path: Path, capsys) -> None:
    inbox = tmp_path / "inkorg"
    assert cli_main(["serve", "--inbox", str(inbox), "--state", str(inbox / "server")]) == 2
    assert "får inte ligga i inkorgen" in capsys.readouterr().err
    assert cli_main(["serve", "--inbox", str(inbox), "--register", str(tmp_path / "saknas.csv")]) == 2
    assert "saknas.csv" in capsys.readouterr().err
    empty = tmp_path / "tomt.csv"
    empty.write_text("", encoding="utf-8")
    assert cli_main(["serve", "--inbox", str(inbox), "--register", str(empty)]) == 2
    assert "Registret är tomt" in capsys.readouterr().err


def test_serve_is_listed_in_the_help() -> None:
    done = run("--help")
    assert "serve" in done.stdout and "webbservern" in done.stdout


def test_the_core_and_the_command_line_never_import_the_web_framework() -> None:
    probe = ("import sys; from lagesrapport_xl.cli import build_parser; import lagesrapport_xl.consolidate.batch; "
             "build_parser(); print(sorted(m for m in ('starlette', 'uvicorn', 'jinja2', 'multipart') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr


def test_serve_without_the_web_extra_says_how_to_install_it(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    assert cli_main(["serve", "--inbox", str(tmp_path / "inkorg")]) == 2
    assert 'pip install "lagesrapport_xl[web]"' in capsys.readouterr().err
