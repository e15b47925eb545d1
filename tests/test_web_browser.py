"""The pages in a real browser: `lagesrapport serve` on 127.0.0.1 and Debian's headless chromium.

A coordinator opens the insats' link, downloads its template, picks a file and presses Skicka till
RAR, reads the answer page and downloads the annotated copy; anyone checks a file on the open page;
RAR logs in, reads the states of the register's rows, reviews a report and gets a master workbook
that opens. Missing chromium is an error, not a skip: scripts/install-system-deps installs it.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from webtools import ANSWERS, BROKEN, CORRECTED, FIRST, GOOD, PASSWORD, examples, register_file  # noqa: F401

from lagesrapport_dev.browser import chromium, click_and_wait, wait_for_download
from lagesrapport_dev.client import IntakeClient, local_server
from lagesrapport_dev.webflow import issue_links, link_for
from lagesrapport_xl.consolidate.tables import SHEETS
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.web.settings import default_state

pytestmark = pytest.mark.browser
LINKS: dict[str, str] = {}  # the module's server's links: insats key → secret


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("server")
    register = register_file(folder)
    with local_server(folder / "inkorg", args=["--register", str(register)], password=PASSWORD) as url:
        LINKS.update(issue_links(default_state(folder / "inkorg"), ANSWERS.values()))
        yield url


def key_of(name: str) -> str:
    return link_for(LINKS, ANSWERS[name])


@pytest.fixture()
def browser(tmp_path: Path):
    with chromium(tmp_path / "profil", downloads=tmp_path / "nedladdat") as driver:
        driver.downloads = tmp_path / "nedladdat"
        yield driver


def text_of(driver, selector: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, selector).text


def send(driver, url: str, path: Path, name: str) -> None:
    """Open the insats' own page (its link), pick the file and press Skicka till RAR."""
    driver.get(f"{url}/insats/{key_of(name)}")
    assert driver.title.startswith(f"{ANSWERS[name]['case_number']} {ANSWERS[name]['initiative_name']} – ")
    driver.find_element(By.NAME, "file").send_keys(str(path.resolve()))
    button = driver.find_element(By.CSS_SELECTOR, "form.upload button")
    assert button.text == "Skicka till RAR"
    click_and_wait(driver, button)


def check(driver, url: str, path: Path) -> None:
    """Open the open page, pick the file and press Kontrollera."""
    driver.get(url + "/")
    assert driver.title == "Kontrollera din fil – Lägesrapport till RAR"
    driver.find_element(By.NAME, "file").send_keys(str(path.resolve()))
    button = driver.find_element(By.CSS_SELECTOR, "form.upload button")
    assert button.text == "Kontrollera"
    click_and_wait(driver, button)


def test_a_coordinator_downloads_the_template_and_sends_a_good_report(server: str, browser, examples) -> None:
    browser.get(f"{server}/insats/{key_of(GOOD)}")
    browser.find_element(By.PARTIAL_LINK_TEXT, "Ladda ner mallen").click()
    template = wait_for_download(browser.downloads)
    assert template.name == "2020-0042_Nyttiga_affarer_rapport_5.xlsx"  # the register expects report 5
    assert read_report(template).values["case_number"] == "2020-0042"
    send(browser, server, examples[GOOD], GOOD)
    assert f"/insats/{key_of(GOOD)}/kvitto/" in browser.current_url
    assert text_of(browser, ".verdict h1") == "RAR har tagit emot rapporten."
    receipt = {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
               for row in browser.find_elements(By.CSS_SELECTOR, "table.receipt tr")}
    assert receipt["Diarienummer"] == "2020-0042" and receipt["Lägesrapport nr"] == "2"
    assert receipt["Fil"] == GOOD and receipt["Sparad hos RAR som"].endswith(GOOD)
    browser.refresh()  # the receipt has its own address: reloading sends nothing again
    assert text_of(browser, ".verdict h1") == "RAR har tagit emot rapporten."
    browser.find_element(By.LINK_TEXT, "Till insatsens sida").click()
    listed = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "table.coverage tbody tr")]
    assert len(listed) == 1 and GOOD in listed[0] and "Gäller" in listed[0]


def test_anyone_checks_a_file_on_the_open_page_and_nothing_is_sent(server: str, browser, examples) -> None:
    check(browser, server, examples[CORRECTED])
    assert text_of(browser, ".verdict h1") == "Filen är kontrollerad: inga fel."
    assert "Filen har inte skickats till RAR" in text_of(browser, ".verdict p")


