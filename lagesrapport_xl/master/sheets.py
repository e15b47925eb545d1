"""The master's sheets as data: one record per sheet says everything the writer does differently
on it — its tables and where they sit, the frozen panes, the link to the tables further down, the
chart and the highlights.

The writer loops over MASTER_SHEETS and has no case of its own for any sheet. Adding a sheet is
its table builder in consolidate/tables and one record here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..consolidate.tables import (
    ABOUT,
    BUDGET,
    CONTROL,
    HISTORY,
    NOT_IN_REGISTER,
    OVERVIEW,
    PARTICIPANTS,
    TEXTS,
    TIME_SHARE,
    Coverage,
    Status,
)

RED_FILL = "#F8CBAD"
YELLOW_FILL = "#FFE699"
GREEN_FILL = "#C6EFCE"
GREY_FILL = "#E7E6E6"
# The highlights' cell fills; the workbook makes one format for each, in this order.
HIGHLIGHT_FILLS = (RED_FILL, YELLOW_FILL, GREEN_FILL, GREY_FILL)
BAR_BLUE = "#5B9BD5"


@dataclass(frozen=True)
class Highlight:
    """A fill on the cells of one column that compare to a value: a text (`"Ja"`, a status) is
    matched as text, a number as a number (`criteria` "<" 1: under the plan)."""

    table: str
    column: str
    value: str | float
    fill: str  # one of HIGHLIGHT_FILLS
    criteria: str = "=="

    def options(self, fills: dict[str, Any]) -> dict[str, Any]:
        """XlsxWriter's conditional_format options; `fills` are the workbook's fill formats by colour."""
        value = f'"{self.value}"' if isinstance(self.value, str) else self.value
        return {"type": "cell", "criteria": self.criteria, "value": value, "format": fills[self.fill]}


@dataclass(frozen=True)
class DataBar:
    """A bar in each cell of a column of shares, full at 100 %."""

    table: str
    column: str
    color: str = BAR_BLUE

    def options(self, fills: dict[str, Any]) -> dict[str, Any]:
        return {"type": "data_bar", "bar_color": self.color, "bar_solid": True, "min_type": "num", "min_value": 0,
                "max_type": "num", "max_value": 1}


@dataclass(frozen=True)
class Series:
    """One bar of each insats in a chart: a column of the chart's table."""

    column: str
    name: str
    color: str


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart below the sheet's tables: one bar group per row of `table`."""

    table: str
    title: str
    axis_format: str
    series: tuple[Series, ...]
    categories: str = "initiative_name"  # the column that names each bar group


@dataclass(frozen=True)
class Jump:
    """A link above the sheet's first table to a table further down (when that table is there)."""

    table: str
    text: str


@dataclass(frozen=True)
class MasterSheet:
    """One sheet of the master: its tables top to bottom and what the writer adds around them."""

    name: str
    tables: tuple[str, ...]
    # Freeze the rows above this table's first data row (and print its header rows on every page).
    freeze_table: str | None = None
    freeze_cols: int = 0
    # A table below the first may start further right, so that its columns line up with the
    # first table's (the sums per cost line under "Kostnadsrad" and the amounts).
    first_cols: tuple[tuple[str, int], ...] = ()
    optional: tuple[str, ...] = ()  # written below the others when the consolidation has them
    jump: Jump | None = None
    chart: Chart | None = None
    highlights: tuple[Highlight | DataBar, ...] = ()  # applied in this order (Excel numbers their priority so)

    def keys(self, tables: dict[str, Any]) -> list[str]:
        """The sheet's tables, top to bottom, of those in `tables` (the optional ones may be absent)."""
        return [*self.tables, *(key for key in self.optional if key in tables)]

    def first_col(self, table: str) -> int:
        return dict(self.first_cols).get(table, 0)

    def jump_in(self, tables: dict[str, Any]) -> Jump | None:
        """The sheet's link to a table further down, when it has one and that table is in `tables`."""
        return self.jump if self.jump is not None and self.jump.table in tables else None

    def charts(self, table: str) -> bool:
        """Whether the sheet's chart draws this table."""
        return self.chart is not None and self.chart.table == table


