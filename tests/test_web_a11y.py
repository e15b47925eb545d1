"""Every page for everyone: axe-core, reflow at 320 px, and the accessibility statement.

Each page of web/pages.py PAGES_FOR_CHECKS is opened in Debian's headless chromium, served by a
real `lagesrapport serve` on 127.0.0.1 (with real uploads behind the receipts and a register
behind RAR's page), at 1280 and 320 px wide. npm's axe-core (scripts/install-system-deps puts it
in .tools/) must find 0 violations, nothing may stick out sideways (WCAG 2.1 AA 1.4.10: a wide
table scrolls in its own labelled, focusable region), the page has no script and links the
accessibility statement. The statement (DOS-lagen) is checked field by field, with its texts from
rar.toml's `[web.accessibility]`. Missing chromium or axe-core is an error, not a skip.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from starlette.routing import Route
from starlette.testclient import TestClient
from webtools import BROKEN, GOOD, PASSWORD, examples, register_file  # noqa: F401

from lagesrapport_dev.axe import axe_version, axe_violations, overflow
from lagesrapport_dev.browser import chromium, click_and_wait
from lagesrapport_dev.client import LOOPBACK, IntakeClient, child_process, free_port, local_server
from lagesrapport_dev.webflow import prepare_pages
from lagesrapport_xl.cli import main as cli_main
from lagesrapport_xl.web.accessibility import DIGG_REPORT_URL, KEYS, SHORTCOMINGS
from lagesrapport_xl.web.app import create_app
from lagesrapport_xl.web.pages import NOT_PAGES, PAGES_FOR_CHECKS
from lagesrapport_xl.web.settings import SettingsError, build_settings, default_state, web_config

WIDTHS = (1280, 320)
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CONFIG = """
[web]
rows_per_page = 2   # RAR's table in parts, so that the links between them are checked too

[web.accessibility]
email = "kansli@rar.example"
phone = "016-10 20 30"
reviewed = 2027-01-15
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, examples) -> Iterator[tuple[str, dict[str, str]]]:
    """A server with a register, a config file and three uploads: its address and the values of
    the page list's placeholders."""
    folder = tmp_path_factory.mktemp("a11y")
    config = folder / "rar.toml"
    config.write_text(CONFIG, encoding="utf-8")
    args = ["--register", str(register_file(folder)), "--config", str(config)]
    with local_server(folder / "inkorg", args=args, password=PASSWORD) as url:
        client = IntakeClient(url)
        tokens = {}
        for key, name, content in (
            ("receipt_received", GOOD, examples[GOOD].read_bytes()),
            ("receipt_has_errors", BROKEN, examples[BROKEN].read_bytes()),
            ("receipt_refused", "rapport.xlsx", "Insatsens namn;Nyttiga affärer\n".encode()),
        ):
            _status, answer = client.upload(content, name)  # no link: checks, with their receipts
            tokens[key] = answer["receipt"]["token"]
        assert [client.request(f"/api/uploads/{token}")[0] for token in tokens.values()] == [200] * 3
        # An insats' link, its uploads, RAR's review and a completed version: the link's pages.
        linked = prepare_pages(url, default_state(folder / "inkorg"), folder / "filer")
        yield url, {**linked, **tokens}


@pytest.fixture(scope="module")
def visitor(tmp_path_factory: pytest.TempPathFactory):
    with chromium(tmp_path_factory.mktemp("besokare")) as driver:
        yield driver


@pytest.fixture(scope="module")
def staff(tmp_path_factory: pytest.TempPathFactory, site):
    """A browser logged in on RAR's page through its form."""
    url, _values = site
    with chromium(tmp_path_factory.mktemp("kansliet")) as driver:
        driver.get(url + "/rar/login")
        driver.find_element(By.NAME, "username").send_keys("kansli")  # the single password's account
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.login button"))
        assert urlparse(driver.current_url).path == "/rar"
        yield driver


def filled(path: str, values: dict[str, str]) -> str:
    missing = sorted(set(PLACEHOLDER.findall(path)) - set(values))
    if missing:
        pytest.fail(f"{path}: tests/test_web_a11y.py's `site` fixture makes no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], path)


def open_page(driver, url: str, path: str, width: int) -> None:
    driver.set_window_size(width, 900)
    driver.get(url + path)
    assert driver.execute_script("return window.innerWidth") == width


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("path", "needs_login"), [
    pytest.param(path, needs_login, id=path) for path, needs_login, _description in PAGES_FOR_CHECKS
])
def test_every_page_passes_axe_and_reflows(site, visitor, staff, path: str, needs_login: bool, width: int) -> None:
    url, values = site
    driver = staff if needs_login else visitor
    page = filled(path, values)
    open_page(driver, url, page, width)
    landed = urlparse(driver.current_url)
    assert landed.path + (f"?{landed.query}" if landed.query else "") == page, f"{page} led to {driver.current_url}"
    problems = []
    if driver.execute_script("return document.scripts.length"):
        problems.append("the page has a script: pages work without JavaScript")
    footer_links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "footer a")]
    if url + "/tillganglighet" not in footer_links:
        problems.append(f"no footer link to the accessibility statement: {footer_links}")
    sideways = overflow(driver)
    if sideways["scrollWidth"] > sideways["innerWidth"] or sideways["overflowing"]:
        problems.append(f"scrolls sideways: {sideways['scrollWidth']} px content in a {sideways['innerWidth']} px "
                        f"window; sticking out: {sideways['overflowing']}")
    violations = axe_violations(driver)
    if violations:
        problems.append(f"axe-core {axe_version()}: {len(violations)} violation(s)\n" + "\n".join(map(str, violations)))
    assert not problems, f"{page} at {width} px:\n" + "\n".join(problems)