def test_a_coordinator_sends_a_broken_report_and_downloads_the_annotated_copy(server: str, browser, examples) -> None:
    send(browser, server, examples[BROKEN], BROKEN)
    assert text_of(browser, ".verdict h1") == "RAR har tagit emot filen, men den har fel som måste rättas."
    shown = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
             for row in browser.find_elements(By.CSS_SELECTOR, "table.issues tbody tr")]
    expected = read_report(examples[BROKEN]).issues
    assert [(row[0], row[1], row[2], row[5]) for row in shown] == [  # (a browser shows a no-break space as one)
        ("Fel" if issue.is_error else "Varning", issue.sheet or "", issue.cell or "", issue.message.replace("\xa0", " "))
        for issue in expected
    ]
    browser.find_element(By.LINK_TEXT, "Ladda ner kontrollkopian (.xlsx)").click()
    copy = wait_for_download(browser.downloads)
    assert copy.name == BROKEN.replace(".xlsx", "_kontroll.xlsx")
    listed = [row[5] for row in load_workbook(copy)["Kontroll"].iter_rows(min_row=7, values_only=True)]
    assert listed == [issue.message for issue in expected]


def test_a_file_that_is_not_a_report_is_refused_in_plain_swedish(server: str, browser, tmp_path: Path) -> None:
    text = tmp_path / "rapport.xlsx"
    text.write_text("Insatsens namn;Nyttiga affärer\n", encoding="utf-8")
    send(browser, server, text, GOOD)
    assert text_of(browser, ".verdict h1") == "Filen togs inte emot."
    assert "textfil" in text_of(browser, "table.issues")


def test_rar_logs_in_sees_the_states_and_downloads_the_master(server: str, browser, examples) -> None:
    client = IntakeClient(server)
    for name in (FIRST, CORRECTED, BROKEN):
        assert client.upload(examples[name].read_bytes(), name, key_of(name))[0] in (200, 201)
    browser.get(server + "/rar")
    assert browser.current_url.endswith("/rar/login")
    browser.find_element(By.NAME, "username").send_keys("kansli")
    browser.find_element(By.NAME, "password").send_keys("fel lösenord")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.login button"))
    assert "Fel användarnamn eller lösenord" in text_of(browser, ".note")
    browser.find_element(By.NAME, "username").send_keys("kansli")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.login button"))
    assert browser.current_url.endswith("/rar") and text_of(browser, "h1") == "Inkomna lägesrapporter"
    rows = {row.find_elements(By.TAG_NAME, "td")[3].text: row.find_element(By.CSS_SELECTOR, "td.state").text
            for row in browser.find_elements(By.CSS_SELECTOR, "table.coverage tbody tr")}
    assert rows["Steget vidare Katrineholm"] == "Inkommen"
    assert rows["Hälsa och arbete Eskilstuna"] == "Bara avvisade filer"
    assert rows["Ny insats"] == "Saknas"
    steget = next(row for row in browser.find_elements(By.CSS_SELECTOR, "table.coverage tbody tr")
                  if "Steget vidare" in row.text)
    assert CORRECTED in steget.text and FIRST in steget.text  # the file that counts and the superseded one
    steget.find_element(By.LINK_TEXT, "Steget vidare Katrineholm").click()
    assert text_of(browser, "h1") == "2021-0007 Steget vidare Katrineholm"
    browser.find_element(By.CSS_SELECTOR, "form.review input[value=approved]").click()
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.review button"))
    assert "Granskning: Godkänd" in browser.find_element(By.CSS_SELECTOR, "section.version").text
    browser.get(server + "/rar")
    browser.find_element(By.CSS_SELECTOR, "form.master button").click()
    packed = wait_for_download(browser.downloads, "*.zip")  # the master and, in inkorg/, the files it counts
    with zipfile.ZipFile(packed) as files:
        files.extractall(packed.parent / "uppackad")
        assert any(name.startswith("inkorg/") and name.endswith(CORRECTED) for name in files.namelist())
    [master] = (packed.parent / "uppackad").glob("*.xlsx")
    with warnings.catch_warnings():  # openpyxl skips the master's conditional-format extensions
        warnings.simplefilter("ignore", UserWarning)
        workbook = load_workbook(master)
    assert workbook.sheetnames == list(SHEETS)
    control = [row for row in workbook["Kontroll"].iter_rows(values_only=True) if row and any(
        isinstance(cell, str) and cell.endswith(CORRECTED) for cell in row)]
    assert control, "the master's Kontroll sheet lists the uploaded files"
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.inline button"))  # Logga ut
    assert browser.current_url.endswith("/rar/login")
    browser.get(server + "/rar")
    assert browser.current_url.endswith("/rar/login")


def test_an_oversize_file_gets_the_swedish_413_page_in_the_browser(browser, tmp_path: Path, examples) -> None:
    big = tmp_path / "stor.xlsx"
    big.write_bytes(examples[GOOD].read_bytes() * 5)  # 100 kB
    with local_server(tmp_path / "inkorg", args=["--max-mb", "0.05"]) as url:
        check(browser, url, big)
        assert text_of(browser, ".verdict h1") == "Filen kunde inte kontrolleras."
        assert "Filen är större än 51 kB" in text_of(browser, "table.issues")
