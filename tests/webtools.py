"""Shared pieces of the web intake's tests: the demo reports as bytes, a register of them, forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lagesrapport_dev.examples import demo_files
from lagesrapport_xl.template.writer import write_template

GOOD = "Nyttiga_affarer_rapport_2.xlsx"
BROKEN = "Halsa_och_arbete_Eskilstuna_rapport_3.xlsx"  # an unreadable amount and a missing answer
WARNED = "Nyttiga_affarer_rapport_4.xlsx"  # a report period of nine months: one warning
FIRST, CORRECTED = "Steget_vidare_Katrineholm_rapport_2.xlsx", "Steget_vidare_Katrineholm_rapport_2_rattad.xlsx"
PASSWORD = "ett långt lösenord för RAR"

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
