"""The web intake behind a real nginx, set up exactly as docs/web.md says ("Bakom en omvänd proxy").

nginx (Debian's, as a foreground process of the test with its own folder) serves the documented
`server` block with TLS (a self-signed certificate) on a free port of 127.0.0.1, in front of a
real `lagesrapport serve` started with the documented options. Both are read from docs/web.md
(tests/nginxtools.py), so the page and this test cannot drift apart.

Every client talks HTTPS to nginx only. Clients "from different machines" connect from different
loopback addresses (all of 127.0.0.0/8 is this machine): nginx sees each as its own address, as
it would see coordinators' and RAR's computers. Missing nginx is an error, not a skip:
scripts/install-system-deps installs it.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import re
import ssl
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from nginxtools import (
    documented_nginx,
    documented_serve_options,
    nginx,
    proxied_server_block,
    self_signed,
    substitute,
    without_options,
)
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from webtools import (  # noqa: F401
    ANSWERS,
    BROKEN,
    CORRECTED,
    FIRST,
    GOOD,
    PASSWORD,
    WARNED,
    csrf_of,
    examples,
    register_file,
)

from lagesrapport_dev.browser import chromium, click_and_wait
from lagesrapport_dev.client import LOOPBACK, IntakeClient, free_port, local_server, multipart
from lagesrapport_dev.webflow import issue_links, link_for
from lagesrapport_xl.cli import build_parser
from lagesrapport_xl.consolidate.tables import SHEETS
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.reader.safety import DEFAULT_LIMITS
from lagesrapport_xl.web.app import CSRF_COOKIE, SESSION_COOKIE
from lagesrapport_xl.web.intake import too_large_message
from lagesrapport_xl.web.settings import Settings
from lagesrapport_xl.web.store import Store

pytestmark = pytest.mark.proxy

SERVER_LIMIT = Settings(inbox=Path("inkorg"), state=Path("inkorg-server")).max_body_bytes  # the default 20 MB
TOO_LARGE = too_large_message(DEFAULT_LIMITS.max_file_bytes)
UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def nginx_size(value: str) -> int:
    """An nginx size ("21m") in bytes."""
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.lower()).groups()
    return int(number) * UNITS[unit]


NGINX_LIMIT = nginx_size(re.search(r"client_max_body_size\s+(\S+);", documented_nginx()).group(1))


class FromAddress(urllib.request.HTTPSHandler):
    """HTTPS from one loopback address: to nginx, the client of one machine."""

    def __init__(self, address: str, context: ssl.SSLContext):
        super().__init__(context=context)
        self.address = address

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(http.client.HTTPSConnection, req, context=self._context, source_address=(self.address, 0))


@dataclass(frozen=True)
class Proxy:
    port: int  # nginx's
    prefix: str  # the documented root path, "/lagesrapport"
    context: ssl.SSLContext  # trusts the test's certificate
    inbox: Path
    state: Path
    logs: Path  # nginx's folder: error.log, access.log

    @property
    def origin(self) -> str:
        return f"https://{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return self.origin + self.prefix

    def key(self, name: str) -> str:
        """The link key of a demo report's insats on this server (issued in its database)."""
        issued = _LINKS.setdefault(self.state, {})
        if not issued:
            issued.update(issue_links(self.state, ANSWERS.values()))
        return link_for(issued, ANSWERS[name])

    def client(self, address: str = LOOPBACK) -> IntakeClient:
        """A client on the machine `address`; its paths are below the prefix."""
        return IntakeClient(self.url, handlers=[FromAddress(address, self.context)])

    def below(self, link: str) -> str:
        """A link of a page as a client path: it must carry the prefix."""
        assert link.startswith(self.prefix + "/"), f"{link} does not start with {self.prefix}/"
        return link[len(self.prefix):]

    def raw(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
            ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request to nginx, redirects not followed and every header kept."""
        connection = http.client.HTTPSConnection(LOOPBACK, self.port, context=self.context, timeout=60)
        try:
            connection.request(method, path, body, headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def log(self, client: str) -> list[dict[str, Any]]:
        """The server's log rows of uploads from `client`, oldest first."""
        with Store(self.state / "intake.sqlite3").connect() as db:
            return [dict(row) for row in db.execute("SELECT * FROM uploads WHERE client = ? ORDER BY id", (client,))]


_LINKS: dict[Path, dict[str, str]] = {}  # each server's links (the Proxy record is frozen)


@contextmanager
def proxied(folder: Path, documented_block: str, documented_options: list[str]) -> Iterator[Proxy]:
    """`lagesrapport serve` with the documented options behind nginx serving the documented block."""
    root_path = build_parser().parse_args(["serve", *documented_options]).root_path
    args = [*without_options(documented_options, "--inbox", "--register", "--host", "--port"),
            "--register", str(register_file(folder))]  # local_server gives its own inbox, host and port
    cert, key = self_signed(folder / "tls")
    with local_server(folder / "inkorg", args=args, password=PASSWORD) as upstream:
        port = free_port()
        block = proxied_server_block(documented_block, port=port, upstream=upstream, cert=cert, key=key)
        with nginx(folder / "nginx", block, port) as logs:
            yield Proxy(port, root_path, ssl.create_default_context(cafile=cert), folder / "inkorg",
                        folder / "inkorg-server", logs)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    with proxied(tmp_path_factory.mktemp("proxy"), documented_nginx(), documented_serve_options()) as running:
        yield running


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []  # (tag, address)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # A link within the page (#innehall, the skip link) leaves nothing to the proxy: no prefix.
        self.found += [(tag, value or "") for name, value in attrs
                       if name in ("href", "src", "action") and not (value or "").startswith("#")]


def links(html: bytes) -> list[tuple[str, str]]:
    parser = Links()
    parser.feed(html.decode("utf-8"))
    return parser.found


def form_action(html: bytes, name: str) -> str:
    found = re.search(rf'<form class="{name}"[^>]* action="([^"]+)"', html.decode("utf-8"))
    assert found, f"no form {name}"
    return found.group(1)


def cookie(header: str) -> Any:
    """The one cookie of a Set-Cookie header, with its attributes."""
    jar = SimpleCookie()
    jar.load(header)
    [morsel] = jar.values()
    return morsel


def sized_upload(total: int, fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    """A multipart body of exactly `total` bytes: one file of junk and `fields`."""
    envelope, _ = multipart(fields or {}, {"file": ("stor.xlsx", b"")})
    body, content_type = multipart(fields or {}, {"file": ("stor.xlsx", b"x" * (total - len(envelope)))})
    assert len(body) == total
    return body, content_type


def fetch(client: IntakeClient, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
          ) -> tuple[int, dict[str, str], bytes]:
    """`client.request`, the answer's header names in lower case (nginx's own and the server's differ)."""
    status, answer_headers, body = client.request(path, data, headers)
    return status, {name.lower(): value for name, value in answer_headers.items()}, body


def json_upload(client: IntakeClient, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    status, _headers, answer = fetch(client, "/api/uploads", body, {"Content-Type": content_type})
    return status, json.loads(answer)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_links(proxy: Proxy, client: IntakeClient, page: str) -> None:
    """Every link, stylesheet and form action of `page` carries the prefix, and every link and
    the stylesheet answer through the proxy."""
    status, headers, html = fetch(client, page)
    assert status == 200 and headers["content-security-policy"].startswith("default-src 'none'")
    found = links(html)
    assert {tag for tag, _link in found} == {"link", "a", "form"}
    for tag, link in found:
        target = proxy.below(link)
        if tag != "form":
            assert fetch(client, target)[0] == 200, link


# --- the documented setup --------------------------------------------------------------------------


def test_the_documented_nginx_block_and_serve_line_fit_together() -> None:
    options = build_parser().parse_args(["serve", *documented_serve_options()])
    block = documented_nginx()
    assert re.search(rf"location {options.root_path}/ {{", block), "the location is the root path"
    assert f"proxy_pass http://{options.host}:{options.port}/;" in block
    assert options.forwarded_allow_ips == options.host == LOOPBACK  # nginx on the server's own machine
    assert options.https and re.search(r"listen 443 ssl;", block)
    assert NGINX_LIMIT >= SERVER_LIMIT, "nginx must let through every body the server takes"
    assert TOO_LARGE in block and f'href="{options.root_path}/"' in block  # nginx's own 413 page


# --- coordinators ----------------------------------------------------------------------------------


def test_pages_links_stylesheet_and_redirects_carry_the_prefix(proxy: Proxy) -> None:
    client = proxy.client()
    for page in ("/", "/rar/login"):
        check_links(proxy, client, page)
    status, headers, css = fetch(client, "/static/style.css")
    assert status == 200 and headers["content-type"].startswith("text/css") and b"header.top" in css
    assert "no-store" not in headers.get("cache-control", "")  # the stylesheet may be cached, pages not
    # The address without its last slash: nginx sends it on to the upload page.
    status, headers, _ = proxy.raw("GET", proxy.prefix)
    assert status == 301 and headers["Location"] == proxy.url + "/"
    # The server's own redirects keep nginx's port (Host $http_host), and the prefix.
    status, headers, _ = proxy.raw("GET", proxy.prefix + "/rar/")
    assert status == 307 and headers["Location"] == proxy.url + "/rar"


def test_an_upload_through_the_form_lands_in_the_inbox_with_its_receipt_and_copy(proxy: Proxy, examples) -> None:
    client = proxy.client()
    _status, _headers, page = fetch(client, f"/insats/{proxy.key(BROKEN)}")  # the insats' own page
    body, content_type = multipart({"csrf_token": csrf_of(page.decode())}, {"file": (BROKEN, examples[BROKEN].read_bytes())})
    status, _headers, receipt = fetch(client, proxy.below(form_action(page, "upload")), body,
                                      {"Content-Type": content_type})  # 303 to the receipt, followed
    assert status == 200 and "RAR har tagit emot filen, men den har fel som måste rättas." in receipt.decode()
    [copy_link] = [link for _tag, link in links(receipt) if link.endswith("/kontrollkopia")]
    status, headers, copy = fetch(client, proxy.below(copy_link))
    assert status == 200 and BROKEN.replace(".xlsx", "_kontroll.xlsx") in headers["content-disposition"]
    listed = [row[5] for row in load_workbook(io.BytesIO(copy))["Kontroll"].iter_rows(min_row=7, values_only=True)]
    assert listed == [issue.message for issue in read_report(examples[BROKEN]).issues]
    stored = {sha256(path.read_bytes()) for path in proxy.inbox.iterdir()}
    assert sha256(examples[BROKEN].read_bytes()) in stored


def test_an_upload_through_the_api_is_logged_with_the_forwarded_address(proxy: Proxy, examples) -> None:
    client = proxy.client("127.0.0.5")
    content = examples[WARNED].read_bytes()
    status, answer = client.upload(content, WARNED, proxy.key(WARNED))
    receipt = answer["receipt"]
    assert status == 201 and receipt["outcome"] == "received"
    assert receipt["receipt_url"] == f"{proxy.prefix}/kvitto/{receipt['token']}"
    assert receipt["annotated_copy_url"] == receipt["receipt_url"] + "/kontrollkopia"
    status, _headers, page = fetch(client, proxy.below(receipt["receipt_url"]))
    assert status == 200 and receipt["verdict"] in page.decode()
    status, _headers, copy = fetch(client, proxy.below(receipt["annotated_copy_url"]))
    assert status == 200 and "Kontroll" in load_workbook(io.BytesIO(copy)).sheetnames
    status, _headers, again = fetch(client, f"/api/uploads/{receipt['token']}")
    assert status == 200 and json.loads(again) == answer
    assert (proxy.inbox / receipt["stored_name"]).read_bytes() == content
    [row] = proxy.log("127.0.0.5")  # the coordinator's address, not nginx's
    assert row["sha256"] == sha256(content) and row["stored_name"] == receipt["stored_name"]


def test_the_servers_limit_and_nginxs_limit_each_answer_in_swedish(proxy: Proxy) -> None:
    client = proxy.client("127.0.0.6")
    # The largest body the server takes goes through nginx to the server: its file, a little over
    # 20 MB with the envelope left out, is then stopped by the reader's own size check.
    status, answer = json_upload(client, *sized_upload(SERVER_LIMIT))
    assert status == 422 and answer["receipt"]["code"] == "file_too_large"
    # A byte more, from the upload form: the server's own Swedish page, and a row in its log.
    _status, _headers, page = fetch(client, "/")
    body, content_type = sized_upload(SERVER_LIMIT + 1, {"csrf_token": csrf_of(page.decode())})
    status, headers, html = fetch(client, "/", body, {"Content-Type": content_type})
    assert status == 413 and TOO_LARGE in html.decode() and f"{proxy.prefix}/static/style.css" in html.decode()
    # Over nginx's limit: nginx answers with the documented page; the server never sees the body.
    body, content_type = sized_upload(NGINX_LIMIT + 1, {"csrf_token": csrf_of(page.decode())})
    status, headers, html = fetch(client, "/", body, {"Content-Type": content_type})
    assert status == 413 and headers["content-type"] == "text/html; charset=utf-8"
    assert TOO_LARGE in html.decode() and "Filen togs inte emot." in html.decode()
    assert "style.css" not in html.decode()
    assert [row["code"] for row in proxy.log("127.0.0.6")] == ["file_too_large", "too_large"]
    assert re.search(r'"POST /lagesrapport/ HTTP/1.1" 413 ', (proxy.logs / "access.log").read_text())


# --- RAR ------------------------------------------------------------------------------------------


def test_behind_the_proxy_with_https_every_cookie_is_secure_and_carries_the_prefix(proxy: Proxy) -> None:
    status, headers, page = proxy.raw("GET", proxy.prefix + "/rar/login")
    [csrf_header] = headers.get_all("Set-Cookie")
    csrf = cookie(csrf_header)
    assert status == 200 and csrf.key == CSRF_COOKIE
    assert csrf["secure"] and csrf["httponly"] and csrf["path"] == proxy.prefix and csrf["samesite"] == "lax"
    form = urllib.parse.urlencode({"csrf_token": csrf_of(page.decode()), "username": "kansli",
                                   "password": PASSWORD}).encode()
    status, headers, _ = proxy.raw("POST", proxy.prefix + "/rar/login", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"{CSRF_COOKIE}={csrf.value}"})
    assert status == 303 and headers["Location"] == proxy.prefix + "/rar"
    session = cookie(headers["Set-Cookie"])
    assert session.key == SESSION_COOKIE and session["secure"] and session["httponly"]
    assert session["path"] == proxy.prefix and session["samesite"] == "lax" and session["max-age"] == "28800"


def test_rar_logs_in_reads_the_page_and_downloads_the_master(proxy: Proxy, examples, tmp_path: Path) -> None:
    client = proxy.client()
    for name in (FIRST, CORRECTED):
        assert client.upload(examples[name].read_bytes(), name, proxy.key(name))[0] in (200, 201)
    assert client.login(PASSWORD)
    assert {(item.name, item.secure, item.path) for item in client.cookies} == {
        (CSRF_COOKIE, True, proxy.prefix), (SESSION_COOKIE, True, proxy.prefix)}
    status, _headers, page = fetch(client, "/rar")
    assert status == 200 and "Inkomna lägesrapporter" in page.decode()
    for _tag, link in links(page):
        proxy.below(link)
    states = {row["initiative_name"]: row["state_text"] for row in client.status()["rows"]}
    assert states["Steget vidare Katrineholm"] == "Inkommen" and states["Ny insats"] == "Saknas"
    with warnings.catch_warnings():  # openpyxl skips the master's conditional-format extensions
        warnings.simplefilter("ignore", UserWarning)
        assert load_workbook(client.master(tmp_path)).sheetnames == list(SHEETS)


def login_status(client: IntakeClient, password: str, headers: dict[str, str] | None = None) -> int:
    """The status of one login from the login page (200: RAR's page, after the redirect)."""
    _status, _headers, page = fetch(client, "/rar/login")
    form = urllib.parse.urlencode({"csrf_token": csrf_of(page.decode()), "username": "kansli",
                                   "password": password}).encode()
    return fetch(client, "/rar/login", form, {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})[0]


def test_the_login_brake_counts_each_client_behind_the_proxy(proxy: Proxy) -> None:
    guesser, colleague = proxy.client("127.0.0.2"), proxy.client("127.0.0.3")
    for attempt in range(5):  # each with a made-up X-Forwarded-For: nginx adds the real address last
        assert login_status(guesser, "fel lösenord", {"X-Forwarded-For": f"203.0.113.{attempt}"}) == 401
    assert login_status(guesser, PASSWORD) == 429
    assert login_status(guesser, PASSWORD, {"X-Forwarded-For": "198.51.100.1"}) == 429
    assert login_status(colleague, PASSWORD) == 200  # another machine behind the same proxy


def test_without_a_prefix_as_documented(tmp_path: Path, examples) -> None:
    block = documented_nginx()  # the changes the page names for a server of its own
    block = substitute(block, r"location /lagesrapport/ \{", "location / {")
    block = substitute(block, r"proxy_pass http://127\.0\.0\.1:8000/;", "proxy_pass http://127.0.0.1:8000;")
    block = substitute(block, r'href="/lagesrapport/"', 'href="/"')
    with proxied(tmp_path, block, without_options(documented_serve_options(), "--root-path")) as proxy:
        assert proxy.url == proxy.origin
        client = proxy.client()
        check_links(proxy, client, "/")
        status, answer = client.upload(examples[GOOD].read_bytes(), GOOD, proxy.key(GOOD))
        assert status == 201 and answer["receipt"]["receipt_url"].startswith("/kvitto/")
        assert fetch(client, answer["receipt"]["receipt_url"])[0] == 200
        assert {(item.name, item.secure, item.path) for item in client.cookies} == {(CSRF_COOKIE, True, "/")}
        status, headers, _ = proxy.raw("GET", "/rar/")
        assert status == 307 and headers["Location"] == proxy.origin + "/rar"


# --- in a browser ----------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_coordinator_in_chromium_through_the_proxy(proxy: Proxy, examples, tmp_path: Path) -> None:
    with chromium(tmp_path / "profil", flags=["--ignore-certificate-errors"]) as driver:  # the test's own certificate
        driver.get(proxy.url + "/")
        assert driver.title == "Kontrollera din fil – Lägesrapport till RAR"
        header = driver.find_element(By.CSS_SELECTOR, "header.top")
        assert header.value_of_css_property("background-color") == "rgba(32, 81, 122, 1)"  # the stylesheet came
        send(driver, examples[GOOD])
        assert driver.current_url.startswith(proxy.url + "/kvitto/")
        assert driver.find_element(By.CSS_SELECTOR, ".verdict h1").text == "Filen är kontrollerad: inga fel."
        assert {(c["name"], c["secure"], c["path"]) for c in driver.get_cookies()} == {(CSRF_COOKIE, True, proxy.prefix)}
        big = tmp_path / "film.xlsx"  # a file over nginx's limit, picked by mistake
        big.write_bytes(b"x" * (NGINX_LIMIT + 1))
        driver.get(proxy.url + "/")
        send(driver, big)
        assert driver.find_element(By.TAG_NAME, "h1").text == "Filen togs inte emot."
        assert driver.find_element(By.TAG_NAME, "p").text == TOO_LARGE
        click_and_wait(driver, driver.find_element(By.LINK_TEXT, "Till sidan för att skicka en lägesrapport"))
        assert driver.current_url == proxy.url + "/"


def send(driver, path: Path) -> None:
    """Pick the file on the check page that is open and press Kontrollera."""
    driver.find_element(By.NAME, "file").send_keys(str(path.resolve()))
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.upload button"))
