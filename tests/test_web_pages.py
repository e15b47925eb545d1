"""Every page listed for the page checks (web/pages.PAGES_FOR_CHECKS) opens with its placeholders
filled, and is plain semantic HTML: Swedish, one h1 and no skipped heading level, a label for every
field, a caption and column headings for every table, no inline style, no script. (axe-core and the
reflow at 320 px are checked in a browser by tests/test_web_a11y.py.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient
from test_web_http import make_client, web
from webtools import (  # noqa: F401
    ANSWERS,
    BROKEN,
    GOOD,
    csrf_of,
    examples,
    insats_of,
    link_key,
    login,
    register_file,
    send,
)

from lagesrapport_xl.template.writer import write_template
from lagesrapport_xl.web.pages import PAGES_FOR_CHECKS
from lagesrapport_xl.web.settings import SettingsError

EARLIER = "Halsa_och_arbete_Eskilstuna_rapport_2.xlsx"  # the same insats as BROKEN, without errors


class Structure(HTMLParser):
    """What the checks need of a page: headings, fields and their labels, tables, inline styles."""

    FIELDS = ("input", "select", "textarea")

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.fields: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.tables: list[dict[str, bool]] = []
        self.problems: list[str] = []
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        if tag in ("h1", "h2", "h3", "h4"):
            self.headings.append(int(tag[1]))
        if tag in self.FIELDS and found.get("type") != "hidden":
            self.fields.append(found)
        if tag == "label" and found.get("for"):
            self.labels.add(found["for"] or "")
        if tag == "table":
            self.tables.append({"caption": False, "th": False})
        if tag == "caption" and self.tables:
            self.tables[-1]["caption"] = True
        if tag == "th" and self.tables:
            self.tables[-1]["th"] = True
        if "style" in found or tag == "script":
            self.problems.append(f"<{tag}> with inline style or a script")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, examples) -> tuple[TestClient, dict[str, str]]:
    folder = tmp_path_factory.mktemp("sidor")
    client = make_client(folder, register=register_file(folder))
    token = send(client, examples[BROKEN].read_bytes(), BROKEN).headers["location"].rsplit("/", 1)[1]
    checks = {}  # the open page's receipts
    for name, (file_name, content) in {"receipt_received": (GOOD, examples[GOOD].read_bytes()),
                                       "receipt_has_errors": (BROKEN, examples[BROKEN].read_bytes()),
                                       "receipt_refused": ("rapport.xlsx", b"Insatsens namn;Nyttiga\n")}.items():
        answer = client.post("/", data={"csrf_token": csrf_of(client.get("/").text)}, files={"file": (file_name, content)})
        checks[name] = answer.headers["location"].rsplit("/", 1)[1]
    # A counted version of the same insats, sent back for completion, and its new version: the review
    # form, the comments and the table of changes are on the pages too.
    send(client, examples[EARLIER].read_bytes(), EARLIER)
    login(client)
    page = client.get("/rar/insats", params={"i": insats_of(BROKEN).key}).text
    first = page.split('name="kvitto" value="')[1].split('"')[0]
    client.post("/rar/granskning", data={"csrf_token": csrf_of(page), "i": insats_of(BROKEN).key, "kvitto": first,
                                         "granskning": "supplement", "kommentar": "Beskriv avvikelserna.",
                                         "fragor": ["deviations"]})
    completed = dict(ANSWERS[EARLIER], deviations="Två träffar ställdes in i juli.")
    send(client, write_template(folder / "kompletterad.xlsx", answers=completed).read_bytes(), "kompletterad.xlsx",
         EARLIER)
    for _ in range(web(client).settings.guard.uploads_per_address_per_minute + 1):  # the last: stopped by the limit
        limited = client.post("/", data={"csrf_token": csrf_of(client.get("/").text)},
                              files={"file": ("anteckning.xlsx", b"ingen rapport")})
    assert limited.status_code == 429 and "retry-after" in limited.headers
    with web(client).store.connect() as db:
        checks["receipt_limited"] = db.execute("SELECT token FROM uploads ORDER BY id DESC LIMIT 1").fetchone()[0]
    values = {"key": link_key(client, BROKEN), "insats": quote(insats_of(BROKEN).key), "token": token, **checks}
    return client, values


@pytest.mark.parametrize(("path", "needs_login", "description"), PAGES_FOR_CHECKS,
                         ids=[page[0] for page in PAGES_FOR_CHECKS])
def test_each_page_opens_and_is_plain_semantic_html(prepared, path: str, needs_login: bool, description: str) -> None:
    client, values = prepared
    client.cookies.clear()
    if needs_login:
        login(client)
    answer = client.get(path.format(**values))
    assert answer.status_code == (404 if "fel-nyckel" in path or "finns-inte" in path else 200), description
    page = Structure()
    page.feed(answer.text)
    assert page.lang == "sv" and page.problems == []
    assert page.headings and page.headings[0] == 1 and page.headings.count(1) == 1, page.headings
    assert all(later - earlier <= 1 for earlier, later in zip(page.headings, page.headings[1:])), page.headings
    unlabelled = [field for field in page.fields if field.get("id") not in page.labels]
    assert unlabelled == [], description
    assert all(table["caption"] and table["th"] for table in page.tables), description
    if "insats?i=" in path:  # the review form and the table of changes were checked too
        assert "Spara granskningen" in answer.text and 'class="issues changes"' in answer.text
    if path == "/insats/{key}":
        assert "Komplettering begärd" in answer.text and "Beskriv avvikelserna." in answer.text


def test_a_real_server_prepared_for_the_page_checks_serves_every_page(tmp_path: Path) -> None:
    """lagesrapport_dev.webflow.prepare_pages, as the browser checks use it on `lagesrapport serve`."""
    from lagesrapport_dev.client import IntakeClient, local_server
    from lagesrapport_dev.webflow import prepare_pages
    from lagesrapport_xl.web.settings import default_state

    inbox = tmp_path / "inkorg"
    with local_server(inbox, args=["--register", str(register_file(tmp_path))], password="sidornas lösenord") as url:
        values = prepare_pages(url, default_state(inbox), tmp_path / "filer")
        visitor, staff = IntakeClient(url), IntakeClient(url)
        assert staff.login("sidornas lösenord")
        for path, needs_login, _description in PAGES_FOR_CHECKS:
            status, _headers, body = (staff if needs_login else visitor).request(path.format(**values))
            assert status == (404 if "fel-nyckel" in path or "finns-inte" in path else 200), path
            if "insats?i=" in path:
                assert b'class="issues changes"' in body and "Spara granskningen".encode() in body


def test_rars_table_comes_a_part_at_a_time_and_keeps_the_filters(tmp_path: Path, examples) -> None:
    """With rows_per_page = 2 the register's five rows come in three parts: each row in exactly one,
    the links between parts keep the filter, an odd or too large part number gives the first or
    the last part, and the counts above the table are of the whole register."""
    client = make_client(tmp_path, register=register_file(tmp_path), rows_per_page=2)
    flen = "Unga_vuxna_i_Flen_rapport_2.xlsx"  # the register's row 4 expects it: received
    send(client, examples[flen].read_bytes(), flen)
    login(client)
    rows, pages = [], {}
    for number in (1, 2, 3):
        page = client.get("/rar", params={"sida": number} if number > 1 else {}).text
        pages[number] = page
        rows += re.findall(r'<td class="state">[^<]*</td>\s*<td>(\d+)</td>', page)
        assert f"Sida {number} av 3." in page
        assert "<strong>1</strong> Inkommen" in page and "<strong>4</strong> Saknas" in page  # of all rows
    assert sorted(rows, key=int) == rows and len(rows) == len(set(rows)) == 5
    assert 'rel="next"' in pages[1] and 'rel="prev"' not in pages[1] and 'rel="next"' not in pages[3]
    assert "(rad 3–4 av 5)" in pages[2]
    assert client.get("/rar", params={"sida": "999"}).text.count('<td class="state">') == 1  # the last part
    assert client.get("/rar", params={"sida": "x" * 5000}).text.count('<td class="state">') == 2  # the first
    missing = client.get("/rar", params={"status": "saknas"}).text
    assert "(rad 1–2 av 4 som passar valet, av 5)" in missing
    assert 'href="/rar?status=saknas&amp;sida=2" rel="next"' in missing
    received = client.get("/rar", params={"status": "inkommen"}).text
    assert "Sida" not in received and "(1 av 5)" in received  # one part: no links
    with pytest.raises(SettingsError, match="rows_per_page"):
        make_client(tmp_path / "noll", rows_per_page=0)
