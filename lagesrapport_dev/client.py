"""A small HTTP client for the intake, and a real server on 127.0.0.1 for the demo and the tests.

`IntakeClient` needs only the standard library: an integrator's script (or scripts/demo) uploads
with it through the JSON API (with an insats' link key: a submission; without: a check only), and
logs in to read RAR's status the way a browser does (session cookie and CSRF token). `local_server` starts `lagesrapport serve` as a subprocess on a free
port of 127.0.0.1 — never another address — and stops it afterwards.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FILENAME = re.compile(r'filename="([^"]+)"')


def _quote_filename(name: str) -> str:
    """A file name inside a multipart header, escaped the way browsers do it."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{_quote_filename(filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n')
        chunks += [head.encode(), data, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


class FromAddress(urllib.request.HTTPHandler):
    """Plain HTTP from one loopback address (all of 127.0.0.0/8 is this machine): to the server,
    the client of another computer, with limits of its own."""

    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(http.client.HTTPConnection, req, source_address=(self.address, 0))


class IntakeClient:
    """One client of one server, with its own cookies (`cookies`, a standard cookie jar).

    `handlers` go to urllib's opener, each in place of its default of the same kind, e.g.
    `urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=...))` for a server
    whose certificate RAR's own authority signed."""

    def __init__(self, base_url: str, timeout: float = 120, handlers: Sequence[urllib.request.BaseHandler] = ()):
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), *handlers)
        self.answered = 0.0  # time.perf_counter() when the last answer's headers came (its body after)

    def request(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None,
                sink: Callable[[bytes], object] | None = None) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body); an error status is an answer too, not an exception. With `sink`,
        a successful answer's body goes to it a megabyte at a time instead (the body returned: b"")."""
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                self.answered = time.perf_counter()
                if sink is not None:
                    while piece := response.read(1 << 20):
                        sink(piece)
                    return response.status, dict(response.headers), b""
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            self.answered = time.perf_counter()
            with exc:
                return exc.code, dict(exc.headers), exc.read()

    def upload(self, content: bytes, file_name: str, key: str | None = None) -> tuple[int, dict[str, Any]]:
        """POST /api/uploads: the status and the JSON (receipt and the reader's result). With the
        insats' link `key` a submission for the insats, without one only a check."""
        body, content_type = multipart({}, {"file": (file_name, content)})
        headers = {"Content-Type": content_type}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        status, _headers, answer = self.request("/api/uploads", body, headers)
        return status, json.loads(answer)

    def _form(self, path: str, page: str, fields: dict[str, str],
              sink: Callable[[bytes], object] | None = None) -> tuple[int, dict[str, str], bytes]:
        """Submit a form of `page` with its CSRF token, as a browser would (`sink` as for request)."""
        status, _headers, html = self.request(page)
        token = _CSRF.search(html.decode("utf-8"))
        if token is None:
            raise RuntimeError(f"{page} ({status}) has no form")
        data = urllib.parse.urlencode({"csrf_token": token.group(1), **fields}).encode()
        return self.request(path, data, {"Content-Type": "application/x-www-form-urlencoded"}, sink)

    def login(self, password: str, user: str = "kansli") -> bool:
        """Log in to RAR's page (by default as the single password's account, `kansli`)."""
        status, _headers, _body = self._form("/rar/login", "/rar/login", {"username": user, "password": password})
        return status == 200  # followed the redirect to /rar

    def status(self) -> dict[str, Any]:
        """RAR's page as JSON (log in first)."""
        status, _headers, body = self.request("/rar/status.json")
        if status != 200:
            raise RuntimeError(f"/rar/status.json answered {status}: log in first")
        return json.loads(body)

    def master_bytes(self, *, approved_only: bool = False) -> int:
        """Press the button on RAR's page and take the zip as a browser on another machine would,
        without keeping it here (the load test: 150 MB written to this machine's disk at each press
        would be this client's cost, not the server's); returns its size."""
        taken: list = [0, b""]  # bytes so far, the first four

        def count(piece: bytes) -> None:
            taken[0] += len(piece)
            taken[1] = taken[1] or piece[:4]

        status, headers, _body = self._form("/rar/sammanstallning", "/rar",
                                            {"urval": "godkanda" if approved_only else "alla"}, sink=count)
        if status != 200 or taken[1] != b"PK\x03\x04":
            raise RuntimeError(f"no master workbook ({status})")
        if int(headers.get("content-length", taken[0])) != taken[0]:
            raise RuntimeError(f"the master's zip came short ({taken[0]} bytes)")
        return taken[0]

    def master(self, folder: str | Path, *, approved_only: bool = False) -> Path:
        """Press the button on RAR's page, save its zip into `folder` and unpack it there (the
        master and, in inkorg/, the files its links open); returns the master workbook."""
        status, headers, body = self._form("/rar/sammanstallning", "/rar",
                                           {"urval": "godkanda" if approved_only else "alla"})
        name = _FILENAME.search(headers.get("content-disposition", ""))
        if status != 200 or name is None:
            raise RuntimeError(f"no master workbook ({status})")
        target = Path(folder) / Path(name.group(1)).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        with zipfile.ZipFile(target) as packed:
            packed.extractall(target.parent)
            [workbook] = [name for name in packed.namelist() if "/" not in name and name.endswith(".xlsx")]
        return target.parent / workbook


# --- a local server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@contextmanager
def local_server(
    inbox: str | Path,
    *,
    args: Sequence[str] = (),
    password: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Iterator[str]:
    """`lagesrapport serve --inbox INBOX ARGS…` on 127.0.0.1 and a free port; yields its address.

    `password` reaches the server as LAGESRAPPORT_PASSWORD (it hashes it at start). The server's
    output goes to a temporary file, shown if it does not start."""
    port = free_port()
    command = [sys.executable, "-m", "lagesrapport_xl", "serve", "--inbox", str(inbox), "--host", LOOPBACK,
               "--port", str(port), "--quiet", *args]
    environment = {**os.environ, **(env or {})}
    if password is not None:
        environment["LAGESRAPPORT_PASSWORD"] = password
    url = f"http://{LOOPBACK}:{port}"
    with tempfile.TemporaryFile("w+") as log, child_process(
        command, env=environment, stdout=log, stderr=subprocess.STDOUT
    ) as process:
        _wait_until_ready(url, process, log, timeout)
        yield url


@contextmanager
def child_process(command: Sequence[str], **popen: Any) -> Iterator[subprocess.Popen]:
    """`command` as a child process until the block ends: then terminated (killed after 20 s)."""
    process = subprocess.Popen(command, **popen)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(url: str, process: subprocess.Popen, log: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    client = IntakeClient(url, timeout=5)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if client.request("/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    log.seek(0)
    raise RuntimeError(f"lagesrapport serve did not start at {url}:\n{log.read()}")