SUMS_BELOW = "Summor och diagram längre ned"

MASTER_SHEETS = (
    MasterSheet(
        OVERVIEW,
        tables=("overview",),
        freeze_table="overview",
        freeze_cols=2,
        highlights=(
            Highlight("overview", "budget_in_line_computed", "Nej", YELLOW_FILL),
            Highlight("overview", "budget_on_track", "Nej", YELLOW_FILL),
        ),
    ),
    MasterSheet(
        PARTICIPANTS,
        tables=("participants", "participants_latest"),
        freeze_table="participants",
        freeze_cols=3,
        jump=Jump("participants_latest", SUMS_BELOW),
        chart=Chart(
            "participants_latest",
            "Planerat och faktiskt antal deltagare (senaste rapporten per insats)",
            "0",
            (Series("planned_min", "Planerat från", "#BDD7EE"), Series("planned_max", "Planerat till", BAR_BLUE),
             Series("actual", "Faktiskt", "#ED7D31")),
        ),
        highlights=(
            Highlight("participants", "below_plan", "Ja", RED_FILL),
            *(Highlight("participants", key, 1, RED_FILL, criteria="<")  # a share of the plan under 100 %
              for key in ("women_pct_min", "men_pct_min", "total_pct_min")),
        ),
    ),
    MasterSheet(
        BUDGET,
        tables=("budget", "budget_by_initiative", "budget_by_line", "financing"),
        freeze_table="budget",
        freeze_cols=4,
        first_cols=(("budget_by_line", 3),),
        jump=Jump("budget_by_initiative", SUMS_BELOW),
        chart=Chart(
            "budget_by_initiative",
            "Förbrukat av beviljad budget och förfluten tid, per insats (senaste rapporten)",
            "0%",
            (Series("used_share", "Förbrukat av beviljad budget", BAR_BLUE),
             Series("elapsed_share", "Förfluten tid av insatsens period", "#A5A5A5")),
        ),
        highlights=tuple(DataBar(key, "used_share") for key in ("budget", "budget_by_initiative", "budget_by_line")),
    ),
    MasterSheet(
        TIME_SHARE,
        tables=("time_share",),
        freeze_table="time_share",
        freeze_cols=3,
        highlights=(
            Highlight("time_share", "disagrees", "Ja", RED_FILL),
            Highlight("time_share", "computed_in_line", "Nej", YELLOW_FILL),
        ),
    ),
    MasterSheet(TEXTS, tables=("texts",), freeze_table="texts", freeze_cols=3),
    MasterSheet(HISTORY, tables=("history",), freeze_table="history", freeze_cols=2),
    MasterSheet(
        CONTROL,
        tables=("control_counts", "control"),
        freeze_table="control",
        freeze_cols=2,
        optional=("register_counts", "register"),
        jump=Jump("register_counts", "Registret längre ned: vilka insatser som har rapporterat"),
        highlights=(
            *(Highlight("control", "status", status.value, fill) for status, fill in (
                (Status.REJECTED, RED_FILL), (Status.WARNINGS, YELLOW_FILL), (Status.ACCEPTED, GREEN_FILL),
                (Status.SUPERSEDED, GREY_FILL), (Status.SKIPPED, GREY_FILL))),
            *(Highlight("register", "state", state, fill) for state, fill in (
                (Coverage.MISSING.value, RED_FILL), (Coverage.REJECTED.value, YELLOW_FILL),
                (Coverage.RECEIVED.value, GREEN_FILL), (NOT_IN_REGISTER, GREY_FILL))),
        ),
    ),
    MasterSheet(ABOUT, tables=("about", "about_files")),
)

# The records by sheet name.
LAYOUT = {sheet.name: sheet for sheet in MASTER_SHEETS}
