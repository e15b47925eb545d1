"""The Consolidation: what a batch became — every file's outcome, the master's tables and, with
RAR's register, who has reported for the period.

Its own module so that the table builders (tables/) can take it while batch.py, which builds it,
imports them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..form.spec import FormSpec
from .statuses import FileOutcome, Status

if TYPE_CHECKING:
    import pandas as pd

    from .coverage import CoverageReport
    from .receipts import Receipts
    from .tables.base import Table


@dataclass
class Consolidation:
    """Every file's outcome and every table of the master; `c["budget"]` is a table as a DataFrame."""

    spec: FormSpec
    tolerance: float
    inputs: tuple[str, ...]
    started: dt.datetime
    files: list[FileOutcome]
    tables: dict[str, Table] = field(default_factory=dict)
    coverage: CoverageReport | None = None  # with a register: who has reported for the period
    register_file: str | None = None  # the register's file, listed on the Om sheet with its SHA-256
    receipts: Receipts | None = None  # the web intake's account (consolidate --state): receipts, reviews

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self.tables[key].frame

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        return {key: table.frame for key, table in self.tables.items()}

    @property
    def counts(self) -> dict[str, int]:
        """found, then one count per Status name (accepted, warnings, superseded, rejected, skipped)."""
        counts = {"found": len(self.files)}
        for status in Status:
            counts[status.name.lower()] = sum(1 for o in self.files if o.status is status)
        return counts

    def sheet_tables(self, sheet: str) -> list[Table]:
        return [t for t in self.tables.values() if t.sheet == sheet]