@pytest.mark.browser
@pytest.mark.parametrize(("path", "table"), [
    ("/kvitto/{receipt_has_errors}", "table.issues"),
    ("/rar", "table.coverage"),
])
def test_a_wide_table_scrolls_in_its_own_labelled_focusable_region(site, visitor, staff, path: str, table: str) -> None:
    url, values = site
    driver = staff if path == "/rar" else visitor
    open_page(driver, url, filled(path, values), 320)
    region = driver.find_element(By.CSS_SELECTOR, f"div.scroll:has(> {table})")
    assert driver.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", region), \
        "at 320 px the table is wider than its region, which scrolls"
    assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
    assert region.get_attribute("aria-label")
    for _ in range(40):  # the keyboard reaches it: Tab until it has the focus
        if driver.switch_to.active_element == region:
            break
        ActionChains(driver).send_keys(Keys.TAB).perform()
    assert driver.switch_to.active_element == region


@pytest.mark.browser
def test_the_first_tab_shows_a_link_past_the_header_to_the_content(site, visitor) -> None:
    url, _values = site
    open_page(visitor, url, "/", 320)
    ActionChains(visitor).send_keys(Keys.TAB).perform()
    skip = visitor.switch_to.active_element
    assert skip.text == "Till innehållet" and skip.size["width"] > 50 and skip.size["height"] > 10
    ActionChains(visitor).send_keys(Keys.ENTER).perform()
    assert visitor.switch_to.active_element.tag_name == "main"


def test_every_page_of_the_app_is_in_the_checked_list(tmp_path: Path) -> None:
    app = create_app(build_settings(tmp_path / "inkorg", environ={}))
    samples = [PLACEHOLDER.sub("x", path).partition("?")[0] for path, _login, _description in PAGES_FOR_CHECKS]
    unchecked = [
        route.path for route in app.routes
        if isinstance(route, Route) and "GET" in (route.methods or ()) and route.path not in NOT_PAGES
        and not any(route.path_regex.match(sample) for sample in samples)
    ]
    assert not unchecked, f"GET routes neither in web/pages.py PAGES_FOR_CHECKS nor in NOT_PAGES: {unchecked}"


# --- the accessibility statement ------------------------------------------------------------------------


def statement_page(tmp_path: Path, config: str | None = None) -> str:
    table = {}
    if config is not None:
        path = tmp_path / "rar.toml"
        path.write_text(config, encoding="utf-8")
        table = web_config(path)
    client = TestClient(create_app(build_settings(tmp_path / "inkorg", table=table, environ={})))
    page = client.get("/tillganglighet")
    assert page.status_code == 200
    return page.text


def test_the_statement_has_every_field_digg_lists(tmp_path: Path) -> None:
    page = statement_page(tmp_path)
    assert "<h1>Tillgänglighetsredogörelse för Lägesrapport till RAR</h1>" in page
    assert "Samordningsförbundet RAR i Sörmland står bakom Lägesrapport till RAR" in page  # body and service
    assert "Tjänsten är <strong>delvis förenlig</strong> med lagen (2018:1937) om tillgänglighet till digital" in page
    for text in SHORTCOMINGS:  # what is not accessible, and why
        assert text in page
    assert "Oskäligt betungande anpassning" in page and "(12 §)" in page
    assert "Innehåll som inte omfattas av lagkraven" in page and "(9 §)" in page
    assert "Rapportera brister i tjänstens tillgänglighet" in page and "Kontakta kansliet hos" in page
    assert f'<a href="{DIGG_REPORT_URL}">anmäla det till Myndigheten för' in page  # the enforcement procedure
    assert "Självskattning (intern testning)" in page and "axe-core" in page  # the method
    assert 'Senaste bedömningen gjordes den <time datetime="2026-12-07">7 december 2026</time>' in page
    assert 'Redogörelsen uppdaterades senast den <time datetime="2026-12-07">7 december 2026</time>' in page


