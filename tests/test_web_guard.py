"""Issue 21 (points 1, 4 and 6): the attacks tried on `lagesrapport serve`, replayed on 127.0.0.1,
and the harm each one can no longer do.

- A burst of wrong passwords from one address is counted before any password is checked: at most
  five checks, the rest 429 with Retry-After, and the lockout outlives a restart. Password checks
  run one at a time per account and two at most in the whole server.
- A session ends when the server restarts with another password hash or another secret.
- Uploads are limited per link key and per address per minute and in bytes per address per day,
  also for a burst sent at once (every upload still gets its log row); refused files kept for
  audit stay under their cap, the oldest removed and each removal logged.
- No redirect is built from the request's Host header.

Clients "from another machine" connect from another loopback address (all of 127.0.0.0/8 is this
machine). Loops are bounded; no time is asserted.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient
from test_web_http import make_client, web
from webtools import ANSWERS, GOOD, PASSWORD, csrf_of, examples, link_key, login, register_file  # noqa: F401

from lagesrapport_dev.client import LOOPBACK, FromAddress, IntakeClient, local_server
from lagesrapport_dev.webflow import issue_links, link_for
from lagesrapport_xl.web import audit
from lagesrapport_xl.web.app import CSRF_COOKIE, SESSION_COOKIE, create_app
from lagesrapport_xl.web.auth import hash_password
from lagesrapport_xl.web.rar_routes import BUSY, PasswordChecks
from lagesrapport_xl.web.settings import ENV_PASSWORD_HASH, Guard, SettingsError, build_settings, default_state, web_config
from lagesrapport_xl.web.store import Store

BURST = 100  # the attack used 400; the count is what matters, and it is exact at any size
NOT_A_REPORT = b"ingen rapport"


def host_port(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(url)
    return parsed.hostname, parsed.port


def raw(url: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
        source: str = LOOPBACK) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a connection of its own from `source`, redirects not followed."""
    host, port = host_port(url)
    connection = http.client.HTTPConnection(host, port, timeout=120, source_address=(source, 0))
    try:
        connection.request(method, path, body, headers or {})
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read()
    finally:
        connection.close()


def login_pair(url: str) -> tuple[str, str]:
    """A fresh CSRF cookie and its form token, as the login page gives them."""
    _status, headers, page = raw(url, "GET", "/rar/login")
    cookie = headers["Set-Cookie"].split(";")[0].partition("=")[2]
    return cookie, csrf_of(page.decode())


def login_post(url: str, pair: tuple[str, str], password: str, source: str = LOOPBACK) -> tuple[int, Any]:
    cookie, token = pair
    form = urllib.parse.urlencode({"csrf_token": token, "username": "kansli", "password": password}).encode()
    status, headers, _body = raw(url, "POST", "/rar/login", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"{CSRF_COOKIE}={cookie}"}, source)
    return status, headers


def rows(state: Path, query: str, *args: Any) -> list[Any]:
    with Store(state / "intake.sqlite3").connect() as db:
        return [tuple(row) for row in db.execute(query, args)]


# --- 1. logins -----------------------------------------------------------------------------------------


def test_a_burst_of_wrong_passwords_gets_five_checks_at_most_and_the_lockout_outlives_a_restart(
    tmp_path: Path, examples
) -> None:
    inbox = tmp_path / "inkorg"
    state = default_state(inbox)
    with local_server(inbox, password=PASSWORD) as url:
        pairs = [login_pair(url) for _ in range(BURST)]  # the token pairs first, as the attacker did
        start = threading.Barrier(BURST + 1, timeout=60)

        def guess(pair: tuple[str, str]) -> tuple[int, Any]:
            start.wait()
            return login_post(url, pair, "fel lösenord")

        def upload_meanwhile() -> int:
            start.wait()
            return IntakeClient(url, handlers=[FromAddress("127.0.0.2")]).upload(
                examples[GOOD].read_bytes(), GOOD)[0]

        with ThreadPoolExecutor(BURST + 1) as pool:
            uploaded = pool.submit(upload_meanwhile)
            answers = list(pool.map(guess, pairs))
        statuses = Counter(status for status, _headers in answers)
        assert set(statuses) <= {401, 429} and 1 <= statuses[401] <= 5, statuses
        assert all(0 < int(headers["Retry-After"]) <= 15 * 60 for status, headers in answers if status == 429)
        assert uploaded.result() == 200  # the upload sent during the burst was checked and answered
        failed = rows(state, "SELECT client FROM audit WHERE action = 'login_failed'")
        assert failed == [(LOOPBACK,)] * statuses[401]  # a failed login is a checked password
        assert rows(state, "SELECT COUNT(*) FROM login_attempts WHERE client = ?", LOOPBACK) == [(5,)]
        assert login_post(url, login_pair(url), PASSWORD)[0] == 429  # locked out, also with the right password
    with local_server(inbox, password=PASSWORD) as url:  # a restart forgets nothing
        assert login_post(url, login_pair(url), PASSWORD)[0] == 429
        status, headers = login_post(url, login_pair(url), PASSWORD, source="127.0.0.3")  # another machine
        assert status == 303 and headers["Location"] == "/rar"


