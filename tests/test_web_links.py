"""A link per insats, and only the insats submits for itself (issue 20, points 1 and 2).

The attack of the issue, replayed: a copy of Nyttiga affärer's report 4 with altered answers and
signing date 2099-12-31, sent after the genuine one — to the open page, to the API without a key,
with another insats' key, through a cross-site form, and through the insats' own link — changes
nothing RAR's page or the master shows; the coordinator's own correction then counts, and so does
the genuine file sent again. Then the links themselves: secret, hashed, revocable, re-issuable; the
insats' page with its template, uploads, receipts and copies; the utskick list.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient
from test_web_http import cell_values, inbox_files, log_rows, make_client, unpacked_master, web
from webtools import ANSWERS, CORRECTED, FIRST, GOOD, PASSWORD, WARNED, csrf_of, examples, link_key, login, send  # noqa: F401

from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.template.writer import write_template
from lagesrapport_xl.web import keys
from lagesrapport_xl.web.accounts import Role, add

REGISTER = "\n".join([
    "Diarienummer hos RAR;Insatsens namn;Lägesrapport nr;Kontaktperson;E-post",
    "2020-0042;Nyttiga affärer;4;Eva Ek;eva.ek@flen.se",
    "2021-0007;Steget vidare Katrineholm;2;Bo Berg;bo.berg@katrineholm.se",
    "2022-0013;Hälsa och arbete Eskilstuna;3;;",
]) + "\n"


@pytest.fixture()
def client(tmp_path: Path) -> TestClient:
    register = tmp_path / "register.csv"
    register.write_text(REGISTER, encoding="utf-8")
    return make_client(tmp_path, register=register)


def what_rar_sees(client: TestClient, tmp_path: Path, name: str) -> tuple[Any, ...]:
    """RAR's page (rows, states, files; not the counts of attempts) and the master's cells."""
    login(client)
    status = client.get("/rar/status.json").json()
    token = csrf_of(client.get("/rar").text)
    answer = client.post("/rar/sammanstallning", data={"csrf_token": token, "urval": "alla"})
    master = unpacked_master(answer.content, tmp_path / name)
    client.cookies.delete("lagesrapport_rar")
    sheets = cell_values(master)
    sheets.pop("Om")  # the run's own time and inputs
    return status["rows"], status["states"], status["files"], sheets


def forged(tmp_path: Path) -> bytes:
    """Nyttiga affärer's report 4 with altered answers and a signing date far in the future."""
    answers = dict(ANSWERS[WARNED], deviations="Inga avvikelser alls, allt gick utmärkt.", women_actual=99,
                   signed_date=dt.date(2099, 12, 31))
    return write_template(tmp_path / "forfalskad.xlsx", answers=answers).read_bytes()


