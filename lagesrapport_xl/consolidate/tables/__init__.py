"""The master's tables, built from the accepted reports as plain Python rows: one module per sheet.

base.py holds the schema (Column, Table, make_table and Excel's twins n, blank, ratio) and the
sheet names; overview, participants, budget, time_share, texts, history, control, register and
about each build their sheet's tables. `build_tables` runs them in the order the master writes them.
The names the master writer, the exports, the web intake and the command line use are importable
from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...common.version import PROGRAM
from ..statuses import COVERAGE_PLURAL, STATUS_PLURAL, Coverage, Status
from .about import about_tables
from .base import (
    ABOUT,
    BUDGET,
    CONTROL,
    HISTORY,
    OVERVIEW,
    PARTICIPANTS,
    SHEETS,
    TEXTS,
    TIME_SHARE,
    Column,
    Context,
    Row,
    Table,
    blank,
    make_table,
    missing,
    n,
    ratio,
    share_formula,
    stored,
)
from .budget import budget_tables
from .control import LOCK_FILE_MESSAGE, control_tables
from .history import history_table
from .overview import overview_table
from .participants import participants_tables
from .register import NOT_IN_REGISTER, register_tables
from .texts import texts_table
from .time_share import time_share_table

if TYPE_CHECKING:
    from ..consolidation import Consolidation
    from ..statuses import FileOutcome


def build_tables(consolidation: Consolidation, reports: list[FileOutcome], latest: list[int]) -> dict[str, Table]:
    """Every table of the master, by key, in the order the master writes them.

    `reports` are the accepted reports in the order of the per-report tables, `latest` the index
    in `reports` of each insats' latest report.
    """
    ctx = Context(consolidation.spec, consolidation.tolerance, reports, latest)
    participants, participants_latest = participants_tables(ctx)
    time_share = time_share_table(ctx)
    overview = overview_table(ctx, participants, time_share)
    tables = [
        overview,
        participants,
        participants_latest,
        *budget_tables(ctx, time_share),
        time_share,
        texts_table(ctx),
        history_table(ctx, participants, time_share),
        *control_tables(consolidation.files, consolidation.spec, consolidation.receipts),
    ]
    if consolidation.coverage is not None:  # --register: who has reported for the period
        tables += register_tables(consolidation, consolidation.coverage)
    tables += about_tables(consolidation)
    return {t.key: t for t in tables}


__all__ = [
    "ABOUT",
    "BUDGET",
    "CONTROL",
    "COVERAGE_PLURAL",
    "HISTORY",
    "LOCK_FILE_MESSAGE",
    "NOT_IN_REGISTER",
    "OVERVIEW",
    "PARTICIPANTS",
    "PROGRAM",
    "SHEETS",
    "STATUS_PLURAL",
    "TEXTS",
    "TIME_SHARE",
    "Column",
    "Coverage",
    "Row",
    "Status",
    "Table",
    "blank",
    "build_tables",
    "make_table",
    "missing",
    "n",
    "ratio",
    "share_formula",
    "stored",
]
