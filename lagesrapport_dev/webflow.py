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

from lagesrapport_xl.web import keys
from lagesrapport_xl.web.store import Store

from .client import IntakeClient
from .examples import demo_files, write_examples

BROKEN = "Halsa_och_arbete_Eskilstuna_rapport_3.xlsx"  # errors: the receipt lists them
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
    """Send a report with errors through its link and check another without one; the values of
    PAGES_FOR_CHECKS' placeholders: key, insats, token, check."""
    examples = {example.name: example for example in demo_files()}
    paths = {path.name: path for path in write_examples(Path(folder), [examples[BROKEN], examples[GOOD]])}
    issued = issue_links(state, [examples[BROKEN].answers])
    key = link_for(issued, examples[BROKEN].answers)
    client = IntakeClient(url)
    _status, sent = client.upload(paths[BROKEN].read_bytes(), BROKEN, key)
    _status, checked = client.upload(paths[GOOD].read_bytes(), GOOD)
    insats = keys.Insats.of(examples[BROKEN].answers)
    return {"key": key, "insats": quote(insats.key), "token": sent["receipt"]["token"],
            "check": checked["receipt"]["token"]}
