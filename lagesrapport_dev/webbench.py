"""RAR's page and the master button timed against a real `lagesrapport serve` on 127.0.0.1: the
case `web` of scripts/benchmark.py (issue 19).

Each inbox size gets a server whose state is what uploads leave: every report went through the
intake (`Intake.receive`, which is what an upload does, minus HTTP), so the log, the inbox and the
intake's cache hold them all, and RAR's register lists every insats of the largest inbox. That
state is filled once and kept (`web-N/orörd/`); each benchmark run serves a copy of it (the
reports hard-linked, the SQLite files copied), so every run starts from the same state.

The servers run side by side and the rounds alternate between them, so a machine that drifts
affects every size alike. A round uploads one new report over HTTP, then times the first view of
RAR's page after it (the page is built again), a repeated view, the status JSON and the master
button, and checks that the page counts every file and upload. Bounded: a few rounds, each request
with a time limit, servers only on 127.0.0.1 and stopped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from lagesrapport_xl.consolidate.cache import reading_context
from lagesrapport_xl.form.spec import default_spec
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.template.prefill import write_register_workbook
from lagesrapport_xl.web import keys
from lagesrapport_xl.web.intake import Intake, Outcome
from lagesrapport_xl.web.keys import Insats
from lagesrapport_xl.web.settings import build_settings

from .client import _CSRF, IntakeClient, local_server
from .examples import bulk_files

PASSWORD = "benchmarkens lösenord"  # a throwaway server's
REQUEST_SECONDS = 600  # the longest any one request may take before the case fails
PAGE_TARGET_S = 0.5  # issue 19: RAR's page at 6 400 reports
SIZE_TARGET = 2.0  # and the largest inbox's page within 2× of the smallest's
T = TypeVar("T")


def _timed(call: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    answer = call()
    return time.perf_counter() - started, answer


def write_register(path: Path, reports: int) -> int:
    """RAR's register of every insats among the first `reports` generated reports, each at the
    last report it sent (as the demo register is made); its number of rows."""
    spec = default_spec()
    latest: dict[str, dict[str, Any]] = {}
    for example in bulk_files(reports, spec):
        latest[example.answers["case_number"]] = example.answers  # the reports of an insats come in order
    rows = [{key: value for key, value in answers.items() if spec.fields[key].prefill}
            for answers in latest.values()]
    write_register_workbook(path, spec, rows)
    return len(rows)


def fill(reports: Sequence[Path], pristine: Path, register: Path) -> dict[str, float]:
    """Every report received by the intake of a server whose inbox is `pristine`/inkorg (state beside
    it), kept while the reports and the reading context are the same; the time per upload at the start
    and at the end of the filling (empty when the state was kept)."""
    stamp = pristine / "fylld.json"
    wanted = {"reports": [p.name for p in reports], "context": reading_context(default_spec()), "through": "links"}
    if stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")) == wanted:
        return {}
    shutil.rmtree(pristine, ignore_errors=True)
    intake = Intake(build_settings(pristine / "inkorg", register=register, environ={}))
    seconds = []
    started = time.perf_counter()
    for index, path in enumerate(reports, start=1):
        insats = insats_of(path)  # through the insats' link: a report sent without one is only checked
        took, receipt = _timed(partial(intake.receive, path.read_bytes(), path.name, insats=insats))
        if receipt.outcome is Outcome.REFUSED or receipt.stored_name is None:
            raise RuntimeError(f"{path.name} togs inte emot: {receipt.result}")
        seconds.append(took)
        if index % 100 == 0 or index == len(reports):
            print(f"\r  tar emot rapporter i {pristine.parent.name}: {index}/{len(reports)}", end="",
                  file=sys.stderr, flush=True)
    intake.cache.close()
    window = min(100, len(seconds))
    figures = {"fill_s": time.perf_counter() - started,
               "first_upload_ms": 1000 * statistics.median(seconds[:window]),
               "last_upload_ms": 1000 * statistics.median(seconds[-window:])}
    print(f"\r  {len(reports)} rapporter mottagna på {figures['fill_s']:.0f} s "
          f"({figures['first_upload_ms']:.0f} ms per rapport i början, "
          f"{figures['last_upload_ms']:.0f} ms i slutet)", file=sys.stderr)
    stamp.write_text(json.dumps(wanted), encoding="utf-8")
    return figures


def insats_of(path: Path) -> Insats:
    """The insats a generated report is from (its link is the one it is sent through)."""
    read = read_report(path)
    insats = Insats.of(read.report.answers() if read.report is not None else read.values)
    if insats is None:
        raise RuntimeError(f"{path.name} säger inte vilken insats den är från")
    return insats


def issue_links(inbox: Path, register: Path, reports: Sequence[Path]) -> list[str]:
    """A link key for the insats of each of `reports` on the state of `inbox` (before its server starts)."""
    store = Intake(build_settings(inbox, register=register, environ={})).store
    issued: dict[str, str] = {}  # one key an insats: a new one would revoke the last
    for insats in map(insats_of, reports):
        if insats.key not in issued:
            issued[insats.key] = keys.issue(store, insats, "benchmark")[0]
    return [issued[insats_of(path).key] for path in reports]


def working_copy(pristine: Path, target: Path) -> Path:
    """A copy of a filled state to serve: files hard-linked (the intake never changes a file in
    place), SQLite databases copied through SQLite (their journals are never copied)."""

    def place(source: str, copy: str) -> None:
        if source.endswith(("-wal", "-shm", "-journal")):
            return
        if source.endswith((".sqlite", ".sqlite3")):
            with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(copy)) as duplicate:
                original.backup(duplicate)
        else:
            os.link(source, copy)

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(pristine, target, copy_function=place)
    return target / "inkorg"


def _page(client: IntakeClient, path: str) -> bytes:
    status, _headers, body = client.request(path)
    if status != 200:
        raise RuntimeError(f"{path} svarade {status}")
    return body


def _master(client: IntakeClient, page: bytes) -> int:
    """Press the master button of a page already fetched; the workbook's size in bytes."""
    token = _CSRF.search(page.decode("utf-8"))
    if token is None:
        raise RuntimeError("RAR:s sida har inget formulär")
    data = urllib.parse.urlencode({"csrf_token": token.group(1)}).encode()
    status, headers, body = client.request("/rar/sammanstallning", data,
                                           {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200 or "attachment" not in headers.get("content-disposition", ""):
        raise RuntimeError(f"sammanställningsknappen svarade {status}")
    return len(body)


def _one_round(client: IntakeClient, extra: Path, key: str, expected: int) -> tuple[dict[str, float], list[str]]:
    """Upload one new report through its link, then time the page, the JSON and the button; and what
    did not add up."""
    figures: dict[str, float] = {}
    figures["upload_s"], (status, _answer) = _timed(lambda: client.upload(extra.read_bytes(), extra.name, key))
    figures["first_view_s"], page = _timed(lambda: _page(client, "/rar"))
    figures["repeat_view_s"], page = _timed(lambda: _page(client, "/rar"))
    figures["status_s"], body = _timed(lambda: _page(client, "/rar/status.json"))
    figures["master_s"], figures["master_bytes"] = _timed(lambda: _master(client, page))
    figures["page_bytes"] = len(page)
    shown = json.loads(body)
    problems = []
    if status != 201:
        problems.append(f"uppladdningen svarade {status}, inte 201")
    if shown["files"]["found"] != expected or shown["uploads"]["uploads"] != expected:
        problems.append(f"sidan räknar {shown['files']['found']} filer och {shown['uploads']['uploads']} "
                        f"uppladdningar, inte {expected}")
    return figures, problems


def measure_web(inboxes: dict[int, list[Path]], extras: Sequence[Path], workdir: Path, *, rounds: int
                ) -> dict[str, Any]:
    """The case `web`: for each size (its generated reports), a server with those reports received;
    `rounds` rounds, each uploading the next of `extras` to every server. Prints and returns the figures."""
    sizes = sorted(inboxes)
    register = workdir / f"web-register-{max(sizes)}.xlsx"
    insatser = write_register(register, max(sizes))  # the same bytes every time
    results: dict[str, Any] = {"register_rows": insatser, "sizes": {}}
    served = {}
    for size in sizes:
        results["sizes"][size] = {"fill": fill(inboxes[size], workdir / f"web-{size}" / "orörd", register)}
        served[size] = working_copy(workdir / f"web-{size}" / "orörd", workdir / f"web-{size}" / "körning")
    links = {size: issue_links(served[size], register, extras[:rounds]) for size in sizes}
    problems: list[str] = []
    with ExitStack() as servers:
        clients = {}
        for size in sizes:
            url = servers.enter_context(local_server(served[size], args=["--register", str(register)],
                                                     password=PASSWORD, timeout=120))
            clients[size] = IntakeClient(url, timeout=REQUEST_SECONDS)
            if not clients[size].login(PASSWORD):  # its redirect builds the page once
                raise RuntimeError(f"inloggningen på {url} misslyckades")
        runs: dict[int, list[dict[str, float]]] = {size: [] for size in sizes}
        for turn in range(rounds):
            for size in sizes:
                figures, wrong = _one_round(clients[size], extras[turn], links[size][turn], size + turn + 1)
                runs[size].append(figures)
                problems += [f"{size} rapporter, omgång {turn + 1}: {text}" for text in wrong]
    for size in sizes:
        medians = {key: statistics.median(run[key] for run in runs[size]) for key in runs[size][0]}
        results["sizes"][size] |= {"rounds": runs[size], "median": medians}
        print(f"(web) {size} rapporter i inkorgen, registret {insatser} insatser: "
              f"uppladdning {medians['upload_s']:.2f} s; RAR:s sida första visningen efter den "
              f"{medians['first_view_s']:.3f} s, igen {medians['repeat_view_s']:.3f} s, "
              f"JSON {medians['status_s']:.3f} s ({medians['page_bytes'] / 1024:.0f} kB); "
              f"sammanställningsknappen {medians['master_s']:.2f} s "
              f"({medians['master_bytes'] / 2**20:.1f} MB) (median av {rounds})")
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        turns = [b["first_view_s"] / a["first_view_s"] for a, b in zip(runs[small], runs[large])]
        results["large_over_small_per_turn"] = turns
        print(f"(web) sidan {large}/{small}: {statistics.median(turns):.2f} (i varje omgång: "
              f"{', '.join(f'{r:.2f}' for r in turns)}; mål ≤ {SIZE_TARGET:.0f})")
    results["problems"] = problems
    for text in problems:
        print(f"(web) STÄMMER INTE: {text}")
    return results
