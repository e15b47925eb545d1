"""The audit log (issue 20, point 6): append-only in SQLite and in the code, and complete — every
action of a scripted half year is in it, with time, user, insats, key, address, SHA-256 and
verdict, on RAR's page and in its CSV and Excel exports."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient
from test_web_http import make_client, web
from test_web_review import links_from_utskick
from webtools import BROKEN, CORRECTED, FIRST, GOOD, csrf_of, examples, login, register_file  # noqa: F401

from lagesrapport_xl.consolidate.receipts import Review
from lagesrapport_xl.web import accounts, audit, review

PACKAGE = Path(__file__).resolve().parents[1] / "lagesrapport_xl"


def test_the_database_refuses_to_change_or_delete_a_log_row(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    store = web(client).store
    audit.log(store, "login", user_name="anna", client="127.0.0.1")
    review.save(store, sha256="0" * 64, stored_name="x.xlsx", insats="dnr:1", insats_title="1", report_number=1,
                state=Review.SUPPLEMENT, comment="Fyll i budgeten.", chosen=(), user="anna")
    with store.connect() as db:
        for statement in ("UPDATE audit SET user_name = 'eva'", "DELETE FROM audit", "DELETE FROM audit WHERE id = 1",
                          "UPDATE reviews SET state = 'Godkänd'", "DELETE FROM reviews"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                db.execute(statement)
        assert [row[0] for row in db.execute("SELECT user_name FROM audit")] == ["anna", "anna"]
        assert [row[0] for row in db.execute("SELECT state FROM reviews")] == ["Komplettering begärd"]
    with pytest.raises(ValueError):
        audit.log(store, "tampering")


def test_no_statement_in_the_package_updates_or_deletes_the_log_or_the_reviews() -> None:
    forbidden = re.compile(r"\b(UPDATE\s+(OR\s+\w+\s+)?|DELETE\s+FROM\s+|REPLACE\s+INTO\s+|INSERT\s+OR\s+REPLACE\s+INTO\s+"
                           r"|DROP\s+TABLE\s+(IF\s+EXISTS\s+)?|ALTER\s+TABLE\s+)[\"'`]?(audit|reviews)\b", re.IGNORECASE)
    found = [f"{path.relative_to(PACKAGE)}: {match.group(0)}"
             for path in PACKAGE.rglob("*.py") for match in forbidden.finditer(path.read_text(encoding="utf-8"))]
    assert found == []
    writers = [path.name for path in PACKAGE.rglob("*.py") if "INSERT INTO audit" in path.read_text(encoding="utf-8")]
    assert writers == ["audit.py"]  # audit.record is the one writer


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_a_scripted_half_year_is_in_the_log_step_by_step(tmp_path: Path, examples) -> None:
    client = make_client(tmp_path, register=register_file(tmp_path))
    store = web(client).store
    accounts.add(store, "eva", accounts.Role.EKONOMI, "evas eget hemliga lösenord", by="test")
    expected: list[tuple[str, ...]] = []  # (action, user, insats, verdict or "")

    def step(*row: str) -> None:
        expected.append(row)

    step("user_added", "test", "", "")
    assert login(client, "fel lösenord").status_code == 401
    step("login_failed", "kansli", "", "")
    login(client)
    step("login", "kansli", "", "")
    link = links_from_utskick(client)["2021-0007"]
    for title in ("2021-0007", "2022-0013", "2020-0042", "2021-0021", "2025-0001"):  # the register's order
        step("link_issued", "kansli", title, "")
    step("utskick", "kansli", "", "")

    def send(name: str) -> None:
        """The coordinator sends a file through Steget vidare's link from the list."""
        client.post(link, data={"csrf_token": csrf_of(client.get(link).text)},
                    files={"file": (name, examples[name].read_bytes())})

    # The coordinators: a template, a report, another insats' file, a check.
    client.get(f"{link}/mall")
    step("template", "", "2021-0007", "")
    send(FIRST)
    step("upload", "", "2021-0007", "RAR har tagit emot rapporten.")
    send(BROKEN)
    step("upload", "", "2021-0007", "Filen togs inte emot.")
    client.post("/", data={"csrf_token": csrf_of(client.get("/").text)}, files={"file": (GOOD, examples[GOOD].read_bytes())})
    step("check", "", "", "Filen är kontrollerad: inga fel.")
    # RAR reviews, the coordinator completes, RAR approves.
    page = client.get("/rar/insats", params={"i": "dnr:2021-0007"}).text
    token = page.split('href="/rar/fil/')[1].split('"')[0]
    client.post("/rar/granskning", data={"csrf_token": csrf_of(page), "i": "dnr:2021-0007", "kvitto": token,
                                         "granskning": "supplement", "kommentar": "Resorna saknas."})
    step("review", "kansli", "2021-0007", "Komplettering begärd")
    send(CORRECTED)
    step("upload", "", "2021-0007", "RAR har tagit emot rapporten.")
    page = client.get("/rar/insats", params={"i": "dnr:2021-0007"}).text
    second = page.split('href="/rar/fil/')[1].split('"')[0]
    client.post("/rar/granskning", data={"csrf_token": csrf_of(page), "i": "dnr:2021-0007", "kvitto": second,
                                         "granskning": "approved"})
    step("review", "kansli", "2021-0007", "Godkänd")
    client.get(f"/rar/fil/{second}")
    step("download", "kansli", "2021-0007", "")
    client.get(f"/rar/fil/{second}/kontrollkopia")
    step("download", "kansli", "2021-0007", "")
    client.post("/rar/sammanstallning", data={"csrf_token": csrf_of(page), "urval": "godkanda"})
    step("master", "kansli", "", "")
    client.post("/rar/lank/aterkalla", data={"csrf_token": csrf_of(page), "i": "dnr:2021-0007"})
    step("link_revoked", "kansli", "2021-0007", "")
    client.post("/rar/lank", data={"csrf_token": csrf_of(page), "i": "dnr:2021-0007"})
    step("link_issued", "kansli", "2021-0007", "")
    client.post("/rar/logout", data={"csrf_token": csrf_of(page)})
    step("logout", "kansli", "", "")
    # Finance reads the log and exports it.
    login(client, "evas eget hemliga lösenord", "eva")
    step("login", "eva", "", "")
    exported = client.get("/rar/logg.csv")
    step("audit_export", "eva", "", "")

    entries = list(reversed(audit.rows(store)))
    shown = [(e.action, e.user_name or "", (e.insats_title or "").split(" ")[0], e.verdict or "") for e in entries]
    assert shown == expected
    uploads = [e for e in entries if e.action == "upload"]
    assert [e.sha256 for e in uploads] == [sha(examples[n].read_bytes()) for n in (FIRST, BROKEN, CORRECTED)]
    assert all(e.client == "testclient" and e.key_id is not None for e in uploads)
    assert len({e.key_id for e in uploads}) == 1 and "wrong_insats" in uploads[1].detail
    [check] = [e for e in entries if e.action == "check"]
    assert check.key_id is None and check.sha256 == sha(examples[GOOD].read_bytes())
    reviews = [e for e in entries if e.action == "review"]
    assert "kommentar: Resorna saknas." in reviews[0].detail
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    # The export holds every row, newest first, as the page does.
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == list(audit.HEADINGS) and len(rows) - 1 == len(entries) - 1  # the export's own row came after
    assert [row[1] for row in rows[1:]] == [audit.ACTIONS[e.action] for e in reversed(entries[:-1])]
    workbook = client.get("/rar/logg.xlsx")
    sheet = load_workbook(io.BytesIO(workbook.content))["Logg"]
    assert [cell.value for cell in sheet[1]] == list(audit.HEADINGS) and sheet.max_row == len(entries) + 1
    page = client.get("/rar/logg").text
    assert page.count("<tr><td class=\"nowrap\">") == len(entries) + 1  # and the second export's row
    one = client.get("/rar/logg", params={"i": "dnr:2021-0007"}).text
    assert "Loggen för 2021-0007 Steget vidare Katrineholm" in one and "2022-0013" not in one.split("<tbody>")[1]