def test_the_statement_says_what_rar_configured(tmp_path: Path) -> None:
    page = statement_page(tmp_path, """
[web]
max_mb = 5

[web.accessibility]
organisation = "Samordningsförbundet <RAR>"
service = "Rapportportalen"
compliance = "helt"
email = "kansli@rar.example"
phone = "016-10 20 30"
contact_page = "https://rar.example/kontakt"
out_of_scope = ["Inspelade webbinarier från före den 23 september 2020."]
alternative = "Ring oss."
method = "Granskning av extern part."
assessed = 2027-01-10
reviewed = "2027-02-01"
""")
    assert "Samordningsförbundet &lt;RAR&gt; står bakom Rapportportalen" in page  # escaped, never markup
    assert "Tjänsten är <strong>helt förenlig</strong>" in page and "på grund av" not in page
    assert "Vi känner inte till något innehåll som inte uppfyller lagkraven." in page
    assert '<a href="mailto:kansli@rar.example">kansli@rar.example</a>' in page
    assert '<a href="tel:016102030">016-10 20 30</a>' in page
    assert '<a href="https://rar.example/kontakt">' in page and "Kontakta kansliet" not in page
    assert "<li>Inspelade webbinarier från före den 23 september 2020.</li>" in page
    assert "Ring oss." in page and "Granskning av extern part." in page
    assert ">10 januari 2027</time>" in page and ">1 februari 2027</time>" in page


def test_a_served_statement_comes_from_the_config_file(site) -> None:
    url, _values = site
    status, _headers, body = IntakeClient(url).request("/tillganglighet")
    page = body.decode("utf-8")
    assert status == 200 and '<a href="mailto:kansli@rar.example">' in page and "016-10 20 30" in page
    assert ">15 januari 2027</time>" in page and ">7 december 2026</time>" in page


@pytest.mark.parametrize(("config", "message"), [
    ('ansvarig = "x"', "okända inställningar: ansvarig. Möjliga: alternative, assessed"),
    ('compliance = "nästan"', "compliance ska vara helt, delvis, inte"),
    ("assessed = 2027-13-01", None),  # not TOML: web_config's own message
    ('assessed = "7 december"', "assessed ska vara ett datum"),
    ("reviewed = 2026-01-01", "reviewed (2026-01-01) ligger före assessed (2026-12-07)"),
    ('shortcomings = "bara en text"', "shortcomings ska vara en lista med texter"),
    ('compliance = "helt"\nshortcomings = ["Filmerna saknar text."]', 'compliance = "helt" men shortcomings räknar upp brister'),
    ('shortcomings = []', 'compliance = "delvis" kräver att bristerna och skälen räknas upp'),
    ('email = "kansliet"', "email ska vara en e-postadress"),
    ('contact_page = "javascript:alert(1)"', "contact_page ska vara en webbadress"),
    ('service = ""', "service får inte vara tom"),
    ("phone = 16102030", "phone ska vara en text inom citattecken"),
])
def test_a_statement_setting_that_cannot_be_used_is_refused_in_swedish(tmp_path: Path, config: str,
                                                                      message: str | None) -> None:
    path = tmp_path / "rar.toml"
    path.write_text(f"[web.accessibility]\n{config}\n", encoding="utf-8")
    if message is None:
        with pytest.raises(ValueError, match="kan inte läsas som TOML"):
            web_config(path)
        return
    with pytest.raises(SettingsError, match=re.escape(f"[web.accessibility]: {message}")):
        build_settings(tmp_path / "inkorg", table=web_config(path), environ={})


def test_serve_refuses_a_bad_statement_before_it_starts(tmp_path: Path, capsys) -> None:
    config = tmp_path / "rar.toml"
    config.write_text('[web.accessibility]\ncompliance = "ja"\n', encoding="utf-8")
    assert cli_main(["serve", "--inbox", str(tmp_path / "inkorg"), "--config", str(config)]) == 2
    assert "[web.accessibility]: compliance ska vara helt, delvis, inte" in capsys.readouterr().err



@pytest.mark.parametrize(("config", "warned"), [(None, True), ('[web.accessibility]\nphone = "016-10 20 30"\n', False)])
def test_serve_says_when_the_statement_has_no_contact(tmp_path: Path, config: str | None, warned: bool) -> None:
    args = []
    if config is not None:
        (tmp_path / "rar.toml").write_text(config, encoding="utf-8")
        args = ["--config", str(tmp_path / "rar.toml")]
    command = [sys.executable, "-m", "lagesrapport_xl", "serve", "--inbox", str(tmp_path / "inkorg"), "--host",
               LOOPBACK, "--port", str(free_port()), "--quiet", *args]
    lines = []
    with child_process(command, stdout=subprocess.PIPE, text=True, encoding="utf-8") as process:
        for line in process.stdout:  # a few lines, then "Stoppa servern …" (or the end, if it fails)
            lines.append(line)
            if line.startswith("Stoppa servern"):
                break
    assert lines and lines[-1].startswith("Stoppa servern"), lines
    assert any("saknar RAR:s kontaktuppgifter" in line for line in lines) == warned


def test_the_documented_table_names_every_key_and_is_accepted(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "web.md").read_text(encoding="utf-8")
    section = docs[docs.index("### Tillgänglighetsredogörelsen"):]
    example = re.search(r"^```toml\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL).group(1)
    config = tmp_path / "rar.toml"
    config.write_text(example, encoding="utf-8")
    table = web_config(config)
    assert set(table["accessibility"]) == KEYS
    statement = build_settings(tmp_path / "inkorg", table=table, environ={}).accessibility
    assert statement.compliance == "delvis" and statement.has_contact
