"""Named staff accounts with roles (issue 20, point 5): `lagesrapport users`, what kansli and ekonomi
may do, and sessions that end when a password changes or an account is disabled."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from test_web_http import make_client, web
from webtools import CORRECTED, FIRST, PASSWORD, csrf_of, examples, login, register_file, send  # noqa: F401

from lagesrapport_xl.cli import main as cli_main
from lagesrapport_xl.web import accounts, audit
from lagesrapport_xl.web.app import SESSION_COOKIE

ANNA, EVA = "anna långsam lösenord", "evas eget hemliga lösenord"


def users(monkeypatch, capsys, *args: str, password: str | None = None) -> tuple[int, str, str]:
    """`lagesrapport users …` with the password on standard input (as a script would give it)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO((password or "") + "\n"))
    code = cli_main(["users", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def client(tmp_path: Path, monkeypatch, capsys) -> TestClient:
    client = make_client(tmp_path, register=register_file(tmp_path))
    state = str(web(client).settings.state)
    assert users(monkeypatch, capsys, "add", "anna", "--role", "kansli", "--state", state, password=ANNA)[0] == 0
    assert users(monkeypatch, capsys, "add", "eva", "--role", "ekonomi", "--state", state, password=EVA)[0] == 0
    return client


def test_users_are_managed_on_the_state_folder(client: TestClient, monkeypatch, capsys) -> None:
    state = str(web(client).settings.state)
    code, out, _err = users(monkeypatch, capsys, "list", "--state", state)
    assert code == 0 and out.splitlines() == ["anna\tkansli\taktivt", "eva\tekonomi\taktivt"]
    code, _out, err = users(monkeypatch, capsys, "add", "ANNA", "--role", "kansli", "--state", state, password=ANNA)
    assert code == 2 and "Det finns redan ett konto som heter ANNA" in err  # names ignore case
    code, _out, err = users(monkeypatch, capsys, "add", "kort", "--role", "ekonomi", "--state", state, password="kort")
    assert code == 2 and "minst 10 tecken" in err
    code, _out, err = users(monkeypatch, capsys, "add", "ny", "--state", state, password=ANNA)
    assert code == 2 and "--role" in err
    code, _out, err = users(monkeypatch, capsys, "passwd", "okänd", "--state", state, password=ANNA)
    assert code == 2 and "Det finns inget konto som heter okänd" in err
    code, _out, err = users(monkeypatch, capsys, "disable", "anna", "--state", str(Path(state).parent / "fel"))
    assert code == 2 and "Hittar ingen server" in err
    with web(client).store.connect() as db:
        stored = [row[0] for row in db.execute("SELECT password_hash FROM users")]
    assert all(h.startswith("scrypt:16384:8:1:") and ANNA not in h and EVA not in h for h in stored)
    assert [e.action for e in audit.rows(web(client).store)][:2] == ["user_added", "user_added"][:2]


def test_kansli_reviews_and_ekonomi_reads_and_downloads_but_does_not_review(client: TestClient, examples) -> None:
    send(client, examples[FIRST].read_bytes(), FIRST)
    client.cookies.clear()
    assert login(client, EVA, "eva").headers["location"] == "/rar"
    rar = client.get("/rar").text
    assert "ekonomi" in rar and "Skapa länkar" not in rar
    insats = client.get("/rar/insats", params={"i": "dnr:2021-0007"}).text
    assert "Spara granskningen" not in insats and "Skapa ny länk" not in insats
    token = insats.split('href="/rar/fil/')[1].split('"')[0]
    assert client.get(f"/rar/fil/{token}").content == examples[FIRST].read_bytes()
    assert client.get(f"/rar/fil/{token}/kontrollkopia").status_code == 200
    assert client.get("/rar/logg").status_code == 200 and client.get("/rar/logg.csv").status_code == 200
    csrf = csrf_of(rar)  # the logout form's token: the same for every form of the browser
    master = client.post("/rar/sammanstallning", data={"csrf_token": csrf, "urval": "alla"})
    assert master.status_code == 200 and master.headers["content-type"] == "application/zip"
    for path, data in (("/rar/granskning", {"i": "dnr:2021-0007", "kvitto": token, "granskning": "approved"}),
                       ("/rar/lank", {"i": "dnr:2021-0007"}), ("/rar/lank/aterkalla", {"i": "dnr:2021-0007"}),
                       ("/rar/utskick", {"urval": "alla"})):
        answer = client.post(path, data={"csrf_token": csrf, **data})
        assert answer.status_code == 403 and "Ditt konto har rollen ekonomi" in answer.text, path
    assert client.get("/rar/status.json").json()["reviews"]["approved"] == 0
    client.cookies.clear()
    login(client, ANNA, "anna")
    insats = client.get("/rar/insats", params={"i": "dnr:2021-0007"}).text
    assert "Spara granskningen" in insats
    answer = client.post("/rar/granskning", data={"csrf_token": csrf_of(insats), "i": "dnr:2021-0007",
                                                  "kvitto": token, "granskning": "approved"})
    assert answer.status_code == 303 and client.get("/rar/status.json").json()["reviews"]["approved"] == 1
    [entry] = [e for e in audit.rows(web(client).store) if e.action == "review"]
    assert (entry.user_name, entry.verdict, entry.insats) == ("anna", "Godkänd", "dnr:2021-0007")


def test_a_password_change_or_a_disabled_account_ends_its_sessions(client: TestClient, monkeypatch, capsys) -> None:
    state = str(web(client).settings.state)
    login(client, ANNA, "anna")
    other = TestClient(client.app, follow_redirects=False)
    login(other, EVA, "eva")
    assert client.get("/rar").status_code == 200 and other.get("/rar").status_code == 200
    assert users(monkeypatch, capsys, "passwd", "anna", "--state", state, password="ett helt nytt lösenord")[0] == 0
    assert client.get("/rar").headers["location"] == "/rar/login"  # ended at once
    assert other.get("/rar").status_code == 200  # another account's session goes on
    assert login(client, ANNA, "anna").status_code == 401
    assert login(client, "ett helt nytt lösenord", "anna").status_code == 303
    assert users(monkeypatch, capsys, "disable", "eva", "--state", state)[0] == 0
    assert other.get("/rar").headers["location"] == "/rar/login"
    assert login(other, EVA, "eva").status_code == 401
    code, out, _err = users(monkeypatch, capsys, "list", "--state", state)
    assert "eva\tekonomi\tavstängt" in out
    stolen = client.cookies[SESSION_COOKIE]
    assert users(monkeypatch, capsys, "passwd", "anna", "--state", state, password="ännu ett nytt lösenord")[0] == 0
    assert TestClient(client.app, follow_redirects=False, cookies={SESSION_COOKIE: stolen}).get("/rar").status_code == 303
    actions = [(e.action, e.detail) for e in audit.rows(web(client).store) if e.action.startswith("user_")]
    assert actions[:3] == [("user_password", "anna"), ("user_disabled", "eva"), ("user_password", "anna")]


def test_the_single_password_is_the_account_kansli_until_an_account_of_that_name_exists(client: TestClient) -> None:
    assert login(client).status_code == 303  # LAGESRAPPORT_PASSWORD, as before: the account "kansli"
    assert "Du är inloggad som kansli (kansliet)" in client.get("/rar").text
    client.cookies.clear()
    accounts.add(web(client).store, "kansli", accounts.Role.EKONOMI, "kanslikontots lösenord", by="test")
    assert login(client).status_code == 401
    assert login(client, "kanslikontots lösenord").status_code == 303
    assert "(ekonomi)" in client.get("/rar").text
    assert login(TestClient(client.app), PASSWORD, "nån annan").status_code == 401


def test_a_database_from_before_the_links_is_upgraded_and_its_sessions_end(tmp_path: Path) -> None:
    """The tables of the previous version, with one stored upload and one session in them."""
    import sqlite3

    from lagesrapport_xl.web.intake import receipt_order
    from lagesrapport_xl.web.store import Store

    path = tmp_path / "intake.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE uploads (id INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE, received_ns INTEGER NOT NULL,
                file_name TEXT NOT NULL, size INTEGER, sha256 TEXT, outcome TEXT NOT NULL, code TEXT, stored_name TEXT,
                duplicate_of INTEGER, case_number TEXT, initiative_name TEXT, report_number INTEGER, signed_date TEXT,
                client TEXT, receipt TEXT NOT NULL);
            CREATE TABLE sessions (token_sha256 TEXT PRIMARY KEY, expires REAL NOT NULL);
            INSERT INTO uploads (token, received_ns, file_name, sha256, outcome, stored_name, receipt)
                VALUES ('t', 1700000000000000000, 'a.xlsx', 'abc', 'received', 'x_a.xlsx', '{}');
            INSERT INTO sessions VALUES ('s', 9999999999);
        """)
    store = Store(path)
    with store.connect() as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(uploads)")}
        assert {"mode", "insats", "key_id"} <= columns
        assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0  # no one's session: ended
        assert list(receipt_order(db)) == ["abc"]  # a file stored before links still has its receipt time
    Store(path)  # and opening it again changes nothing