def test_password_checks_run_one_at_a_time_per_account_and_two_at_most_in_the_server() -> None:
    checks = PasswordChecks(at_once=2)
    lock, release = threading.Lock(), threading.Event()
    running, most = [0], [0]

    def check() -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(30)
        with lock:
            running[0] -= 1
        return "kontrollerat"

    async def logins() -> dict[int, object]:
        results: dict[int, object] = {}

        async def one(number: int, account: str) -> None:
            results[number] = await checks.run(account, check)

        async with anyio.create_task_group() as group:
            for number, account in enumerate(("anna", "anna", "eva", "erik", "olle")):
                group.start_soon(one, number, account)
            await anyio.wait_all_tasks_blocked()
            release.set()
        return results

    results = anyio.run(logins)
    assert results[1] is BUSY  # anna's second login while her first was checked: no second check
    assert [results[n] for n in (0, 2, 3, 4)] == ["kontrollerat"] * 4
    assert 1 <= most[0] <= 2


def test_a_session_ends_when_the_server_restarts_with_another_password_hash_or_secret(tmp_path: Path) -> None:
    def server(password: str, session: str | None = None) -> TestClient:
        """The server restarted with this password's hash (a browser with `session`)."""
        settings = build_settings(tmp_path / "inkorg", environ={ENV_PASSWORD_HASH: hashes[password]}, login_delay=0)
        return TestClient(create_app(settings), follow_redirects=False,
                          cookies={SESSION_COOKIE: session} if session else None)

    hashes = {name: hash_password(name) for name in ("gamla lösenordet", "nya lösenordet")}
    first = server("gamla lösenordet")
    assert login(first, "gamla lösenordet").status_code == 303
    session = first.cookies[SESSION_COOKIE]
    assert server("gamla lösenordet", session).get("/rar").status_code == 200  # a restart alone keeps it
    assert server("nya lösenordet", session).get("/rar").headers["location"] == "/rar/login"
    assert server("gamla lösenordet", session).get("/rar").status_code == 303  # ended for good
    again = server("nya lösenordet")
    assert login(again, "nya lösenordet").status_code == 303
    session = again.cookies[SESSION_COOKIE]
    (tmp_path / "inkorg-server" / "secret.key").unlink()  # another secret
    assert server("nya lösenordet", session).get("/rar").status_code == 303


# --- 4. limits on uploads ------------------------------------------------------------------------------


def test_a_burst_through_one_link_gets_the_links_limit_and_the_address_its_own(tmp_path: Path, examples) -> None:
    inbox = tmp_path / "inkorg"
    state = default_state(inbox)
    guard = Guard()
    with local_server(inbox) as url:
        key = link_for(issue_links(state, [ANSWERS[GOOD]]), ANSWERS[GOOD])
        content = examples[GOOD].read_bytes()

        def send(_number: int) -> tuple[int, dict[str, Any]]:
            return IntakeClient(url).upload(content, GOOD, key)

        with ThreadPoolExecutor(8) as pool:  # sent at once: the count cannot be outrun
            answers = list(pool.map(send, range(25)))
        statuses = Counter(status for status, _answer in answers)
        assert statuses[201] == 1 and statuses[200] == guard.uploads_per_key_per_minute - 1
        assert statuses[429] == 25 - guard.uploads_per_key_per_minute
        limited = [answer["receipt"] for status, answer in answers if status == 429]
        assert {receipt["code"] for receipt in limited} == {"too_many_for_link"}
        assert all("Vänta" in answer["result"]["issues"][0]["message"] for status, answer in answers if status == 429)
        assert rows(state, "SELECT COUNT(*) FROM uploads") == [(25,)]  # every upload has its log row
        assert len(list(inbox.iterdir())) == 1
        # The same address through no link: checks, until the address's limit.
        checks = [IntakeClient(url).upload(NOT_A_REPORT, "anteckning.xlsx")[0]
                  for _ in range(guard.uploads_per_address_per_minute - guard.uploads_per_key_per_minute + 1)]
        assert checks[:-1] == [422] * (len(checks) - 1) and checks[-1] == 429
        status, headers, body = raw(url, "POST", "/api/uploads", *_multipart())
        assert status == 429 and 0 < int(headers["Retry-After"]) <= 60
        assert json.loads(body)["receipt"]["code"] == "too_many_uploads"
        # Another machine is not held up.
        assert IntakeClient(url, handlers=[FromAddress("127.0.0.2")]).upload(NOT_A_REPORT, "anteckning.xlsx")[0] == 422