def test_a_forged_upload_changes_nothing_rar_sees(client: TestClient, examples, tmp_path: Path) -> None:
    genuine = examples[WARNED].read_bytes()
    assert send(client, genuine, WARNED).status_code == 303  # the insats' own report 4, through its link
    other = link_key(client, CORRECTED)  # Steget vidare's key
    before = what_rar_sees(client, tmp_path, "fore")
    stored = sorted(p.name for p in inbox_files(client))
    fake = forged(tmp_path)
    # 1. The open page: checked, stored nowhere.
    token = csrf_of(client.get("/").text)
    page = client.get(client.post("/", data={"csrf_token": token}, files={"file": (WARNED, fake)})
                      .headers["location"]).text
    assert "Filen har inte skickats till RAR" in page
    # 2. The API without a key: a check.
    assert client.post("/api/uploads", files={"file": (WARNED, fake)}).json()["receipt"]["submitted"] is False
    # 3. Another insats' key, through the API and through its page: refused, naming whose link it is.
    answer = client.post("/api/uploads", files={"file": (WARNED, fake)}, headers={"Authorization": f"Bearer {other}"})
    assert answer.status_code == 422 and answer.json()["receipt"]["code"] == "wrong_insats"
    assert answer.json()["result"]["issues"][0]["message"].startswith(
        "Länken gäller insatsen 2021-0007 Steget vidare Katrineholm, men filen är rapporten för 2020-0042 Nyttiga affärer.")
    refused = client.get(send(client, fake, WARNED, CORRECTED).headers["location"]).text
    assert "Filen togs inte emot." in refused and "Länken gäller insatsen 2021-0007 Steget vidare Katrineholm" in refused
    # 4. A form on another site posting to the API: no key can come with it, so it is a check.
    cross = client.post("/api/uploads", files={"file": (WARNED, fake)},
                        headers={"Origin": "https://elak.example", "Referer": "https://elak.example/"})
    assert cross.status_code == 200 and cross.json()["receipt"]["stored_name"] is None
    assert what_rar_sees(client, tmp_path, "efter") == before  # a stranger changed nothing
    assert sorted(p.name for p in inbox_files(client)) == stored
    # 5. Even the insats itself cannot win with a date: a signing date after the day of receipt is an error.
    own = client.get(send(client, fake, WARNED).headers["location"]).text
    assert "RAR har tagit emot filen, men den har fel som måste rättas." in own and "efter dagen RAR tog emot den" in own
    rows, _states, _files, _sheets = what_rar_sees(client, tmp_path, "egen")
    assert rows[0]["accepted"] == before[0][0]["accepted"] and len(rows[0]["rejected"]) == 1
    # The coordinator's own correction, signed today, counts; so does the genuine file sent again.
    correction = dict(ANSWERS[WARNED], deviations="Rättad: en avvikelse i oktober.", signed_date=dt.date.today())
    corrected = write_template(tmp_path / "rattad.xlsx", answers=correction).read_bytes()
    send(client, corrected, "rattad.xlsx", WARNED)
    login(client)
    [row] = [r for r in client.get("/rar/status.json").json()["rows"] if r["case_number"] == "2020-0042"]
    assert row["accepted"].endswith("rattad.xlsx")
    again = client.get(send(client, genuine, WARNED).headers["location"]).text
    assert "Samma fil (samma innehåll) togs emot redan" in again and "Rapporten ersätter tidigare" in again
    [row] = [r for r in client.get("/rar/status.json").json()["rows"] if r["case_number"] == "2020-0042"]
    assert row["accepted"] == before[0][0]["accepted"]


def test_a_cross_site_api_post_without_a_key_stores_nothing_even_from_a_logged_in_browser(
    client: TestClient, examples
) -> None:
    login(client)  # RAR's browser, logged in, visits another site that posts to the API
    answer = client.post("/api/uploads", files={"file": (GOOD, examples[GOOD].read_bytes())},
                         headers={"Origin": "https://elak.example"})
    assert answer.status_code == 200 and not answer.json()["receipt"]["submitted"]
    assert inbox_files(client) == [] and [r["mode"] for r in log_rows(client)] == ["check"]


# --- the links -----------------------------------------------------------------------------------


def test_a_link_key_is_random_stored_only_as_a_hash_revocable_and_reissuable(client: TestClient) -> None:
    store = web(client).store
    insats = keys.Insats.of(ANSWERS[GOOD])
    first, first_id = keys.issue(store, insats, "anna")
    assert len(first) >= 32 and len(set(first)) > 10  # 192 random bits, URL-safe base64
    with store.connect() as db:
        dump = "\n".join(db.iterdump())
    assert first not in dump and keys._digest(first) in dump
    assert keys.lookup(store, first) == keys.Insats("dnr:2020-0042", "2020-0042", "Nyttiga affärer", first_id)
    assert client.get(f"/insats/{first}").status_code == 200
    second, _ = keys.issue(store, insats, "anna")  # a new link revokes the old one
    assert keys.lookup(store, first) is None and keys.lookup(store, second) is not None
    page = client.get(f"/insats/{first}")
    assert page.status_code == 404 and "Länken gäller inte" in page.text
    assert keys.revoke(store, insats, "anna") == 1 and keys.lookup(store, second) is None
    for wrong in ("", "kort", "../../intake.sqlite3", second.upper()):
        assert keys.lookup(store, wrong) is None
    answer = client.post("/api/uploads", files={"file": ("x.xlsx", b"x")}, headers={"Authorization": f"Bearer {second}"})
    assert answer.status_code == 401


