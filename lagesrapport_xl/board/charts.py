"""The insats page's two charts, drawn by matplotlib as SVG that pages.py places at their own size.

Why SVG: fpdf2 draws it as vectors and writes its labels as real PDF text in the embedded
DejaVu Sans, so the labels are sharp on paper and their size can be measured from the PDF like
every other text (tests/test_board_report.py). Each figure is made as large as its place on the
page (1 figure point = 1 point on paper) with every label at FONT_PT or more.

Byte for byte the same from the same data: a fixed `svg.hashsalt` (the ids of clip paths), no
date or creator in the SVG, DejaVu Sans (shipped with matplotlib) as the only font, text kept as
text (`svg.fonttype = none`). Only matplotlib's object API is used (Figure, no pyplot): no
global backend, no window, safe in the web server's threads.
"""

from __future__ import annotations

import io
import re
import textwrap
import threading
from collections.abc import Sequence

from .facts import BudgetLine, Participants
from .numbers import kr_short

FONT_PT = 9.5  # the smallest label in a chart; the PDF's floor is 9 pt
MM = 1 / 25.4
PLANNED, ACTUAL, EXPECTED = "#b9cfe4", "#1f4e79", "#c0504d"
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "lagesrapport-styrelse",
    "font.family": "DejaVu Sans",
    "font.size": FONT_PT,
    "axes.titlesize": FONT_PT + 1,
    "axes.labelsize": FONT_PT,
    "xtick.labelsize": FONT_PT,
    "ytick.labelsize": FONT_PT,
    "legend.fontsize": FONT_PT,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


# matplotlib's settings are global: the web server's threads draw one chart at a time.
_DRAWING = threading.Lock()


def _figure(width_mm: float, height_mm: float, *, left: float, right: float, top: float = 7, bottom: float = 11):
    """A figure of the given size whose axes leave the given margins (mm) for labels: fixed
    margins, since matplotlib's automatic layout doubles the time a chart takes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_mm * MM, height_mm * MM))
    figure.subplots_adjust(left=left / width_mm, right=1 - right / width_mm, top=1 - top / height_mm,
                           bottom=bottom / height_mm)
    return figure


def _svg(figure) -> str:
    """The figure as SVG text; font sizes in points (see _points)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _points(re.sub(r"<metadata>.*?</metadata>\s*", "", buffer.getvalue(), flags=re.S))


def _points(svg: str) -> str:
    """matplotlib's SVG user unit is the point (its viewBox is in pt) and it writes font sizes in
    those units with a 'px' suffix; fpdf2 reads 'px' as CSS pixels (0.75 pt). Say 'pt', which
    both read as the user unit of a 1:1 figure."""
    return re.sub(r"font-size: ?([0-9.]+)px", r"font-size: \1pt", svg)


def _once(labelled: set[str], label: str) -> str | None:
    """A legend's label on the first bar of its kind only."""
    if label in labelled:
        return None
    labelled.add(label)
    return label


def has_participants(groups: Sequence[Participants]) -> bool:
    return any(v is not None for g in groups for v in (g.planned_min, g.planned_max, g.actual))


def participants_chart(groups: Sequence[Participants], width_mm: float, height_mm: float) -> str:
    """Planned range (from–to) as a light bar, the actual count as a dark bar over it."""
    import matplotlib

    with _DRAWING, matplotlib.rc_context(STYLE):
        figure = _figure(width_mm, height_mm, left=18, right=4, bottom=20)
        axes = figure.add_subplot()
        labelled: set[str] = set()
        labels = [g.label for g in groups][::-1]
        shown = list(groups)[::-1]
        for y, group in enumerate(shown):
            low, high = group.planned_min, group.planned_max if group.planned_max is not None else group.planned_min
            if low is not None and high is not None:
                axes.barh(y, max(high - low, 0.4), left=low, height=0.7, color=PLANNED,
                          label=_once(labelled, "Planerat (från–till)"))
            if group.actual is not None:
                axes.barh(y, group.actual, height=0.3, color=ACTUAL, label=_once(labelled, "Faktiskt"))
                axes.annotate(str(group.actual), (group.actual, y), xytext=(3, 0), textcoords="offset points",
                              va="center", fontsize=FONT_PT)
        axes.set_yticks(range(len(labels)), labels)
        axes.set_xlabel("Antal deltagare")
        axes.set_title("Deltagare: planerat och faktiskt", loc="left")
        top = max([g.planned_max or 0 for g in groups] + [g.actual or 0 for g in groups] + [1])
        axes.set_xlim(0, top * 1.15)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(loc="lower center", bbox_to_anchor=(0.5, 0), bbox_transform=figure.transFigure, ncols=2,
                        frameon=False)
        return _svg(figure)


def budget_chart(lines: Sequence[BudgetLine], elapsed_share: float | None, width_mm: float, height_mm: float) -> str:
    """Per cost line: the granted budget (light), the cumulative outcome (dark) and, with the
    elapsed share of the insats' time, what the outcome would be at an even pace (a red mark)."""
    import matplotlib
    import matplotlib.ticker

    with _DRAWING, matplotlib.rc_context(STYLE):
        figure = _figure(width_mm, height_mm, left=62, right=6, bottom=16)
        axes = figure.add_subplot()
        shown = list(lines)[::-1]
        labelled: set[str] = set()
        for y, line in enumerate(shown):
            axes.barh(y, line.granted or 0, height=0.7, color=PLANNED, label=_once(labelled, "Beviljad budget"))
            axes.barh(y, line.cumulative or 0, height=0.3, color=ACTUAL, label=_once(labelled, "Ackumulerat utfall"))
            if elapsed_share is not None and line.granted:
                axes.plot([line.granted * elapsed_share] * 2, [y - 0.4, y + 0.4], color=EXPECTED, linewidth=2,
                          label=_once(labelled, "Förväntat efter förfluten tid"))
        axes.set_yticks(range(len(shown)), [textwrap.fill(line.label, 36) for line in shown])
        axes.xaxis.set_major_formatter(lambda value, _pos: kr_short(value))
        axes.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        axes.set_title("Budget per kostnadsrad (ackumulerat sedan start)", loc="left")
        axes.legend(loc="lower center", bbox_to_anchor=(0.4, 0), bbox_transform=figure.transFigure, ncols=3,
                    frameon=False)
        return _svg(figure)
