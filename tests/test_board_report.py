"""The board report (issue 22, point 2): `lagesrapport board-report` and RAR's button write a PDF
that renders (poppler's pdftoppm), has no text under 9 pt on any page (every character measured
from the PDF with pdfminer.six, the charts' labels too), is Swedish, is the same bytes from the same
inputs, lists the register's missing insatser and shortens a long answer with a pointer to it.

The inputs are the demo set written from the template, its register, and reports filled as a
person would (openpyxl typing into the template) or generated in bulk.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from pdfminer.layout import LTChar
from pdftools import pages_of, smallest, text_of
from PIL import Image
from webtools import examples  # noqa: F401  (the demo reports as the web tests send them)

from lagesrapport_dev.examples import SILENT_INSATS, bulk_files, demo_files, write_demo_register, write_examples
from lagesrapport_xl.board import board_facts, board_report_bytes, write_board_report
from lagesrapport_xl.board.pages import MIN_PT, shorten
from lagesrapport_xl.cli import main
from lagesrapport_xl.consolidate import consolidate
from lagesrapport_xl.reader.register import read_register

DEMO_INSATSER = 5
TITLE = "Lägesrapporter till styrelsen"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo set, its register and the report the command wrote from them."""
    folder = tmp_path_factory.mktemp("styrelse")
    inbox = folder / "inkorg"
    write_examples(inbox, demo_files())
    register = write_demo_register(folder / "register.xlsx")
    pdf = folder / "ut" / "styrelserapport.pdf"
    assert main(["board-report", str(inbox), "--register", str(register), "--no-cache", "-q", "-o", str(pdf)]) == 0
    return {"inbox": inbox, "register": register, "pdf": pdf, "folder": folder}


def flat(text: str) -> str:
    """Text with the line breaks and spaces taken out: words cut over lines still match."""
    return "".join(text.split())


def assert_readable(pdf: Path, pages: int) -> list[list[LTChar]]:
    """pdftoppm renders every page, none blank, and every character of every page is ≥ 9 pt."""
    out = Path(tempfile.mkdtemp(prefix=f"{pdf.stem}-bilder-", dir=pdf.parent))
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(out / "sida")], check=True, timeout=300)
    pictures = sorted(out.glob("sida-*.png"))
    assert len(pictures) == pages
    for picture in pictures:
        with Image.open(picture) as image:
            assert image.size[0] < image.size[1]  # A4 portrait
            assert image.convert("L").getextrema()[0] < 100, f"{picture.name} is blank"
    measured = pages_of(pdf)
    assert len(measured) == pages
    for number, page in enumerate(measured, 1):
        assert page, f"page {number} has no text"
        least = smallest(page)
        assert least.size >= MIN_PT - 0.01, f"page {number}: {least.get_text()!r} at {least.size:.2f} pt"
    return measured


def test_the_demo_sets_report_renders_with_no_text_under_9_pt(demo) -> None:
    pages = assert_readable(demo["pdf"], 1 + DEMO_INSATSER)
    texts = [text_of(page) for page in pages]
    assert texts[0].startswith(flat(TITLE))
    for name in ("Hälsa och arbete Eskilstuna", "Nyttiga affärer", "Samverkansforum Vingåker"):
        assert flat(name) in flat(texts[0])
        assert sum(flat(name) in flat(t) for t in texts[1:]) == 1  # one page of its own
    # The charts' labels are text in the PDF, measured like the rest (at 9.5 pt).
    eskilstuna = next(page for page in pages[1:] if "Eskilstuna" in text_of(page))
    assert "Antaldeltagare" in flat(text_of(eskilstuna)) and "Personalkostnader" in text_of(eskilstuna)
    assert any(abs(c.size - 9.5) < 0.01 for c in eskilstuna)
    for word in ("Deltagare", "Budget", "Svar i fritext", "Status", "förbrukat", "tid har gått"):
        assert flat(word) in flat(text_of(eskilstuna)), word


