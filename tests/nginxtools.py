"""A real nginx in front of a real `lagesrapport serve`, configured by docs/web.md itself.

The reverse-proxy section of docs/web.md gives an nginx `server` block and a `lagesrapport serve`
line. The proxy tests read both from the page and change only what a test machine must: the
listening address (an unprivileged free port of 127.0.0.1 instead of 443), the certificate (a
self-signed one made here) and the upstream port. Each change must find its documented line
exactly once, so the page and the test cannot drift apart unnoticed.

nginx runs as a child process in the foreground (`daemon off`) with its own prefix, pid file,
temporary folders and logs in the test's folder; the system's /etc/nginx is never read.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lagesrapport_dev.client import LOOPBACK, child_process

DOCS = Path(__file__).resolve().parents[1] / "docs" / "web.md"
SECTION = "## Bakom en omvänd proxy"
NGINX = "/usr/sbin/nginx"
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def documented_section(docs: Path = DOCS) -> str:
    text = docs.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:] if end < 0 else text[start:end]


def fenced(section: str, language: str) -> str:
    """The one ```language block of a section."""
    blocks = re.findall(rf"^```{language}\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, f"the section should have one ```{language} block, not {len(blocks)}"
    return blocks[0]


def documented_nginx() -> str:
    return fenced(documented_section(), "nginx")


def documented_serve_options() -> list[str]:
    """The options of the documented `lagesrapport serve` line (its environment variable left out)."""
    words = shlex.split(fenced(documented_section(), "bash").replace("\\\n", " "))
    at = words.index("serve")
    assert words[at - 1] == "lagesrapport", words
    return words[at + 1:]


def without_options(options: list[str], *names: str) -> list[str]:
    """`options` without the named ones and their values (`--port 8000`)."""
    kept, skip = [], False
    for word in options:
        if skip:
            skip = False
        elif word in names:
            skip = True
        else:
            kept.append(word)
    return kept


def substitute(text: str, pattern: str, replacement: str) -> str:
    """`text` with the one match of `pattern` replaced; no match or several is an error."""
    changed, count = re.subn(pattern, lambda _match: replacement, text, flags=re.MULTILINE)
    assert count == 1, f"the documented nginx block should match {pattern!r} once, not {count} times"
    return changed


def proxied_server_block(documented: str, *, port: int, upstream: str, cert: Path, key: Path) -> str:
    """The documented server block on 127.0.0.1:`port`, with this certificate and upstream."""
    block = substitute(documented, r"^[ \t]*listen\s+443\s+ssl;", f"    listen {LOOPBACK}:{port} ssl;")
    block = substitute(block, r"^[ \t]*ssl_certificate\s+\S+;", f"    ssl_certificate {cert};")
    block = substitute(block, r"^[ \t]*ssl_certificate_key\s+\S+;", f"    ssl_certificate_key {key};")
    return substitute(block, r"http://127\.0\.0\.1:8000\b", upstream)


def self_signed(folder: Path, host: str = "rapporter.rar.example") -> tuple[Path, Path]:
    """A certificate for `host` and 127.0.0.1 and its key, made by openssl (valid for two days)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=DNS:{host},IP:{LOOPBACK}"],
        check=True, capture_output=True,
    )
    return cert, key


def nginx_conf(folder: Path, server_block: str) -> str:
    """A whole nginx.conf around one server block: foreground, one worker, everything in `folder`."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""  # workers as us, not nobody
    temps = "".join(f"    {kind}_temp_path {folder / kind};\n" for kind in TEMP_KINDS)
    return (
        f"daemon off;\n{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} info;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temps}\n{server_block}}}\n"
    )


@contextmanager
def nginx(folder: Path, server_block: str, port: int, timeout: float = 30) -> Iterator[Path]:
    """nginx serving `server_block` (which listens on 127.0.0.1:`port`) until the block ends;
    yields its folder (error.log and access.log are there)."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(nginx_conf(folder, server_block), encoding="utf-8")
    binary = shutil.which("nginx") or NGINX
    if not Path(binary).exists():
        raise RuntimeError("nginx is missing: scripts/install-system-deps installs Debian's package nginx")
    command = [binary, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")]
    checked = subprocess.run([*command, "-t", "-q"], check=False, capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx refuses its configuration {conf}:\n{checked.stderr}")
    with child_process(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        _wait_for_port(port, process, folder, timeout)
        yield folder


def _wait_for_port(port: int, process: subprocess.Popen, folder: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    log = folder / "error.log"
    raise RuntimeError(f"nginx did not start on {LOOPBACK}:{port}:\n{log.read_text() if log.exists() else ''}")

