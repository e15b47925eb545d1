"""The master's tables, built from the accepted reports as plain Python rows: one module per sheet.

base.py holds the schema (Column, Table, make_table, TableBuilder and Excel's twins n, blank,
ratio) and the sheet names; overview, participants, budget, time_share, texts, history, control,
register and about each build their sheet's tables. `build_tables` reads each accepted report's
answers once (they may be on disk), hands them to the per-report builders in turn, then makes the
tables in the order the master writes them.
The names the master writer, the exports, the web intake and the command line use are importable
from here.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from ...common.version import PROGRAM
from ..statuses import COVERAGE_PLURAL, STATUS_PLURAL, Coverage, Status
from .about import about_tables
from .base import (
    ABOUT,
    BUDGET,
    CELLS,
    CONTROL,
    FILE,
    HISTORY,
    OVERVIEW,
    PARTICIPANTS,
    SHEETS,
    SOURCE_CELLS,
    SOURCE_FILE,
    STORED_FILE,
    TEXTS,
    TIME_SHARE,
    Column,
    Context,
    Row,
    Table,
    TableBuilder,
    blank,
    make_table,
    missing,
    n,
    ratio,
    share_formula,
    stored,
)
from .budget import BudgetRows
from .control import LOCK_FILE_MESSAGE, control_tables
from .history import HistoryRows
from .overview import OverviewRows
from .participants import ParticipantRows
from .register import NOT_IN_REGISTER, register_tables
from .texts import TextRows
from .time_share import TimeShareRows

if TYPE_CHECKING:
    from ...common.memory import Spool
    from ..consolidation import Consolidation
    from ..statuses import FileOutcome


def build_tables(
    consolidation: Consolidation, reports: list[FileOutcome], latest: list[int], spool: Spool | None = None
) -> dict[str, Table]:
    """Every table of the master, by key, in the order the master writes them.

    `reports` are the accepted reports in the order of the per-report tables (each insats' reports
    one after the other), `latest` the index in `reports` of each insats' latest report, ascending.
    With `spool`, the Texter sheet's rows go there (a large batch: see consolidate/batch.py).
    """
    if any(later <= earlier for earlier, later in pairwise(latest)):
        raise ValueError("each insats' reports come one after the other: their latest ascend")
    receipts = consolidation.receipts
    sent = receipts.sent if receipts is not None else {}
    ctx = Context(consolidation.spec, consolidation.tolerance, reports, latest, spool, sent)
    participants, time_share, history = ParticipantRows(ctx), TimeShareRows(ctx), HistoryRows(ctx)
    overview = OverviewRows(ctx, participants.rows, time_share.rows)
    budget, texts = BudgetRows(ctx, time_share.rows), TextRows(ctx)
    latest_ones = set(latest)
    for index, outcome in enumerate(reports):  # the order matters: overview and budget read the rows before
        answers = outcome.answers or {}
        participants.add(index, outcome, answers)
        time_share.add(index, outcome, answers)
        overview.add(index, outcome, answers)
        texts.add(index, outcome, answers)
        history.add(index, outcome, answers)
        if index in latest_ones:
            budget.add(index, outcome, answers)
            history.add_latest(index, outcome, answers)
    participant_tables, time_share_table = participants.tables(), time_share.table()
    tables = [
        overview.table(),
        *participant_tables,
        *budget.tables(),
        time_share_table,
        texts.table(),
        history.table(participant_tables[0], time_share_table),
        *control_tables(consolidation.files, consolidation.spec, consolidation.receipts),
    ]
    if consolidation.coverage is not None:  # --register: who has reported for the period
        tables += register_tables(consolidation, consolidation.coverage)
    tables += about_tables(consolidation)
    return {t.key: t for t in tables}


__all__ = [
    "ABOUT",
    "BUDGET",
    "CELLS",
    "CONTROL",
    "FILE",
    "COVERAGE_PLURAL",
    "HISTORY",
    "LOCK_FILE_MESSAGE",
    "NOT_IN_REGISTER",
    "OVERVIEW",
    "PARTICIPANTS",
    "PROGRAM",
    "SHEETS",
    "SOURCE_CELLS",
    "SOURCE_FILE",
    "STATUS_PLURAL",
    "STORED_FILE",
    "TEXTS",
    "TIME_SHARE",
    "Column",
    "Coverage",
    "Row",
    "Status",
    "Table",
    "TableBuilder",
    "blank",
    "build_tables",
    "make_table",
    "missing",
    "n",
    "ratio",
    "share_formula",
    "stored",
]