def _multipart() -> tuple[bytes, dict[str, str]]:
    from lagesrapport_dev.client import multipart

    body, content_type = multipart({}, {"file": ("anteckning.xlsx", NOT_A_REPORT)})
    return body, {"Content-Type": content_type}


def test_large_refused_files_stay_under_their_cap_and_an_address_under_its_bytes_per_day(tmp_path: Path) -> None:
    inbox = tmp_path / "inkorg"
    state = default_state(inbox)
    config = tmp_path / "rar.toml"
    config.write_text("[web.limits]\nmb_per_address_per_day = 3\nrefused_files_mb = 2\n", encoding="utf-8")
    junk = [os.urandom(900 * 1024) for _ in range(4)]  # random bytes: no workbook, refused and kept
    with local_server(inbox, args=["--max-mb", "1", "--config", str(config)]) as url:
        key = link_for(issue_links(state, [ANSWERS[GOOD]]), ANSWERS[GOOD])
        client = IntakeClient(url)
        kept_sizes = []
        for content in junk[:3]:
            status, answer = client.upload(content, "slump.xlsx", key)
            assert status == 422 and answer["receipt"]["outcome"] == "refused"
            kept = [path.stat().st_size for path in (state / "avvisade").iterdir()]
            kept_sizes.append(sum(kept))
        assert max(kept_sizes) <= 2 * 2**20 and len(list((state / "avvisade").iterdir())) == 2
        [pruned] = [entry for entry in audit.rows(Store(state / "intake.sqlite3")) if entry.action == "refused_pruned"]
        assert "taket för sparade avvisade filer (2 MB)" in pruned.detail
        status, answer = client.upload(junk[3], "slump.xlsx", key)  # 2.7 MB today: the fourth would pass 3 MB
        assert status == 429 and answer["receipt"]["code"] == "too_many_bytes"
        assert "det senaste dygnet" in answer["result"]["issues"][0]["message"]
        assert len(list((state / "avvisade").iterdir())) == 2  # not read, not kept
        other = IntakeClient(url, handlers=[FromAddress("127.0.0.2")])
        assert other.upload(junk[3], "slump.xlsx", key)[0] == 422  # another address has its own day


def test_the_upload_form_answers_a_limit_with_a_swedish_page_and_retry_after(tmp_path: Path, examples) -> None:
    client = make_client(tmp_path, guard=Guard(uploads_per_key_per_minute=1))
    key = link_key(client, GOOD)
    page = client.get(f"/insats/{key}").text
    first = client.post(f"/insats/{key}", data={"csrf_token": csrf_of(page)},
                        files={"file": (GOOD, examples[GOOD].read_bytes())})
    assert first.status_code == 303
    second = client.post(f"/insats/{key}", data={"csrf_token": csrf_of(page)},
                         files={"file": (GOOD, examples[GOOD].read_bytes())})
    assert second.status_code == 429 and 0 < int(second.headers["retry-after"]) <= 60
    text = second.text
    assert "Filen togs inte emot." in text and "högst 1 i minuten per länk" in text and "Vänta" in text
    assert "För många uppladdningar på kort tid" in text and f'href="/insats/{key}"' in text
    assert [row["code"] for row in _log(client)] == [None, "too_many_for_link"]