def test_the_summary_says_status_plan_budget_against_time_and_both_assessments(demo) -> None:
    consolidation = consolidate([demo["inbox"]], workers=1)
    facts = board_facts(consolidation)
    assert len(facts.insatser) == DEMO_INSATSER
    summary = flat(text_of(pages_of(demo["pdf"])[0]))
    for heading in ("Status", "Deltagarefaktiskt(planerat)", "Budgetförbrukad/tidsomgått", "egen/beräknad"):
        assert heading in summary
    for insats in facts.insatser:
        overview = consolidation.tables["overview"]
        row = [i for i, (case, number) in enumerate(zip(overview.values("case_number"), overview.values("report_number")))
               if case == insats.case_number and number == insats.report_number]
        assert len(row) == 1  # the latest report of each insats
        total = next(g for g in insats.participants if g.label == "Totalt")
        assert total.actual == overview.value(row[0], "actual")
        shown = "inga uppgifter" if total.actual is None else f"{total.actual} ({total.planned_min}–{total.planned_max})"
        assert flat(shown) in summary
        assert flat(f"{round(insats.used_share * 100)} % / {round(insats.elapsed_share * 100)} %") in summary
        assert insats.own_assessment == overview.value(row[0], "budget_on_track")
        assert insats.computed_assessment == overview.value(row[0], "budget_in_line_computed")
        assert insats.status in ("Godkänd", "Godkänd med varningar")
    disagreeing = [i for i in facts.insatser if i.own_assessment != i.computed_assessment]
    assert disagreeing and summary.count("avviker") == len(disagreeing)


def test_the_register_says_who_is_missing(demo) -> None:
    summary = flat(text_of(pages_of(demo["pdf"])[0]))
    assert "Insatsersominteharrapporterat" in summary
    assert flat(f"{SILENT_INSATS.case_number} {SILENT_INSATS.name}") in summary
    rows, _problems = read_register(demo["register"])
    facts = board_facts(consolidate([demo["inbox"]], workers=1, register=rows))
    assert {m.name for m in facts.missing} >= {SILENT_INSATS.name}
    for missing in facts.missing:
        assert flat(f"{missing.name}") in summary and flat(missing.state.lower()) in summary
    # Without a register the report says it cannot tell.
    without = demo["folder"] / "utan_register.pdf"
    assert main(["board-report", str(demo["inbox"]), "--no-cache", "-q", "-o", str(without)]) == 0
    assert "Ingetregister" in text_of(pages_of(without)[0])


def test_the_same_inputs_give_the_same_bytes(demo) -> None:
    again = demo["folder"] / "igen.pdf"
    assert main(["board-report", str(demo["inbox"]), "--register", str(demo["register"]), "--no-cache", "-q",
                 "-o", str(again)]) == 0
    assert again.read_bytes() == demo["pdf"].read_bytes()
    rows, _problems = read_register(demo["register"])
    in_process = board_report_bytes(consolidate([demo["inbox"]], workers=1, register=rows))
    assert in_process == demo["pdf"].read_bytes()
    # A different input gives a different report (the bytes say something about the inputs).
    assert board_report_bytes(consolidate([demo["inbox"]], workers=1)) != in_process


def test_swedish_throughout(demo) -> None:
    text = "".join(text_of(page) for page in pages_of(demo["pdf"]))
    for letters in ("å", "ä", "ö", "Ö", "–"):
        assert letters in text, letters
    for phrase in ("Sammanfattning", "Insatsersomintehar", "Såläsestabellen", "Svarifritext", "Beviljadbudget",
                   "Ackumuleratutfall", "Förväntatefterförflutentid", "Planerat(från–till)", "Faktiskt"):
        assert phrase in flat(text), phrase
    assert "sida1av6" in text


def test_a_long_answer_is_shortened_with_a_pointer_to_the_whole_answer(fill, answers, tmp_path: Path) -> None:
    long = " ".join(f"Mötet nummer {n} med arbetsförmedlingen och kommunen gick bra." for n in range(60))
    answers["activities"] = long + " SLUTET"
    answers["upcoming_activities"] = "Fler möten i Gnesta och Flen."
    report = fill(answers, "lang_rapport.xlsx")
    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    shutil.move(report, inbox / report.name)
    consolidation = consolidate([inbox], workers=1)
    assert consolidation.counts["accepted"] + consolidation.counts["warnings"] == 1
    pdf = write_board_report(consolidation, tmp_path / "styrelserapport.pdf")
    pages = assert_readable(pdf, 2)
    page = flat(text_of(pages[1]))
    assert flat("Mötet nummer 0 med arbetsförmedlingen") in page
    assert "SLUTET" not in page  # shortened …
    assert flat("[Förkortat: hela svaret står i sammanställningen, bladet Texter, 2020-0042 rapport nr 2.]") in page
    assert flat("Fler möten i Gnesta och Flen.") in page  # a short answer stays whole
    texts = consolidation.tables["texts"]
    assert texts.values("activities") == [answers["activities"]]  # … and whole where the pointer points


