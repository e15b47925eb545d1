"""Links and a prepared server for the demo, the pictures and the page checks.

A real `lagesrapport serve` (client.local_server) shares its state folder's database with this
process, so links can be issued here, as RAR's page would issue them (web/keys.py), and used
over HTTP at once. `prepare_pages` fills a server with what every page of web/pages.PAGES_FOR_CHECKS
needs and returns the values of their placeholders.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lagesrapport_xl.consolidate.receipts import Review
from lagesrapport_xl.form.spec import default_spec
from lagesrapport_xl.web import keys, review
from lagesrapport_xl.web.store import Store

from .client import IntakeClient
from .examples import ExampleFile, demo_files, write_examples

BROKEN = "Halsa_och_arbete_Eskilstuna_rapport_3.xlsx"  # errors: the receipt lists them
EARLIER = "Halsa_och_arbete_Eskilstuna_rapport_2.xlsx"  # the same insats, without errors
GOOD = "Nyttiga_affarer_rapport_2.xlsx"


def issue_links(state: str | Path, answers: Iterable[dict[str, Any]], user: str = "demo") -> dict[str, str]:
    """A link key for the insats of each of `answers` (once per insats): insats key → secret."""
    store = Store(Path(state) / "intake.sqlite3")
    issued: dict[str, str] = {}
    for values in answers:
        insats = keys.Insats.of(values)
        if insats is not None and insats.key not in issued:
            issued[insats.key] = keys.issue(store, insats, user)[0]
    return issued


def link_for(issued: dict[str, str], answers: dict[str, Any]) -> str:
    insats = keys.Insats.of(answers)
    assert insats is not None
    return issued[insats.key]


def prepare_pages(url: str, state: str | Path, folder: str | Path) -> dict[str, str]:
    """Fill a server for the page checks: a report with errors through its link, a report of the
    same insats that RAR sends back for completion (a review with a comment pointing at a
    question) and its completed version, and three checks without a link (a report without errors,
    one with errors, a file that is no report). The values of PAGES_FOR_CHECKS' placeholders: key,
    insats, token, receipt_received, receipt_has_errors, receipt_refused."""
    examples = {example.name: example for example in demo_files()}
    completed = ExampleFile("kompletterad.xlsx", dict(examples[EARLIER].answers, deviations="Två träffar ställdes in."))
    chosen = [examples[BROKEN], examples[EARLIER], examples[GOOD], completed]
    paths = {path.name: path for path in write_examples(Path(folder), chosen)}
    issued = issue_links(state, [examples[BROKEN].answers])
    key = link_for(issued, examples[BROKEN].answers)
    insats = keys.Insats.of(examples[BROKEN].answers)
    client = IntakeClient(url)
    _status, sent = client.upload(paths[BROKEN].read_bytes(), BROKEN, key)
    _status, earlier = client.upload(paths[EARLIER].read_bytes(), EARLIER, key)
    spec = default_spec()
    review.save(Store(Path(state) / "intake.sqlite3"), sha256=earlier["receipt"]["sha256"],
                stored_name=earlier["receipt"]["stored_name"], insats=insats.key, insats_title=insats.title,
                report_number=earlier["receipt"]["report_number"], state=Review.SUPPLEMENT,
                comment="Beskriv avvikelserna.", chosen=review.pointers(spec, ["deviations"]), user="demo")
    client.upload(paths[completed.name].read_bytes(), completed.name, key)
    checks = {"receipt_received": (GOOD, paths[GOOD].read_bytes()),
              "receipt_has_errors": (BROKEN, paths[BROKEN].read_bytes()),
              "receipt_refused": ("rapport.xlsx", "Insatsens namn;Nyttiga affärer\n".encode())}
    values = {name: client.upload(content, file_name)[1]["receipt"]["token"]
              for name, (file_name, content) in checks.items()}
    return {"key": key, "insats": quote(insats.key), "token": sent["receipt"]["token"], **values}
