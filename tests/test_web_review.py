"""RAR's review over HTTP (issue 20, point 4), as one half year runs: links out, the template
downloaded and filled, the report sent, Komplettering begärd with a comment that points at
questions, the coordinator reading it, a corrected version, what changed question by question,
approval, and the master of approved reports — the same as `consolidate --state --approved-only`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from starlette.testclient import TestClient
from test_web_http import cell_values, make_client, unpacked_master, web
from webtools import ANSWERS, CORRECTED, FIRST, GOOD, csrf_of, examples, login, register_file, send  # noqa: F401

from lagesrapport_dev.fill import fill_workbook
from lagesrapport_xl.cli import main as cli_main
from lagesrapport_xl.form.spec import default_spec
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.web.diff import changes

STEGET = "dnr:2021-0007"


def links_from_utskick(client: TestClient) -> dict[str, str]:
    """Press "Skapa länkar …" on RAR's page: diarienummer → the link's path."""
    answer = client.post("/rar/utskick", data={"csrf_token": csrf_of(client.get("/rar").text), "urval": "alla"})
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        text = archive.read(next(n for n in archive.namelist() if n.endswith(".csv"))).decode("utf-8-sig")
    return {row[0]: row[4].removeprefix("http://testserver") for row in list(csv.reader(io.StringIO(text), delimiter=";"))[1:]}


def review(client: TestClient, token: str, state: str, comment: str = "", questions: tuple[str, ...] = ()):
    page = client.get("/rar/insats", params={"i": STEGET}).text
    return client.post("/rar/granskning", data={"csrf_token": csrf_of(page), "i": STEGET, "kvitto": token,
                                                "granskning": state, "kommentar": comment, "fragor": list(questions)})


def version_token(page: str, file_name: str) -> str:
    """The receipt token of the version sent as `file_name`, from the insats' page on RAR's side."""
    section = next(part for part in page.split('<section class="version">')[1:] if f": {file_name} –" in part)
    return section.split('href="/kvitto/')[1].split('"')[0]


def test_a_half_year_of_review_over_http(tmp_path: Path, examples) -> None:
    client = make_client(tmp_path, register=register_file(tmp_path))
    coordinator = TestClient(client.app, follow_redirects=False)  # another browser
    login(client)
    link = links_from_utskick(client)["2021-0007"]

    # The coordinator downloads the insats' template, fills it in and sends it.
    template = coordinator.get(f"{link}/mall")
    assert 'filename="2021-0007_Steget_vidare_Katrineholm_rapport_2.xlsx"' in template.headers["content-disposition"]
    (tmp_path / "mall.xlsx").write_bytes(template.content)
    filled = fill_workbook(tmp_path / "mall.xlsx", tmp_path / "Steget_2.xlsx", ANSWERS[FIRST])
    page = coordinator.get(link).text
    sent = coordinator.post(link, data={"csrf_token": csrf_of(page)},
                            files={"file": ("Steget_2.xlsx", filled.read_bytes())})
    assert "RAR har tagit emot rapporten." in coordinator.get(sent.headers["location"]).text

    # RAR asks for more: a comment is required, and it may point at questions.
    insats_page = client.get("/rar/insats", params={"i": STEGET}).text
    assert "Granskning: <strong>Ny</strong>" in insats_page
    first = version_token(insats_page, "Steget_2.xlsx")
    refused = review(client, first, "supplement")
    assert refused.status_code == 400 and "en kommentar krävs när komplettering begärs" in refused.text
    asked = review(client, first, "supplement", "Resekostnaderna för studiebesöken saknas.",
                   ("budget_travel_actual_period", "deviations"))
    assert asked.status_code == 303
    assert client.get("/rar/status.json").json()["reviews"] == {"new": 0, "approved": 0, "supplement": 1}
    filtered = client.get("/rar", params={"granskning": "komplettering"}).text
    assert "Steget vidare Katrineholm" in filtered and "Unga vuxna i Flen" not in filtered
    assert "(1 av 5)" in filtered

    # The coordinator reads the comment, with each question's cell.
    spec = default_spec()
    travel, deviations = spec.fields["budget_travel_actual_period"], spec.fields["deviations"]
    page = coordinator.get(link).text
    assert "Lägesrapport nr 2: Komplettering begärd" in page and "Resekostnaderna för studiebesöken saknas." in page
    assert f"{travel.sheet}!{travel.cell} – {travel.label}" in page
    assert f"{deviations.sheet}!{deviations.cell} – {deviations.label}" in page

    # The corrected version: RAR sees what changed, question by question, before approving.
    coordinator.post(link, data={"csrf_token": csrf_of(page)}, files={"file": (CORRECTED, examples[CORRECTED].read_bytes())})
    insats_page = client.get("/rar/insats", params={"i": STEGET}).text
    second = version_token(insats_page, CORRECTED)
    assert "Kompletteringen: ändringar mot versionen mottagen" in insats_page
    table = insats_page.split('<table class="issues changes">')[1].split("</table>")[0]
    expected = changes(read_report(filled).report.answers(), ANSWERS[CORRECTED], spec)
    assert {c.field for c in expected} == {"budget_travel_actual_period", "budget_travel_actual_cumulative",
                                          "financing_rar_actual_period", "financing_rar_actual_cumulative",
                                          "deviations", "signed_date"}
    rows = table.split("<tbody>")[1].split("<tr>")[1:]
    assert len(rows) == len(expected)
    for row, change in zip(rows, expected):
        assert change.where in row and change.old.replace("\xa0", "\xa0") in row and change.new[:30] in row
    assert "20\xa0000" in table and "21\xa0200" in table  # the travel costs, before and now
    assert client.get("/rar/status.json").json()["reviews"] == {"new": 1, "approved": 0, "supplement": 0}
    assert review(client, second, "approved").status_code == 303
    assert "Lägesrapport nr 2: Godkänd" in coordinator.get(link).text

    # The board's master: approved reports only, the same as the command's.
    for name in (GOOD, "Unga_vuxna_i_Flen_rapport_2.xlsx"):  # counted, not reviewed: left out
        send(client, examples[name].read_bytes(), name)
    answer = client.post("/rar/sammanstallning", data={"csrf_token": csrf_of(client.get("/rar").text),
                                                       "urval": "godkanda"})
    downloaded = unpacked_master(answer.content, tmp_path / "styrelsen")
    settings = web(client).settings
    by_command = tmp_path / "kommandot.xlsx"
    assert cli_main(["consolidate", str(settings.inbox), "-o", str(by_command), "-q", "--state", str(settings.state),
                     "--approved-only", "--register", str(settings.register)]) == 0
    sheets = cell_values(downloaded)
    assert sheets == cell_values(by_command)
    overview_rows = [row for row in sheets["Översikt"] if row and row[0] in ("2021-0007", "2020-0042", "2021-0021")]
    assert [row[0] for row in overview_rows] == ["2021-0007"]
    review_column = {row[0].split("_", 2)[-1]: row[2] for row in sheets["Kontroll"]
                     if row and isinstance(row[0], str) and row[0].endswith(".xlsx") and row[1] in ("Godkänd", "Ersatt")}
    assert review_column[CORRECTED] == "Godkänd" and review_column["Steget_2.xlsx"] == "Komplettering begärd"
    assert review_column[GOOD] == "Ny – inte med i sammanställningen (bara godkända rapporter)"

    # The next period's template is rolled forward from the approved report.
    following = coordinator.get(f"{link}/mall")
    assert 'filename="2021-0007_Steget_vidare_Katrineholm_rapport_3.xlsx"' in following.headers["content-disposition"]
    (tmp_path / "nasta.xlsx").write_bytes(following.content)
    assert read_report(tmp_path / "nasta.xlsx").values["report_number"] == 3
    history = client.get("/rar/insats", params={"i": STEGET}).text
    assert "framförd från lägesrapport nr 2" in history
    assert [line.split("<strong>")[1].split("<")[0] for line in history.split("<li>") if "kansli: <strong>" in line] == [
        "Godkänd", "Komplettering begärd"]


def test_a_long_comment_may_point_at_every_question(tmp_path: Path, examples) -> None:
    client = make_client(tmp_path, register=register_file(tmp_path))
    send(client, examples[FIRST].read_bytes(), FIRST)
    login(client)
    token = version_token(client.get("/rar/insats", params={"i": STEGET}).text, FIRST)
    every = tuple(default_spec().fields)
    assert review(client, token, "supplement", "å" * 4001, every).status_code == 400
    assert review(client, token, "supplement", "å" * 4000, every).status_code == 303
    pointed = client.get("/rar/insats", params={"i": STEGET}).text.split("å" * 4000)[1].split("</ul>")[0]
    assert pointed.count("<li>") == len(every)  # every question, with its cell, under the comment
