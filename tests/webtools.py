"""Shared pieces of the web intake's tests: the demo reports as bytes, a register of them, forms,
the insatser's links and sending through them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lagesrapport_dev.examples import demo_files
from lagesrapport_xl.template.writer import write_template
from lagesrapport_xl.web import keys
from lagesrapport_xl.web.keys import Insats

GOOD = "Nyttiga_affarer_rapport_2.xlsx"
BROKEN = "Halsa_och_arbete_Eskilstuna_rapport_3.xlsx"  # an unreadable amount and a missing answer
WARNED = "Nyttiga_affarer_rapport_4.xlsx"  # a report period of nine months: one warning
FIRST, CORRECTED = "Steget_vidare_Katrineholm_rapport_2.xlsx", "Steget_vidare_Katrineholm_rapport_2_rattad.xlsx"
PASSWORD = "ett långt lösenord för RAR"
USER = "kansli"  # the single password's account (accounts.LEGACY_NAME)
ANSWERS = {example.name: example.answers for example in demo_files()}

# A register of the demo set (the headings are the form's labels), one row per state.
REGISTER = "\n".join([
    "Diarienummer hos RAR;Insatsens namn;Lägesrapport nr;Tidsperiod som rapporten avser (till)",
    "2021-0007;Steget vidare Katrineholm;2;",  # sent twice, corrected: received, one superseded
    "2022-0013;Hälsa och arbete Eskilstuna;3;",  # report 3 has errors: only rejected files
    "2020-0042;Nyttiga affärer;5;",  # report 5 never came: missing
    "2021-0021;Unga vuxna i Flen;2;",  # received
    "2025-0001;Ny insats;1;",  # nothing at all: missing
]) + "\n"


@pytest.fixture(scope="session")
def examples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fifteen demo reports, written from the template: name → path (never modify them)."""
    folder = tmp_path_factory.mktemp("exempel")
    return {example.name: write_template(folder / example.name, answers=example.answers) for example in demo_files()}


def register_file(folder: Path) -> Path:
    path = folder / "register.csv"
    path.write_text(REGISTER, encoding="utf-8")
    return path


def csrf_of(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def insats_of(name_or_answers: str | dict) -> Insats:
    """The insats of a demo report (by file name) or of answers: the link it must be sent through."""
    answers = ANSWERS[name_or_answers] if isinstance(name_or_answers, str) else name_or_answers
    found = Insats.of(answers)
    assert found is not None
    return found


def link_key(client, name_or_answers: str | dict) -> str:
    """The link key of a demo report's insats on the test client's server (issued once per client)."""
    insats = insats_of(name_or_answers)
    issued = client.__dict__.setdefault("link_keys", {})
    if insats.key not in issued:
        issued[insats.key] = keys.issue(client.app.state.web.store, insats, "test")[0]
    return issued[insats.key]


def send(client, content: bytes, name: str, sender: str | dict | None = None):
    """Submit through the insats' own page, as its coordinator would (the page, then the form);
    `sender` names whose link (a demo file name or answers; default: the file's own)."""
    key = link_key(client, sender if sender is not None else name)
    token = csrf_of(client.get(f"/insats/{key}").text)
    return client.post(f"/insats/{key}", data={"csrf_token": token}, files={"file": (name, content)})


def api_send(client, content: bytes, name: str, sender: str | dict | None = None):
    """Submit through the API with the insats' key."""
    key = link_key(client, sender if sender is not None else name)
    return client.post("/api/uploads", files={"file": (name, content)}, headers={"Authorization": f"Bearer {key}"})


def login(client, password: str = PASSWORD, user: str = USER):
    token = csrf_of(client.get("/rar/login").text)
    return client.post("/rar/login", data={"csrf_token": token, "username": user, "password": password})