def test_wrong_keys_and_wrong_links_count_against_the_address_too(tmp_path: Path) -> None:
    client = make_client(tmp_path, guard=Guard(uploads_per_address_per_minute=2))
    wrong = {"Authorization": "Bearer " + "x" * 32}
    assert client.post("/api/uploads", headers=wrong, files={"file": ("a.xlsx", NOT_A_REPORT)}).status_code == 401
    assert client.post("/insats/" + "y" * 32, files={"file": ("a.xlsx", NOT_A_REPORT)}).status_code == 404
    answer = client.post("/api/uploads", headers=wrong, files={"file": ("a.xlsx", NOT_A_REPORT)})
    assert answer.status_code == 429 and answer.json()["receipt"]["code"] == "too_many_uploads"
    assert 0 < int(answer.headers["retry-after"]) <= 60
    page = client.post("/insats/" + "y" * 32, files={"file": ("a.xlsx", NOT_A_REPORT)})
    assert page.status_code == 429 and "högst 2 i minuten från en adress" in page.text and "retry-after" in page.headers
    assert [row["code"] for row in _log(client)] == ["bad_key", "too_many_uploads"]


def _log(client: TestClient) -> list[dict[str, Any]]:
    with web(client).store.connect() as db:
        return [dict(row) for row in db.execute("SELECT * FROM uploads ORDER BY id")]


def test_the_limits_come_from_rar_toml_and_bad_ones_are_refused_in_swedish(tmp_path: Path) -> None:
    config = tmp_path / "rar.toml"
    config.write_text("[web]\npublic_url = 'https://rapporter.rar.example/lagesrapport/'\n[web.limits]\n"
                      "uploads_per_key_per_minute = 3\nmb_per_address_per_day = 50.5\n", encoding="utf-8")
    settings = build_settings(tmp_path / "inkorg", table=web_config(config), environ={})
    assert settings.guard == Guard(uploads_per_key_per_minute=3, mb_per_address_per_day=50.5)
    assert settings.public_url == "https://rapporter.rar.example/lagesrapport"
    assert build_settings(tmp_path / "inkorg", environ={}).guard == Guard()  # the defaults
    for table, message in (
        ({"limits": {"uploads_per_minute": 3}}, "okända inställningar i \\[web.limits\\]: uploads_per_minute"),
        ({"limits": {"uploads_per_key_per_minute": 0}}, "ska vara ett helt tal större än 0"),
        ({"limits": {"uploads_per_key_per_minute": 2.5}}, "ska vara ett helt tal"),
        ({"limits": {"login_window_minutes": "15"}}, "ska vara ett tal större än 0"),
        ({"limits": {"refused_files_mb": 5}}, "refused_files_mb ska vara minst lika stor som största fil"),
        ({"public_url": "rapporter.rar.example"}, "public_url ska vara en webbadress"),
    ):
        with pytest.raises(SettingsError, match=message):
            build_settings(tmp_path / "inkorg", table=table, environ={})


# --- 6. redirects ----------------------------------------------------------------------------------


def test_no_redirect_is_built_from_the_host_header(tmp_path: Path) -> None:
    evil = {"Host": "evil.example"}
    with local_server(tmp_path / "inkorg", password=PASSWORD) as url:
        status, headers, _ = raw(url, "GET", "/rar/", headers=evil)
        assert status == 307 and headers["Location"] == "/rar"
        status, headers, _ = raw(url, "GET", "/rar/logg/?i=dnr%3A2021-0007", headers=evil)
        assert status == 307 and headers["Location"] == "/rar/logg?i=dnr%3A2021-0007"
        status, headers, _ = raw(url, "GET", "/rar", headers=evil)
        assert status == 303 and headers["Location"] == "/rar/login"
        assert raw(url, "GET", "/finns-inte/", headers=evil)[0] == 404
        assert raw(url, "GET", "//evil.example/", headers=evil)[0] == 404
    client = TestClient(create_app(build_settings(tmp_path / "inkorg", environ={})), root_path="/lagesrapport",
                        follow_redirects=False)
    answer = client.get("/lagesrapport/rar/", headers={"host": "evil.example"})
    assert answer.status_code == 307 and answer.headers["location"] == "/lagesrapport/rar"


def test_a_new_link_is_built_from_the_configured_public_address(tmp_path: Path) -> None:
    client = make_client(tmp_path, register=register_file(tmp_path),
                         public_url="https://rapporter.rar.example/lagesrapport")
    login(client)
    page = client.get("/rar/insats", params={"i": "dnr:2021-0007"}, headers={"host": "evil.example"}).text
    made = client.post("/rar/lank", data={"csrf_token": csrf_of(page), "i": "dnr:2021-0007"},
                       headers={"host": "evil.example"})
    assert "https://rapporter.rar.example/lagesrapport/insats/" in made.text and "evil.example" not in made.text
