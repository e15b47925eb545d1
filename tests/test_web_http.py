"""The web intake over HTTP, with Starlette's TestClient: pages, API, login, CSRF, limits, escaping,
RAR's page on real files, and the master download against `lagesrapport consolidate --state`.

Reports reach RAR through their insats' link (webtools.send, api_send); the open page only checks."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import sha256
from openpyxl import load_workbook
from starlette.testclient import TestClient
from webtools import (  # noqa: F401
    ANSWERS,
    BROKEN,
    CORRECTED,
    FIRST,
    GOOD,
    PASSWORD,
    WARNED,
    api_send,
    csrf_of,
    examples,
    insats_of,
    link_key,
    login,
    register_file,
    send,
)

from lagesrapport_xl.cli import main as cli_main
from lagesrapport_xl.consolidate.batch import consolidate
from lagesrapport_xl.consolidate.coverage import register_coverage
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.reader.register import read_register
from lagesrapport_xl.template.writer import write_template
from lagesrapport_xl.web.app import CSRF_COOKIE, SESSION_COOKIE, create_app
from lagesrapport_xl.web.overview import store_receipts
from lagesrapport_xl.web.settings import Guard, build_settings


# Limits no test of reading reaches (tests/test_web_guard.py tests the limits themselves).
UNLIMITED = Guard(uploads_per_key_per_minute=100_000, uploads_per_address_per_minute=100_000,
                  mb_per_address_per_day=1_000_000, refused_files_mb=1_000_000)


def make_client(tmp_path: Path, **options: Any) -> TestClient:
    environ = {"LAGESRAPPORT_PASSWORD": PASSWORD}
    settings = build_settings(tmp_path / "inkorg", environ=environ, login_delay=0, **options)
    return TestClient(create_app(settings), follow_redirects=False)


@pytest.fixture()
def client(tmp_path: Path) -> TestClient:
    return make_client(tmp_path)


def web(client: TestClient) -> Any:
    return client.app.state.web


def upload(client: TestClient, content: bytes, name: str = GOOD, *, token: str | None = None):
    """Check a file on the open page as a browser would: first the page (cookie and token), then the file."""
    token = token if token is not None else csrf_of(client.get("/").text)
    return client.post("/", data={"csrf_token": token}, files={"file": (name, content)})


def log_rows(client: TestClient) -> list[dict[str, Any]]:
    with web(client).intake.store.connect() as db:
        return [dict(row) for row in db.execute("SELECT * FROM uploads ORDER BY id")]


def inbox_files(client: TestClient) -> list[Path]:
    return sorted(web(client).settings.inbox.iterdir())


def by_command(client: TestClient) -> Any:
    """`consolidate INBOX --state STATE` as the Python call the command makes."""
    settings = web(client).settings
    return consolidate(settings.inbox, workers=1, receipts=store_receipts(web(client).store))


# --- the upload page and the receipt -----------------------------------------------------------------


def test_the_upload_page_is_swedish_with_a_csrf_token_and_strict_headers(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<html lang="sv">' in page.text
    assert "Kontrollera din fil" in page.text and ">Kontrollera</button>" in page.text
    assert "Filen skickas inte till RAR härifrån." in page.text
    assert 'type="file"' in page.text and 'enctype="multipart/form-data"' in page.text
    assert "<script" not in page.text  # no JavaScript anywhere
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' forbids scripts
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
    assert client.get("/static/style.css").status_code == 200


def test_a_good_report_gets_its_receipt_and_is_in_the_inbox(client: TestClient, examples) -> None:
    content = examples[GOOD].read_bytes()
    answer = send(client, content, GOOD)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"/insats/{link_key(client, GOOD)}/kvitto/")
    page = client.get(answer.headers["location"])
    assert page.status_code == 200
    assert "RAR har tagit emot rapporten." in page.text and "du behöver inte göra något mer" in page.text
    for shown in ("2020-0042", "Nyttiga affärer", GOOD, hashlib.sha256(content).hexdigest(), "Inga fel och inga varningar."):
        assert shown in page.text
    assert "Skickad genom länken för <strong>2020-0042 Nyttiga affärer</strong>" in page.text
    assert "Till insatsens sida" in page.text
    [stored] = inbox_files(client)
    assert stored.read_bytes() == content and stored.name in page.text
    assert str(web(client).settings.inbox) not in page.text


def test_the_open_page_checks_a_good_report_and_stores_nothing(client: TestClient, examples) -> None:
    page = client.get(upload(client, examples[GOOD].read_bytes()).headers["location"])
    assert "Filen är kontrollerad: inga fel." in page.text and "Filen har inte skickats till RAR" in page.text
    assert "sparades inte: bara kontrollerad" in page.text and "Inga fel och inga varningar." in page.text
    assert inbox_files(client) == [] and [r["mode"] for r in log_rows(client)] == ["check"]


def test_a_broken_report_lists_every_issue_as_validate_does_and_offers_the_annotated_copy(
    client: TestClient, examples
) -> None:
    page = client.get(send(client, examples[BROKEN].read_bytes(), BROKEN).headers["location"])
    assert "RAR har tagit emot filen, men den har fel som måste rättas." in page.text
    expected = read_report(examples[BROKEN])
    assert "Kontrollen: 2 fel, 1 varning" in page.text
    rows = page.text.split('<table class="issues">')[1].split("</table>")[0].split("<tr class=")[1:]
    assert len(rows) == len(expected.issues)
    for row, issue in zip(rows, expected.issues):
        escaped = issue.message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
        for part in (issue.sheet, issue.cell, issue.label, escaped):
            assert part is None or part in row, (part, row)
    link = page.text.split('class="button" href="')[1].split('"')[0]
    copy = client.get(link)
    assert copy.status_code == 200 and "attachment" in copy.headers["content-disposition"]
    target = Path(web(client).settings.state) / "nedladdad.xlsx"
    target.write_bytes(copy.content)
    listed = [row[5] for row in load_workbook(target)["Kontroll"].iter_rows(min_row=7, values_only=True)]
    assert listed == [issue.message for issue in expected.issues]


def test_receipts_and_copies_need_their_exact_token(client: TestClient, examples) -> None:
    token = upload(client, examples[GOOD].read_bytes()).headers["location"].rsplit("/", 1)[1]
    assert client.get(f"/kvitto/{token}").status_code == 200
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x", "..%2F..%2Fintake.sqlite3"):
        assert client.get(f"/kvitto/{wrong}").status_code == 404
        assert client.get(f"/kvitto/{wrong}/kontrollkopia").status_code == 404
    missing = client.get("/finns/inte")
    assert missing.status_code == 404 and "Sidan finns inte" in missing.text


def test_a_warning_is_received_and_the_same_file_again_is_stored_once(client: TestClient, examples) -> None:
    content = examples[WARNED].read_bytes()
    first = client.get(send(client, content, WARNED).headers["location"]).text
    assert "RAR har tagit emot rapporten." in first and "1 varning" in first
    again = client.get(send(client, content, WARNED).headers["location"]).text
    assert "Samma fil (samma innehåll) togs emot redan" in again
    assert len(inbox_files(client)) == 1 and len(log_rows(client)) == 2


def test_a_corrected_report_says_what_it_supersedes(client: TestClient, examples) -> None:
    send(client, examples[FIRST].read_bytes(), FIRST)
    page = client.get(send(client, examples[CORRECTED].read_bytes(), CORRECTED).headers["location"]).text
    assert "Rapporten ersätter tidigare uppladdning av samma insats" in page and FIRST in page


# --- refusals ------------------------------------------------------------------------------------------


def test_a_non_xlsx_is_refused_with_a_clear_message_and_not_stored(client: TestClient) -> None:
    answer = send(client, b"%PDF-1.4\n%%EOF\n", "rapport.pdf", GOOD)
    page = client.get(answer.headers["location"]).text
    assert "Filen togs inte emot." in page and "är en PDF" in page and "Ingen rapport har lämnats in" in page
    checked = client.get(upload(client, b"%PDF-1.4\n%%EOF\n", "rapport.pdf").headers["location"]).text
    assert "Filen kunde inte kontrolleras." in checked and "är en PDF" in checked
    assert inbox_files(client) == [] and [r["code"] for r in log_rows(client)] == ["pdf", "pdf"]
    [kept] = (web(client).settings.state / "avvisade").iterdir()  # the submission's bytes, not the check's
    assert kept.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("form", [
    {"data": {}, "files": None},  # the empty form: no file chosen, no field at all
    {"data": {}, "files": {"file": ("", b"")}},  # what a browser sends when no file was chosen
    {"data": {"file": "rapport.xlsx"}, "files": None},  # text where the file belongs
    {"data": {}, "files": {"fil": ("rapport.xlsx", b"PK")}},  # the wrong field
])
def test_an_upload_without_a_file_is_answered_and_logged(client: TestClient, form: dict[str, Any]) -> None:
    token = csrf_of(client.get("/").text)
    answer = client.post("/", data={"csrf_token": token, **form["data"]}, files=form["files"])
    assert answer.status_code == 400 and "Ingen fil kom med." in answer.text
    assert [r["code"] for r in log_rows(client)] == ["no_file"] and inbox_files(client) == []


def test_a_form_without_a_valid_csrf_token_is_refused(client: TestClient, examples) -> None:
    content = examples[GOOD].read_bytes()
    assert upload(client, content, token="").status_code == 403
    assert upload(client, content, token="0" * 64).status_code == 403
    other = TestClient(client.app)  # another browser's token does not fit this browser's cookie
    answer = upload(client, content, token=csrf_of(other.get("/").text))
    assert answer.status_code == 403 and "Ladda om sidan" in answer.text
    fresh = TestClient(client.app, follow_redirects=False)  # no cookie at all
    assert fresh.post("/", data={"csrf_token": csrf_of(client.get("/").text)},
                      files={"file": (GOOD, content)}).status_code == 403
    assert inbox_files(client) == [] and {r["code"] for r in log_rows(client)} == {"expired_form"}
    assert len(log_rows(client)) == 4
    assert upload(client, content).status_code == 303  # with the page's own token it goes through
    key = link_key(client, GOOD)  # the insats' own page: the same protection
    assert client.post(f"/insats/{key}", data={"csrf_token": "0" * 64}, files={"file": (GOOD, content)}).status_code == 403
    assert inbox_files(client) == [] and log_rows(client)[-1]["code"] == "expired_form"


def test_an_oversize_upload_is_refused_with_413_before_it_is_read(tmp_path: Path, examples) -> None:
    client = make_client(tmp_path, max_mb=0.05)  # 51 kB, and 16 kB for the form around the file
    content = examples[GOOD].read_bytes() * 4  # 80 kB
    answer = upload(client, content)
    assert answer.status_code == 413 and "Filen är större än 51 kB och togs inte emot." in answer.text
    api = api_send(client, content, GOOD)
    assert api.status_code == 413 and api.json()["receipt"]["code"] == "too_large"
    chunked = client.post("/api/uploads", content=iter([b"x" * 8000] * 10),  # no Content-Length
                          headers={"content-type": "multipart/form-data; boundary=x"})
    assert chunked.status_code == 413 and "content-length" not in chunked.request.headers
    # Between the file limit and the request limit the reader's own size check refuses it.
    between = api_send(client, content[:60_000], GOOD)
    assert between.status_code == 422 and between.json()["receipt"]["code"] == "file_too_large"
    assert inbox_files(client) == [] and [r["code"] for r in log_rows(client)] == ["too_large"] * 3 + [
        "file_too_large"]
    [kept] = (web(client).settings.state / "avvisade").iterdir()  # the 413s were never read, so never kept
    assert kept.stat().st_size == 60_000


def test_a_declared_oversize_body_is_answered_without_reading_a_byte(tmp_path: Path) -> None:
    app = make_client(tmp_path, max_mb=0.01).app
    scope = {"type": "http", "method": "POST", "path": "/api/uploads", "raw_path": b"/api/uploads",
             "root_path": "", "scheme": "http", "query_string": b"", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 5000), "http_version": "1.1", "asgi": {"version": "3.0"},
             "headers": [(b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", b"50000000")]}
    received: list[Any] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        received.append(1)
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413 and received == []
    assert json.loads(b"".join(m.get("body", b"") for m in sent[1:]))["receipt"]["outcome"] == "refused"


def test_escaping_of_file_names_and_cell_values(client: TestClient, tmp_path: Path) -> None:
    hostile = '<img src=x onerror="alert(1)">'
    answers = dict(ANSWERS[GOOD], initiative_name=f"Nyttiga {hostile}", women_actual=f"<b>{hostile}</b>",
                   case_number="<script>alert(2)</script>")
    report = write_template(tmp_path / "elak.xlsx", answers=answers)
    page = client.get(send(client, report.read_bytes(), f"{hostile}.xlsx", answers).headers["location"]).text
    assert "har fel" in page  # the count is not a number
    assert "<img" not in page and "<script>alert" not in page and "<b>" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page  # shown, as text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    login(client)
    rar = client.get("/rar").text
    assert "<img" not in rar and "<script>alert" not in rar and "&lt;script&gt;alert(2)&lt;/script&gt;" in rar
    insats = client.get("/rar/insats", params={"i": insats_of(answers).key}).text
    assert "<img" not in insats and "<script>alert" not in insats and "&lt;img src=x" in insats


def test_hostile_file_names_over_http(client: TestClient, examples) -> None:
    content = examples[GOOD].read_bytes()
    names = ["../../../utanfor.xlsx", "..\\..\\utanfor.xlsx", "a" * 1000 + ".xlsx", "rap\x00port\x1b.xlsx",
             "\u202eslx.exe"]
    for name in names:
        assert send(client, content, name, GOOD).status_code == 303
    [stored] = inbox_files(client)  # the same bytes every time: stored once, in the inbox itself
    assert stored.parent == web(client).settings.inbox and len(stored.name.encode()) < 200
    shown = [row["file_name"] for row in log_rows(client) if row["mode"] == "link"]
    assert shown[:2] == ["utanfor.xlsx", "utanfor.xlsx"] and len(shown[2]) == 255
    assert shown[3].endswith(".xlsx") and "\x00" not in shown[3] and "\x1b" not in shown[3]
    assert shown[4] == "slx.exe"
    # A name longer than a multipart header line may be (python-multipart: 4 kB) is a bad form.
    huge = send(client, content, "a" * 10_000 + ".xlsx", GOOD)
    assert huge.status_code == 400 and "Uppladdningen gick inte att läsa" in huge.text
    assert log_rows(client)[-1]["code"] == "bad_form"


# --- the JSON API ----------------------------------------------------------------------------------


def test_the_api_answers_with_the_receipt_and_the_readers_json(client: TestClient, examples) -> None:
    answer = api_send(client, examples[BROKEN].read_bytes(), BROKEN)
    assert answer.status_code == 201
    data = answer.json()
    assert data["result"] == {**read_report(examples[BROKEN]).to_json(), "file": BROKEN}  # validate --format json
    receipt = data["receipt"]
    assert receipt["outcome"] == "has_errors" and receipt["report_number"] == 3 and receipt["submitted"]
    assert receipt["insats"] == "2022-0013 Hälsa och arbete Eskilstuna"
    assert receipt["annotated_copy_url"] == f"/kvitto/{receipt['token']}/kontrollkopia"
    assert client.get(f"/api/uploads/{receipt['token']}").json() == data
    assert api_send(client, examples[BROKEN].read_bytes(), BROKEN).status_code == 200  # the same bytes again
    refused = api_send(client, b"a;b\n1;2\n", "x.xlsx", BROKEN)
    assert refused.status_code == 422 and refused.json()["result"]["issues"][0]["message"].startswith("Filen är en textfil")
    assert client.post("/api/uploads", data={"x": "y"}).status_code == 400
    assert client.get("/api/uploads/saknas").status_code == 404
    assert client.get("/api/uploads").status_code == 405


def test_an_upload_the_server_cannot_take_in_is_refused_in_swedish_with_a_log_row(client: TestClient, examples,
                                                                                   monkeypatch) -> None:
    """Issue 21: a full disk gave bare 500s without a log row. Whatever fails — the body's temporary
    file, the reader — the answer is a refusal with a Swedish reason, and the log has its row."""
    from starlette.requests import Request

    async def full_disk(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    def crash(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("ett fel i läsaren")

    content = examples[BROKEN].read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(Request, "form", full_disk)
        answer = api_send(client, content, BROKEN)
    assert answer.status_code == 422 and answer.json()["receipt"]["code"] == "storage_failed"
    assert "kunde inte spara filen" in answer.json()["result"]["issues"][0]["message"]
    with monkeypatch.context() as patch:
        patch.setattr("lagesrapport_xl.web.intake.read_checked", crash)
        answer = api_send(client, content, BROKEN)
    assert answer.status_code == 422 and answer.json()["receipt"]["code"] == "internal_error"
    assert "fel i servern" in answer.json()["result"]["issues"][0]["message"]
    intake = web(client).intake
    with intake.store.connect() as db:
        codes = [row[0] for row in db.execute("SELECT code FROM uploads ORDER BY id")]
    assert codes == ["storage_failed", "internal_error"] and not any(intake.inbox.iterdir())


def test_the_api_without_a_key_only_checks_and_with_a_wrong_key_refuses(client: TestClient, examples) -> None:
    content = examples[GOOD].read_bytes()
    checked = client.post("/api/uploads", files={"file": (GOOD, content)})
    assert checked.status_code == 200
    receipt = checked.json()["receipt"]
    assert not receipt["submitted"] and receipt["stored_name"] is None and receipt["verdict"] == "Filen är kontrollerad: inga fel."
    assert checked.json()["result"] == {**read_report(examples[GOOD]).to_json(), "file": GOOD}
    for wrong in ("Bearer " + "x" * 32, "Bearer ", "Bearer " + link_key(client, GOOD)[:-2]):
        answer = client.post("/api/uploads", files={"file": (GOOD, content)}, headers={"Authorization": wrong})
        assert answer.status_code == 401 and answer.json()["receipt"]["code"] == "bad_key"
        assert "Länken gäller inte" in answer.json()["result"]["issues"][0]["message"]
    assert inbox_files(client) == []
    assert [(r["mode"], r["code"]) for r in log_rows(client)] == [("check", None)] + [("link", "bad_key")] * 3


def test_every_corpus_file_over_http_is_stored_exactly_when_it_is_the_insats_form(tmp_path: Path) -> None:
    import corpus

    client = make_client(tmp_path / "server", guard=UNLIMITED)  # a hundred files in a minute through one link

    key = link_key(client, corpus.answers())
    insats = insats_of(corpus.answers())
    tally = {"stored": 0, "refused": 0, "other_insats": 0}
    for case in corpus.CASES:
        folder = tmp_path / case.name
        folder.mkdir()
        path = case.build(folder)
        answer = client.post("/api/uploads", files={"file": (path.name, path.read_bytes())},
                             headers={"Authorization": f"Bearer {key}"})
        expected = read_report(path)
        data = answer.json()
        form = bool(expected.values) and not expected.skipped
        theirs = form and insats.owns(expected.report.answers() if expected.report else expected.values)
        issues = data["result"]["issues"]
        if form and not theirs:  # the reader's issues, after the one that says whose link it is
            assert issues[0]["message"].startswith(f"Länken gäller insatsen {insats.title}"), case.name
            issues = issues[1:]
            tally["other_insats"] += 1
        assert issues == [issue.to_json() for issue in expected.issues], case.name
        assert answer.status_code in ((200, 201) if theirs else (422,)), case.name
        assert (data["receipt"]["stored_name"] is not None) == theirs, case.name
        if case.group == "typed" or case.expect in ("accepted", "warning"):
            assert form, case.name  # a typing mistake never costs the coordinator the upload
        if case.group == "hostile" or case.kind not in (None, "xlsx", "xlsm"):
            assert not form, case.name  # never a non-workbook or a hostile file in the inbox
        tally["stored" if theirs else "refused"] += 1
    assert tally["stored"] > 60 and tally["refused"] > 30 and tally["other_insats"] < 5
    stored = {row["stored_name"] for row in log_rows(client) if row["stored_name"]}
    assert {p.name for p in inbox_files(client)} == stored  # every stored file, nothing else
    assert len(log_rows(client)) == len(corpus.CASES)


# --- RAR's page -----------------------------------------------------------------------------------------


def test_rar_needs_a_login_and_the_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    assert client.get("/rar").headers["location"] == "/rar/login"
    assert client.get("/rar/status.json").status_code == 401
    wrong = login(client, "fel")
    assert wrong.status_code == 401 and "Fel användarnamn eller lösenord" in wrong.text
    assert SESSION_COOKIE not in client.cookies
    answer = login(client)
    assert answer.status_code == 303 and answer.headers["location"] == "/rar"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Max-Age=28800" in cookie and "Secure" not in cookie
    assert client.get("/rar").status_code == 200
    assert client.get("/rar/login").headers["location"] == "/rar"  # already logged in


def test_logout_ends_the_session_for_good(client: TestClient) -> None:
    login(client)
    stolen = client.cookies[SESSION_COOKIE]
    page = client.get("/rar").text
    assert client.post("/rar/logout", data={}).status_code == 403  # a form without its token
    assert client.post("/rar/logout", data={"csrf_token": csrf_of(page)}).headers["location"] == "/rar/login"
    again = TestClient(client.app, follow_redirects=False, cookies={SESSION_COOKIE: stolen})
    assert again.get("/rar").status_code == 303


def test_with_https_every_cookie_is_secure(tmp_path: Path) -> None:
    client = make_client(tmp_path, https=True)
    assert "Secure" in client.get("/").headers["set-cookie"]
    client.cookies.clear()
    token = csrf_of(client.get("https://testserver/rar/login").text)
    answer = client.post("https://testserver/rar/login", data={"csrf_token": token, "username": "kansli",
                                                               "password": PASSWORD})
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_login_needs_its_csrf_token_and_repeated_failures_lock_the_client_out(client: TestClient) -> None:
    client.get("/rar/login")
    assert client.post("/rar/login", data={"password": PASSWORD}).status_code == 403
    attempts = web(client).settings.guard.login_failures_per_address
    for _ in range(attempts):
        assert login(client, "gissning").status_code == 401
    locked = login(client)  # even the right password, until the window has passed
    assert locked.status_code == 429 and "För många felaktiga försök från din adress" in locked.text
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    assert SESSION_COOKIE not in client.cookies


def test_without_an_account_rars_page_is_closed(tmp_path: Path) -> None:
    settings = build_settings(tmp_path / "inkorg", environ={})
    client = TestClient(create_app(settings), follow_redirects=False)
    page = client.get("/rar/login")
    assert "det finns inget konto" in page.text and 'type="password"' not in page.text
    token = csrf_of(client.get("/").text)
    assert client.post("/rar/login", data={"csrf_token": token, "username": "kansli", "password": ""}).status_code == 403


def test_rars_page_shows_each_register_row_with_its_state_and_last_upload(
    tmp_path: Path, examples
) -> None:
    register = register_file(tmp_path)
    client = make_client(tmp_path, register=register)
    for name in (FIRST, CORRECTED, BROKEN, WARNED, "Unga_vuxna_i_Flen_rapport_2.xlsx"):
        api_send(client, examples[name].read_bytes(), name)
    api_send(client, b"inte en rapport", "anteckningar.xlsx", GOOD)
    client.post("/api/uploads", files={"file": (GOOD, examples[GOOD].read_bytes())})  # a check: not counted
    login(client)
    status = client.get("/rar/status.json").json()
    rows, _problems = read_register(register)
    expected = register_coverage(by_command(client).files, rows)
    assert [(r["row"], r["state_text"]) for r in status["rows"]] == [(r.row, r.state.value) for r in expected.rows]
    assert [r["state"] for r in status["rows"]] == ["received", "rejected", "missing", "received", "missing"]
    steget, halsa, nyttiga, unga, new = status["rows"]
    assert steget["accepted"].endswith(CORRECTED) and steget["superseded"][0].endswith(FIRST)
    assert halsa["rejected"][0].endswith(BROKEN) and nyttiga["other_periods"][0].endswith("rapport_4.xlsx")
    assert steget["last_upload"] and halsa["last_upload"] and nyttiga["last_upload"] and new["last_upload"] is None
    assert status["states"] == {"received": 2, "rejected": 1, "missing": 2}
    assert status["uploads"] == {"uploads": 6, "received": 4, "has_errors": 1, "refused": 1, "duplicates": 0,
                                 "stored": 5, "checks": 1, "found": 0}
    assert [r["review"] for r in status["rows"]] == ["Ny", None, None, "Ny", None]
    assert status["files"]["found"] == 5 and status["unmatched"] == []
    page = client.get("/rar").text
    for text in ("<strong>2</strong> Inkommen", "<strong>1</strong> Bara avvisade filer", "<strong>2</strong> Saknas",
                 "register.csv", "Ny insats", "Kontroller utan länk (sparas inte): 1"):
        assert text in page
    assert str(web(client).settings.inbox) not in page


def test_without_a_register_the_page_lists_the_insatser_of_the_inbox(client: TestClient, examples) -> None:
    for name in (FIRST, CORRECTED, BROKEN):
        api_send(client, examples[name].read_bytes(), name)
    login(client)
    status = client.get("/rar/status.json").json()
    assert not status["from_register"]
    assert [(r["initiative_name"], r["report_number"], r["state"]) for r in status["rows"]] == [
        ("Hälsa och arbete Eskilstuna", 3, "rejected"),
        ("Steget vidare Katrineholm", 2, "received"),
    ]
    assert status["rows"][1]["period_end"] == "2022-08-31"
    assert "servern startades utan register" in client.get("/rar").text


def test_the_master_button_downloads_what_lagesrapport_consolidate_writes(
    client: TestClient, examples, tmp_path: Path
) -> None:
    for name in (FIRST, CORRECTED, BROKEN, GOOD, WARNED):
        api_send(client, examples[name].read_bytes(), name)
    assert client.post("/rar/sammanstallning", data={}).headers["location"] == "/rar/login"
    login(client)
    assert client.post("/rar/sammanstallning", data={"csrf_token": "fel"}).status_code == 403
    answer = client.post("/rar/sammanstallning", data={"csrf_token": csrf_of(client.get("/rar").text),
                                                       "urval": "alla"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    downloaded = unpacked_master(answer.content, tmp_path / "nedladdad")
    by_command = tmp_path / "kommandot.xlsx"
    settings = web(client).settings
    assert cli_main(["consolidate", str(settings.inbox), "-o", str(by_command), "-q", "--state",
                     str(settings.state)]) == 0
    assert cell_values(downloaded) == cell_values(by_command)
    written = list((web(client).settings.state / "sammanstallningar").iterdir())
    assert len(written) == 2 and not any(path.is_relative_to(web(client).settings.inbox) for path in written)
    assert sorted(path.suffix for path in written) == [".xlsx", ".zip"]


def test_with_a_register_the_master_button_writes_what_consolidate_register_writes(
    tmp_path: Path, examples
) -> None:
    """The Kontroll sheet of the downloaded master has the register's table, and Om lists the
    register with its checksum, as `lagesrapport consolidate INBOX --register R` writes them."""
    register = register_file(tmp_path)
    client = make_client(tmp_path, register=register)
    for name in (FIRST, CORRECTED, BROKEN, "Unga_vuxna_i_Flen_rapport_2.xlsx"):
        api_send(client, examples[name].read_bytes(), name)
    login(client)
    answer = client.post("/rar/sammanstallning", data={"csrf_token": csrf_of(client.get("/rar").text),
                                                       "urval": "alla"})
    downloaded = unpacked_master(answer.content, tmp_path / "nedladdad")
    by_command = tmp_path / "kommandot.xlsx"
    settings = web(client).settings
    assert cli_main(["consolidate", str(settings.inbox), "-o", str(by_command), "-q", "--register", str(register),
                     "--state", str(settings.state)]) == 0
    assert cell_values(downloaded) == cell_values(by_command)
    kontroll = [row for row in cell_values(downloaded)["Kontroll"] if row and row[1] in ("Saknas", "Inkommen")]
    reviewed = [row for row in cell_values(downloaded)["Kontroll"] if row and len(row) > 2 and row[2] == "Ny"]
    assert len(reviewed) == 2  # the review column: Steget's and Unga's counted reports, not yet reviewed
    assert len(kontroll) == 4  # Steget and Unga received, Nyttiga 5 and Ny insats missing
    om = [row for row in cell_values(downloaded)["Om"] if row and row[-1] == "Register över insatser"]
    assert len(om) == 1 and om[0][0] == str(register) and om[0][3] == sha256(register)


def test_the_master_button_on_an_empty_inbox(client: TestClient) -> None:
    login(client)
    answer = client.post("/rar/sammanstallning", data={"csrf_token": csrf_of(client.get("/rar").text)})
    assert answer.status_code == 404 and "Inkorgen är tom" in answer.text


def unpacked_master(content: bytes, folder: Path) -> Path:
    """The master button's zip unpacked into `folder`; the master workbook in it."""
    folder.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(content)) as packed:
        packed.extractall(folder)
    [master] = folder.glob("*.xlsx")
    return master


