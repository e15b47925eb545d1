"""A folder of reports into one consolidation: find the files, read them in parallel, decide which
report counts for each insats and period, match them against RAR's register, and build the master's
tables (plain rows; pandas DataFrames only on request) and their CSV and JSON exports.

inputs.py finds the files, parallel.py reads them, statuses.py decides what became of each,
coverage.py matches them with the register, tables/ builds the tables (one module per sheet),
consolidation.py holds the result and batch.py (`consolidate`) runs it all; exports.py writes
CSV and JSON.

Imports reader/, form/ and common/; never the template or the master writer.
"""

from ..common.version import PROGRAM
from ..form.fieldtypes import MAX_CELL_TEXT
from .batch import DEFAULT_TOLERANCE, build_consolidation, consolidate
from .consolidation import Consolidation
from .inputs import InputError, find_input_files
from .parallel import read_files, read_one
from .statuses import STATUS_PLURAL, FileOutcome, Status
from .tables import (
    ABOUT,
    BUDGET,
    CONTROL,
    HISTORY,
    LOCK_FILE_MESSAGE,
    OVERVIEW,
    PARTICIPANTS,
    SHEETS,
    TEXTS,
    TIME_SHARE,
    Column,
    Table,
)

__all__ = [
    "ABOUT",
    "BUDGET",
    "CONTROL",
    "DEFAULT_TOLERANCE",
    "HISTORY",
    "LOCK_FILE_MESSAGE",
    "MAX_CELL_TEXT",
    "OVERVIEW",
    "PARTICIPANTS",
    "PROGRAM",
    "SHEETS",
    "STATUS_PLURAL",
    "TEXTS",
    "TIME_SHARE",
    "Column",
    "Consolidation",
    "FileOutcome",
    "InputError",
    "Status",
    "Table",
    "build_consolidation",
    "consolidate",
    "find_input_files",
    "read_files",
    "read_one",
]