def test_the_insats_page_offers_its_template_and_lists_its_uploads_with_receipts_and_copies(
    client: TestClient, examples, tmp_path: Path
) -> None:
    key = link_key(client, FIRST)
    page = client.get(f"/insats/{key}").text
    assert "Lägesrapporter för 2021-0007 Steget vidare Katrineholm" in page
    assert "Inga rapporter har skickats genom länken ännu." in page and "RAR:s granskning" in page
    template = client.get(f"/insats/{key}/mall")
    assert template.headers["content-disposition"] == 'attachment; filename="2021-0007_Steget_vidare_Katrineholm_rapport_2.xlsx"'
    path = tmp_path / "mall.xlsx"
    path.write_bytes(template.content)
    values = read_report(path).values
    assert (values["case_number"], values["initiative_name"], values["report_number"]) == (
        "2021-0007", "Steget vidare Katrineholm", 2)
    for name in (FIRST, CORRECTED):
        send(client, examples[name].read_bytes(), name)
    send(client, b"inte en rapport", "anteckningar.xlsx", FIRST)
    page = client.get(f"/insats/{key}").text
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert [CORRECTED in rows[0], FIRST in rows[1]] == [True, True]
    assert "Gäller" in rows[0] and "Ersatt av en senare uppladdning" in rows[1] and "Ny" in rows[0]
    receipts = [part.split('"')[0] for part in page.split(f'href="/insats/{key}/kvitto/')[1:]]
    assert len(receipts) == 3  # two versions and the refused file
    assert all(client.get(f"/insats/{key}/kvitto/{token}").status_code == 200 for token in receipts)
    assert "Filer som inte togs emot" in page and "anteckningar.xlsx" in page
    copies = [part.split('"')[0] for part in page.split('href="/kvitto/')[1:]]
    assert copies and all(client.get(f"/kvitto/{copy}").status_code == 200 for copy in copies)
    # A receipt of another insats is not shown under this link.
    other = send(client, examples[GOOD].read_bytes(), GOOD).headers["location"].rsplit("/", 1)[1]
    assert client.get(f"/insats/{key}/kvitto/{other}").status_code == 404
    assert str(web(client).settings.inbox) not in page