_LINK_FOLDER = re.compile(r'HYPERLINK\("[^"#]*/')


def cell_values(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's values, the run's own time (Om: Körd) left out: it is when each was written.
    A link's folder is left out too: the zip's master links to its own copies of the files, the
    command's master to the inbox (both links' file name and cell are kept)."""
    with warnings.catch_warnings():  # openpyxl skips the master's conditional-format extensions, not values
        warnings.simplefilter("ignore", UserWarning)
        workbook = load_workbook(path)
    sheets = {}
    for sheet in workbook.worksheets:
        rows = []
        for row in sheet.iter_rows(values_only=True):
            if row and row[0] == "Körd" and isinstance(row[1], dt.datetime):
                continue
            rows.append(tuple(_LINK_FOLDER.sub('HYPERLINK("', v) if isinstance(v, str) else v for v in row))
        sheets[sheet.title] = rows
    return sheets


def test_links_follow_the_root_path_behind_a_proxy(tmp_path: Path, examples) -> None:
    settings = build_settings(tmp_path / "inkorg", environ={"LAGESRAPPORT_PASSWORD": PASSWORD}, login_delay=0,
                              register=register_file(tmp_path))
    client = TestClient(create_app(settings), root_path="/lagesrapport", follow_redirects=False)
    page = client.get("/lagesrapport/")
    assert 'action="/lagesrapport/"' in page.text and 'href="/lagesrapport/static/style.css"' in page.text
    assert "Path=/lagesrapport" in page.headers["set-cookie"]
    answer = client.post("/lagesrapport/", data={"csrf_token": csrf_of(page.text)},
                         files={"file": (GOOD, examples[GOOD].read_bytes())})
    assert answer.headers["location"].startswith("/lagesrapport/kvitto/")
    key = link_key(client, GOOD)
    own = client.get(f"/lagesrapport/insats/{key}")
    assert f'action="/lagesrapport/insats/{key}"' in own.text and f'href="/lagesrapport/insats/{key}/mall"' in own.text
    answer = client.post(f"/lagesrapport/insats/{key}", data={"csrf_token": csrf_of(own.text)},
                         files={"file": (GOOD, examples[GOOD].read_bytes())})
    assert answer.headers["location"].startswith(f"/lagesrapport/insats/{key}/kvitto/")
