"""How the template prints: row heights from text, the A4 print zoom, page breaks, print setup.

Every row of the form gets an explicit height: the page breaks are computed from the heights, and
LibreOffice would otherwise re-fit rows its own way. The estimates are conservative (they rather
overestimate lines), so a question never prints on another page than its answer.
"""

from __future__ import annotations

import math

from xlsxwriter.worksheet import Worksheet

from ..form.spec import FormSpec

# Row heights in points.
POINTS_PER_LINE = 13.0
ROW_PADDING = 5.0
TITLE_HEIGHT = 26.0
SUBTITLE_HEIGHT = 16.0
STATUS_HEIGHT = 30.0
SPACER_HEIGHT = 8.0
COLUMNS_HEIGHT = 15.0
NOTE_HEIGHT = 26.0
QUESTION_GAP = 6.0  # white space above a question, so blocks read as separate questions

# A4 portrait, in points; margins in inches as Excel stores them.
PAGE_WIDTH_PT = 595.3
PAGE_HEIGHT_PT = 841.9
SIDE_MARGIN_IN = 0.45
TOP_MARGIN_IN = 0.75
BOTTOM_MARGIN_IN = 0.75
# LibreOffice measures a column-width unit in Liberation Sans digits (7.4 px) where Excel uses
# whole pixels (7 px): columns print about 6 % wider there. Heights are exact points in both.
WIDTH_SAFETY = 0.92
HEIGHT_SAFETY = 0.96

# Average characters per column-width unit of Arial 10 (conservative: overestimate lines).
CHARS_PER_WIDTH = 1.15
BOLD_CHARS_PER_WIDTH = 1.05


def text_lines(text: str, width: float, *, bold: bool = False) -> int:
    """How many lines a wrapped text needs in a column `width` characters wide."""
    per_line = max(1.0, width * (BOLD_CHARS_PER_WIDTH if bold else CHARS_PER_WIDTH))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def text_height(text: str, width: float, *, bold: bool = False, minimum: float = 18.0) -> float:
    """The height in points of a row holding this wrapped text."""
    return max(minimum, text_lines(text, width, bold=bold) * POINTS_PER_LINE + ROW_PADDING)


def column_points(width: float) -> float:
    """Printed width of a column of `width` characters, as Excel computes it (7-pixel Arial 10 digits)."""
    pixels = int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)
    return pixels * 0.75


def print_scale(widths: list[float]) -> int:
    """The print zoom (%) at which these columns fill the A4 portrait width.

    A fixed zoom instead of "fit to 1 page wide": Excel ignores manual page breaks under
    fit-to-page, and the breaks keep each question on the page of its answer.
    """
    available = PAGE_WIDTH_PT - 2 * 72 * SIDE_MARGIN_IN
    needed = sum(column_points(w) for w in widths)
    return max(10, min(100, int(available / needed * 100 * WIDTH_SAFETY)))


def page_capacity(scale: int) -> float:
    """Points of rows (at zoom 100 %) that fit on one A4 portrait page at `scale` %."""
    printable = PAGE_HEIGHT_PT - 72 * (TOP_MARGIN_IN + BOTTOM_MARGIN_IN)
    return printable * 100 / scale * HEIGHT_SAFETY


def page_breaks(
    units: list[tuple[int, float]], first_page_used: float, repeated: float, capacity: float
) -> list[int]:
    """Rows to break before so that no unit (rows that belong together) is split across pages.

    `units` are (first row, height) in order; a unit taller than a page simply flows on.
    """
    breaks: list[int] = []
    used = first_page_used
    for first_row, height in units:
        if used + height > capacity and used > repeated:
            breaks.append(first_row)
            used = repeated
        used += height
    return breaks


def setup_print(
    ws: Worksheet, spec: FormSpec, scale: int, repeat_to_row: int, repeat_from_row: int = 0
) -> None:
    """A4 portrait at `scale` %, the margins, the repeated title rows, header and footer."""
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.set_print_scale(scale)
    ws.set_margins(left=SIDE_MARGIN_IN, right=SIDE_MARGIN_IN, top=TOP_MARGIN_IN, bottom=BOTTOM_MARGIN_IN)
    ws.repeat_rows(repeat_from_row, repeat_to_row)
    ws.set_header(f"&L&8{spec.organisation}&R&8{spec.title} (formulärversion {spec.version})")
    ws.set_footer("&L&8&A&R&9Sida &P av &N")