def test_the_utskick_list_issues_links_with_contacts_and_template_names(client: TestClient) -> None:
    add(web(client).store, "ekonomen", Role.EKONOMI, "ekonomins långa lösenord", by="test")
    login(client, "ekonomins långa lösenord", "ekonomen")
    token = csrf_of(client.get("/rar").text)
    assert "Skapa länkar och ladda ner utskickslistan" not in client.get("/rar").text
    assert client.post("/rar/utskick", data={"csrf_token": token, "urval": "alla"}).status_code == 403
    client.cookies.clear()
    login(client)
    token = csrf_of(client.get("/rar").text)
    answer = client.post("/rar/utskick", data={"csrf_token": token, "urval": "alla"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        names = sorted(archive.namelist())
        text = archive.read(names[0]).decode("utf-8-sig")
        workbook = load_workbook(io.BytesIO(archive.read(names[1])))
    assert [Path(n).suffix for n in names] == [".csv", ".xlsx"]
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Diarienummer", "Insats", "Kontaktperson", "E-post", "Länk", "Mall"]
    assert [tuple(cell.value or "" for cell in row) for row in workbook["Utskick"].iter_rows()] == [tuple(r) for r in rows]
    nyttiga, steget, halsa = rows[1:]
    assert nyttiga[:4] == ["2020-0042", "Nyttiga affärer", "Eva Ek", "eva.ek@flen.se"]
    assert nyttiga[5] == "2020-0042_Nyttiga_affarer_rapport_4.xlsx" and halsa[2:4] == ["", ""]
    assert all(row[4].startswith("http://testserver/insats/") for row in rows[1:])
    for row in rows[1:]:  # each link opens its insats' page
        assert f"för {row[0]} {row[1]}" in client.get(row[4].removeprefix("http://testserver")).text
    # Only the insatser without a link: none now; after one is revoked, that one.
    keys.revoke(web(client).store, keys.Insats.of({"case_number": "2021-0007"}), "test")
    answer = client.post("/rar/utskick", data={"csrf_token": token, "urval": "nya"})
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        only = list(csv.reader(io.StringIO(archive.read(sorted(archive.namelist())[0]).decode("utf-8-sig")), delimiter=";"))
    assert [row[0] for row in only[1:]] == ["2021-0007"]
    assert client.get(steget[4].removeprefix("http://testserver")).status_code == 404  # the first list's link
    assert client.get(only[1][4].removeprefix("http://testserver")).status_code == 200


def test_the_kansli_makes_a_new_link_on_the_insats_page_and_it_is_shown_once(client: TestClient) -> None:
    old = link_key(client, GOOD)
    login(client)
    page = client.get("/rar/insats", params={"i": "dnr:2020-0042"}).text
    assert "Insatsen har en länk, utfärdad" in page and old not in page  # the page never shows a link
    shown = client.post("/rar/lank", data={"csrf_token": csrf_of(page), "i": "dnr:2020-0042"}).text
    link = shown.split('readonly value="')[1].split('"')[0]
    assert link.startswith("http://testserver/insats/") and "Länken visas bara nu." in shown
    assert client.get(link.removeprefix("http://testserver")).status_code == 200
    assert client.get(f"/insats/{old}").status_code == 404
    assert link.rsplit("/", 1)[1] not in client.get("/rar/insats", params={"i": "dnr:2020-0042"}).text
    client.post("/rar/lank/aterkalla", data={"csrf_token": csrf_of(page), "i": "dnr:2020-0042"})
    assert client.get(link.removeprefix("http://testserver")).status_code == 404
    assert "Insatsen har ingen giltig länk" in client.get("/rar/insats", params={"i": "dnr:2020-0042"}).text


def test_the_servers_access_log_never_holds_a_link_key() -> None:
    import logging

    from lagesrapport_xl.cli.serve_cmd import HideLinkKeys

    secret = keys.new_key()
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/lagesrapport/insats/{secret}/mall", "1.1", 200), None)
    assert HideLinkKeys().filter(record) and secret not in record.getMessage()
    assert '"GET /lagesrapport/insats/…/mall HTTP/1.1" 200' in record.getMessage()


# --- the coordinator's loop: the template points back to the server (issue 22.4) -------------------


def instruction_text(content: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    sheet = load_workbook(path)["Instruktioner"]
    return " ".join(str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value)


def test_the_check_page_links_the_blank_template_which_points_back_to_the_server(
    client: TestClient, tmp_path: Path
) -> None:
    page = client.get("/").text
    assert 'href="/mall"' in page and "ladda ner den tomma mallen" in page
    blank = client.get("/mall")
    assert blank.status_code == 200 and blank.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert blank.headers["content-disposition"] == 'attachment; filename="lagesrapport_mall.xlsx"'
    text = instruction_text(blank.content, tmp_path, "tom.xlsx")
    # No [template] upload_url in rar.toml: the server's own address, never e-mail; no add-in, no button.
    assert "http://testserver" in text and "via e-post" not in text and "Validera" not in text
    assert read_report(tmp_path / "tom.xlsx").issues[0].code == "required_missing"  # the real form, empty
    assert client.get("/mall").content == blank.content  # the same bytes every time
    key = link_key(client, FIRST)
    insats = instruction_text(client.get(f"/insats/{key}/mall").content, tmp_path, "insats.xlsx")
    assert "http://testserver" in insats and key not in insats  # the link's key is never written into a file


def test_rar_toml_gives_the_upload_address_and_the_button(tmp_path: Path) -> None:
    from lagesrapport_xl.common.config import template_options

    config = tmp_path / "rar.toml"
    config.write_text('[template]\nupload_url = "https://rapport.rar-sormland.se/"\nexcel_buttons = true\n',
                      encoding="utf-8")
    client = make_client(tmp_path, template=template_options(config))
    text = instruction_text(client.get("/mall").content, tmp_path, "mall.xlsx")
    assert "https://rapport.rar-sormland.se" in text and "testserver" not in text
    assert "Knappen Validera" in text


def test_the_receipt_page_lists_an_amount_as_its_message_writes_it(client: TestClient, tmp_path: Path) -> None:
    answers = dict(ANSWERS[GOOD])
    answers["budget_travel_actual_cumulative"] = answers["budget_travel_actual_period"] - 100
    content = write_template(tmp_path / "rapport.xlsx", answers=answers).read_bytes()
    token = csrf_of(client.get("/").text)
    answer = client.post("/", data={"csrf_token": token}, files={"file": ("rapport.xlsx", content)})
    page = client.get(answer.headers["location"]).text
    amount = int(answers["budget_travel_actual_cumulative"])
    shown = f"{amount:,}".replace(",", "\u00a0") + "\u00a0kr"
    assert f"<td>{shown}</td>" in page and f"<td>{amount}</td>" not in page