def test_shorten_cuts_at_a_word() -> None:
    assert shorten("kort svar", 100, "[mer]") == "kort svar"
    assert shorten("ett två tre fyra fem", 12, "[mer]") == "ett två tre … [mer]"


def test_generated_reports_of_many_insatser_keep_one_page_each_and_9_pt(tmp_path: Path) -> None:
    """Twenty-two insatser: the summary table runs over two pages with its headings repeated."""
    inbox = tmp_path / "inkorg"
    write_examples(inbox, bulk_files(22, reports_per_insats=1))
    pdf = tmp_path / "styrelserapport.pdf"
    assert main(["board-report", str(inbox), "--no-cache", "-q", "-o", str(pdf)]) == 0
    facts = board_facts(consolidate([inbox], workers=1))
    assert len(facts.insatser) == 22
    pages = pages_of(pdf)
    summary_pages = len(pages) - 22
    assert summary_pages == 2
    assert_readable(pdf, len(pages))
    for page in pages[:summary_pages]:
        assert flat("Budget förbrukad / tid som gått") in flat(text_of(page))  # headings on every page
    for insats, page in zip(facts.insatser, pages[summary_pages:]):
        assert flat(insats.name) in flat(text_of(page))


def test_the_command_refuses_what_it_cannot_do(tmp_path: Path, capsys) -> None:
    assert main(["board-report", str(tmp_path / "finns_inte"), "--no-cache", "-o", str(tmp_path / "x.pdf")]) == 2
    assert main(["board-report", str(tmp_path), "--approved-only", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "--approved-only kräver --state" in capsys.readouterr().err
    (tmp_path / "tom").mkdir()
    assert main(["board-report", str(tmp_path / "tom"), "--no-cache", "-o", str(tmp_path / "x.pdf")]) == 1
    assert "Ingen styrelserapport skrevs" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_rars_button_writes_the_report_and_offers_it_for_download(tmp_path: Path, examples) -> None:
    from test_web_http import make_client, web
    from webtools import FIRST, csrf_of, login, register_file, send

    from lagesrapport_xl.web import audit

    client = make_client(tmp_path, register=register_file(tmp_path))
    second = "Unga_vuxna_i_Flen_rapport_2.xlsx"
    for name in (FIRST, second):
        assert send(client, examples[name].read_bytes(), name).status_code < 400
    assert login(client).status_code == 303
    rar = client.get("/rar").text
    assert "Skriv styrelserapporten och ladda ner den" in rar
    answer = client.post("/rar/styrelserapport", data={"csrf_token": csrf_of(rar), "urval": "alla"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert 'filename="styrelserapport_' in answer.headers["content-disposition"]
    pdf = tmp_path / "nedladdad.pdf"
    pdf.write_bytes(answer.content)
    pages = assert_readable(pdf, 1 + 2)
    summary = text_of(pages[0])
    assert "Steget" in summary and "Ungavuxna" in summary and "2025-0001Nyinsats" in summary  # the register's missing
    assert summary.count("RAR:sgranskning:Ny") == 2  # --state: RAR's review beside the file's status
    [entry] = [e for e in audit.rows(web(client).store) if e.action == "board_report"]
    assert entry.detail.startswith("alla rapporter; styrelserapport_")
    # Only approved reports: none is approved yet, so the summary has no insats and says so.
    approved = client.post("/rar/styrelserapport", data={"csrf_token": csrf_of(rar), "urval": "godkanda"})
    assert approved.status_code == 200
    pdf.write_bytes(approved.content)
    assert "IngenrapportärgodkändavRARännu." in text_of(assert_readable(pdf, 1)[0])
    assert client.post("/rar/styrelserapport", data={"csrf_token": "fel", "urval": "alla"}).status_code == 403


def test_the_command_line_pays_for_the_libraries_only_when_it_writes_a_report() -> None:
    probe = ("import sys; from lagesrapport_xl.cli import build_parser; import lagesrapport_xl.consolidate.batch; "
             "import lagesrapport_xl.board; build_parser().print_help(); "
             "print(sorted(m for m in ('matplotlib', 'fpdf') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr
    assert "board-report" in done.stdout and "styrelse" in done.stdout


def test_without_the_board_extra_the_command_says_how_to_install_it(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "fpdf", None)  # as if fpdf2 were not installed
    assert main(["board-report", str(tmp_path), "--no-cache", "-o", str(tmp_path / "x.pdf")]) == 2
    err = capsys.readouterr().err
    assert "Styrelserapporten behöver fpdf2" in err and "pip install 'lagesrapport_xl[board]'" in err
