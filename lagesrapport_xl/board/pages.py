"""The board report's pages, laid out with fpdf2: a summary of every insats, then one A4 page per
insats with its two charts (charts.py) and its answers in free text.

Every text is DejaVu Sans (shipped with matplotlib, embedded as a subset) at MIN_PT or more; a
long answer is shortened at a word, with a pointer to the whole answer in the master, so that an
insats always fits on its one page. The PDF's creation date comes from the reports (the latest
signature), never the clock, and its /ID is fpdf2's hash of the content: the same inputs give the
same bytes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .charts import budget_chart, has_participants, participants_chart
from .facts import BoardFacts, InsatsFacts
from .numbers import DASH, count, date, kr, pct, planned

FONT = "DejaVu Sans"  # the family name matplotlib writes in its SVG: one font for page and charts
MIN_PT = 9  # nothing on paper is smaller
BODY_PT = 10
ANSWER_PT = 9.5  # the answers in free text: a little smaller, so that more of them fit their page
TITLE_PT = 16
HEADING_PT = 12
MARGIN = 15  # mm
FOOTER = 12  # mm kept free at the foot of the page
TEXT_LIMIT = 700  # characters of an answer before it is shortened, when the page has room
SHORTEST = 120  # never shortened below this, however full the page
KEY_FIGURES = 88  # mm: the key figures' column, the participants chart beside it
BUDGET_CHART_BASE, BUDGET_CHART_LINE = 24, 6.6  # mm: the budget chart's height, per cost line
BUDGET_CHART_MOST = 150  # mm: a form with very many cost lines still leaves room on the page
TITLE = "Lägesrapporter till styrelsen"
INK, GREY, FILL = (0, 0, 0), (60, 60, 60), (230, 238, 246)


def _fonts() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _new_pdf(stamp: dt.datetime, program: str):
    from fpdf import FPDF

    class BoardPdf(FPDF):
        def footer(self) -> None:
            self.set_y(-FOOTER)
            self.set_font(FONT, "", MIN_PT)
            self.set_text_color(*GREY)
            self.cell(0, 5, f"{TITLE} · sida {self.page_no()} av {{nb}}", align="C")
            self.set_text_color(*INK)

    pdf = BoardPdf(orientation="P", unit="mm", format="A4")
    fonts = _fonts()
    pdf.add_font(FONT, "", fonts / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", fonts / "DejaVuSans-Bold.ttf")
    pdf.add_font(FONT, "I", fonts / "DejaVuSans-Oblique.ttf")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, MARGIN + FOOTER)
    pdf.set_creation_date(stamp)
    pdf.set_title(TITLE)
    pdf.set_lang("sv")
    pdf.set_creator(program)
    pdf.set_producer(program)
    pdf.alias_nb_pages()
    return pdf


def _stamp(facts: BoardFacts) -> dt.datetime:
    """The latest signature (else period end) of the reports: a date the inputs fix."""
    days = [i.signed for i in facts.insatser if isinstance(i.signed, dt.date)]
    days = days or [i.period_end for i in facts.insatser if isinstance(i.period_end, dt.date)]
    day = max(days) if days else dt.date(2000, 1, 1)
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.timezone.utc)


def _heading(pdf, text: str, size: float = HEADING_PT) -> None:
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(1.5)


def _paragraph(pdf, text: str, size: float = BODY_PT, style: str = "", width: float = 0) -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT", align="L")


def _assessment(insats: InsatsFacts) -> str:
    own, computed = insats.own_assessment or DASH, insats.computed_assessment or DASH
    text = f"{own} / {computed}"
    if insats.own_assessment and insats.computed_assessment and own != computed:
        text += " – avviker"
    return text


def _participants_text(insats: InsatsFacts) -> str:
    total = next((g for g in insats.participants if g.label == "Totalt"), None)
    if total is None or (total.actual is None and total.planned_min is None and total.planned_max is None):
        return "inga uppgifter"
    text = f"{count(total.actual)} ({planned(total.planned_min, total.planned_max)})"
    return text + (" – under plan" if insats.below_plan else "")


def _period(insats: InsatsFacts) -> str:
    return f"{date(insats.period_start)} – {date(insats.period_end)}"


def _report(insats: InsatsFacts) -> str:
    return f"{count(insats.report_number)} av {count(insats.reports_total)}"


def summary_page(pdf, facts: BoardFacts) -> None:
    pdf.add_page()
    _heading(pdf, TITLE, TITLE_PT)
    ends = [i.period_end for i in facts.insatser if isinstance(i.period_end, dt.date)]
    scope = "godkända av RAR" if facts.approved_only else "som gäller"
    many = len(facts.insatser)
    text = (f"Sammanfattning av {many} {'insats' if many == 1 else 'insatser'}, den senaste lägesrapporten "
            f"från var och en ({scope}). Underlaget är {facts.reports_counted} "
            f"{'rapport' if facts.reports_counted == 1 else 'rapporter'}")
    text += f"; den senaste rapportperioden slutar {date(max(ends))}." if ends else "."
    _paragraph(pdf, text)
    pdf.ln(3)
    if facts.insatser:
        _summary_table(pdf, facts)
    else:
        _paragraph(pdf, "Ingen rapport är godkänd av RAR ännu." if facts.approved_only
                   else "Det finns ingen godkänd lägesrapport i underlaget.", BODY_PT, "B")
    pdf.ln(4)
    _missing(pdf, facts)
    pdf.ln(3)
    _heading(pdf, "Så läses tabellen", BODY_PT)
    _paragraph(pdf, (
        "Deltagare: faktiskt antal enligt rapporten, planerat antal (från–till) inom parentes. "
        "Budget förbrukad: ackumulerat utfall sedan start i procent av beviljad budget för hela insatsen; "
        "tid som gått: den del av insatsens tid som hade gått när rapportperioden slutade. "
        "Budget i linje: samordnarens egen bedömning mot den beräknade, som är Ja när utfallet ligger inom "
        f"±{round(facts.tolerance * 100)} % av det som tidsandelen ger. "
        "Varje insats har en egen sida med diagram och svaren i fritext; siffrorna och hela svaren står i "
        "sammanställningen (Excel)."
    ), MIN_PT)


def _summary_table(pdf, facts: BoardFacts) -> None:
    """One row per insats; its headings repeat on every page the table runs over."""
    from fpdf.fonts import FontFace

    headings = ("Insats", "Rapport", "Period", "Status", "Deltagare faktiskt (planerat)",
                "Budget förbrukad / tid som gått", "Budget i linje: egen / beräknad")
    pdf.set_font(FONT, "", MIN_PT)
    with pdf.table(
        col_widths=(38, 16, 25, 26, 26, 24, 25), line_height=4.6, repeat_headings=1,
        headings_style=FontFace(emphasis="BOLD", fill_color=FILL), text_align="LEFT", padding=1,
    ) as table:
        table.row(headings)
        for insats in facts.insatser:
            table.row((
                f"{insats.name}\n{insats.case_number}",
                _report(insats),
                _period(insats),
                insats.status or DASH,
                _participants_text(insats),
                f"{pct(insats.used_share)} / {pct(insats.elapsed_share)}",
                _assessment(insats),
            ))


def _missing(pdf, facts: BoardFacts) -> None:
    _heading(pdf, "Insatser som inte har rapporterat", BODY_PT + 1)
    if facts.missing is None:
        _paragraph(pdf, "Inget register över insatserna angavs, så det syns inte här vem som saknas.")
        return
    if not facts.missing:
        _paragraph(pdf, "Alla insatser i registret har en godkänd rapport för perioden.")
        return
    many = len(facts.missing)
    _paragraph(pdf, f"{many} {'insats' if many == 1 else 'insatser'} i registret har ingen godkänd rapport för perioden:")
    for row in facts.missing:
        parts = " ".join(p for p in (row.case_number, row.name) if p)
        wanted = f", rapport nr {row.report_number}" if row.report_number is not None else ""
        until = f" (perioden till {date(row.period_end)})" if row.period_end is not None else ""
        _paragraph(pdf, f"•  {parts}{wanted}{until}: {row.state.lower()}")


def shorten(answer: str, limit: int, pointer: str) -> str:
    """The answer itself when it is short enough, else its first words up to `limit` characters,
    '…' and the pointer to the whole answer."""
    if len(answer) <= limit:
        return answer
    head = answer[: limit + 1]  # one more: is the character after the limit a space?
    cut = head if head[-1].isspace() else head.rsplit(maxsplit=1)[0]
    cut = cut.rstrip(" ,.;:–-\n")
    return f"{cut} … {pointer}"


def _pointer(insats: InsatsFacts) -> str:
    return (f"[Förkortat: hela svaret står i sammanställningen, bladet Texter, "
            f"{insats.case_number or insats.name} rapport nr {count(insats.report_number)}.]")


def _text_height(pdf, texts: list[tuple[str, str]]) -> float:
    height = 0.0
    for question, answer in texts:
        pdf.set_font(FONT, "B", MIN_PT)
        height += len(pdf.multi_cell(0, MIN_PT * 0.5, question, dry_run=True, output="LINES")) * MIN_PT * 0.5
        pdf.set_font(FONT, "", ANSWER_PT)
        height += len(pdf.multi_cell(0, ANSWER_PT * 0.5, answer, dry_run=True, output="LINES")) * ANSWER_PT * 0.5 + 1.5
    return height


def _fitted(pdf, insats: InsatsFacts, room: float) -> list[tuple[str, str]]:
    """The answers shortened just enough to fill the room left on the page."""
    pointer = _pointer(insats)

    def shortened(limit: int) -> list[tuple[str, str]]:
        return [(t.question, shorten(t.answer, limit, pointer)) for t in insats.texts]

    texts = shortened(TEXT_LIMIT)
    if _text_height(pdf, texts) <= room:
        return texts
    low, high = SHORTEST, TEXT_LIMIT  # the longest limit that fits, found by halving
    while high - low > 20:
        middle = (low + high) // 2
        if _text_height(pdf, shortened(middle)) <= room:
            low = middle
        else:
            high = middle
    texts = shortened(low)
    while texts and _text_height(pdf, texts) > room:  # a page with very many answers: the last go
        texts.pop()
    return texts


def insats_page(pdf, insats: InsatsFacts) -> None:
    """The key figures with the participants chart beside them, the budget chart, the answers."""
    pdf.add_page()
    pdf.set_auto_page_break(False)  # one page per insats: the answers are fitted to it
    _heading(pdf, insats.name, HEADING_PT + 2)
    _paragraph(pdf, (f"Diarienummer {insats.case_number or DASH} · lägesrapport {_report(insats)} · "
                     f"period {_period(insats)}"))
    pdf.ln(2)
    top, width = pdf.get_y(), pdf.w - 2 * MARGIN
    chart = has_participants(insats.participants)
    figures = KEY_FIGURES if chart else 0
    for line in (f"Status: {insats.status or DASH}",
                 f"Deltagare: {_participants_text(insats)}.",
                 f"Budget: {kr(insats.cumulative)} förbrukat av beviljade {kr(insats.granted)} "
                 f"({pct(insats.used_share)}); {pct(insats.elapsed_share)} av insatsens tid har gått.",
                 f"Budget i linje, egen bedömning / beräknad från tidsandelen: {_assessment(insats)}."):
        _paragraph(pdf, line, width=figures)
        pdf.ln(1)
    bottom = pdf.get_y()
    if chart:
        height = 46
        _chart(pdf, participants_chart(insats.participants, width - KEY_FIGURES - 3, height),
               MARGIN + KEY_FIGURES + 3, top, width - KEY_FIGURES - 3, height)
        bottom = max(bottom, top + height)
    pdf.set_y(bottom + 2)
    lines = [line for line in insats.budget_lines if line.granted or line.cumulative]
    if lines:
        height = min(BUDGET_CHART_BASE + BUDGET_CHART_LINE * len(lines), BUDGET_CHART_MOST)
        _chart(pdf, budget_chart(lines, insats.elapsed_share, width, height), MARGIN, pdf.get_y(), width, height)
        pdf.set_y(pdf.get_y() + height + 2)
    _answers(pdf, insats)
    pdf.set_auto_page_break(True, MARGIN + FOOTER)


def _chart(pdf, svg: str, x: float, y: float, width: float, height: float) -> None:
    import io

    pdf.image(io.BytesIO(svg.encode("utf-8")), x=x, y=y, w=width, h=height)


def _answers(pdf, insats: InsatsFacts) -> None:
    room = pdf.h - MARGIN - FOOTER - pdf.get_y() - 12  # less the heading and the line on answers left out
    texts = _fitted(pdf, insats, room)
    _heading(pdf, "Svar i fritext", BODY_PT + 1)
    if not insats.texts:
        _paragraph(pdf, "Rapporten har inga svar i fritext.")
    for question, answer in texts:
        _paragraph(pdf, question, MIN_PT, "B")
        _paragraph(pdf, answer, ANSWER_PT)
        pdf.ln(1.5)
    if len(texts) < len(insats.texts):
        _paragraph(pdf, f"Fler svar står i sammanställningen, bladet Texter ({len(insats.texts) - len(texts)} till).",
                   MIN_PT, "I")


def render(facts: BoardFacts, program: str) -> bytes:
    """The whole report as PDF bytes."""
    import logging

    logging.getLogger("fpdf.svg").setLevel(logging.ERROR)  # it names each SVG tag it leaves out
    pdf = _new_pdf(_stamp(facts), program)
    summary_page(pdf, facts)
    for insats in facts.insatser:
        insats_page(pdf, insats)
    return bytes(pdf.output())


__all__ = ["MIN_PT", "render", "shorten"]
