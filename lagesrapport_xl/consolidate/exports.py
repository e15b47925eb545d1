"""CSV and JSON exports of the consolidated tables.

CSV is made for Swedish Excel, which is what RAR's staff double-click: UTF-8 with a byte-order
mark (without it Excel reads å, ä, ö as Windows-1252), semicolons between fields (Swedish Excel's
list separator) and decimal commas. Text that a spreadsheet would run as a formula (starting with
=, +, -, @, tab or carriage return) gets a leading apostrophe, as OWASP recommends.
JSON keeps English column keys and plain values, for programs, and with the tables each file
(what became of it, its problems, what was read of it) and, with a register, who is missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..common.atomic import atomic_path
from ..common.issues import json_answers, json_value
from ..common.version import PROGRAM, __version__
from .tables.base import missing as _missing

if TYPE_CHECKING:
    from .consolidation import Consolidation
    from .coverage import CoverageReport
    from .statuses import FileOutcome
    from .tables.base import Table

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """A text that no spreadsheet will execute: '=1+1' → "'=1+1"."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_value(value: Any) -> str:
    """One field as Swedish Excel reads it: decimal comma, ISO dates, safe text."""
    if _missing(value):
        return ""
    if hasattr(value, "item") and not isinstance(value, (str, dt.date)):
        value = value.item()
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        value = float(value) if isinstance(value, Decimal) else value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.10f}".rstrip("0").rstrip(".").replace(".", ",")
    return csv_safe(str(value))


def _atomic_write(path: Path, write: Any, *, newline: str | None = None, encoding: str = "utf-8") -> Path:
    with atomic_path(path) as tmp, open(tmp, "w", encoding=encoding, newline=newline) as stream:
        write(stream)
    return path


def write_table_csv(table: Table, path: str | Path) -> Path:
    columns = list(table.columns)

    def write(stream: Any) -> None:
        writer = csv.writer(stream, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow([csv_safe(c.header) for c in columns])
        positions = [table.column_index(c.key) for c in columns]
        for row in table.rows:
            writer.writerow([csv_value(row[at]) for at in positions])

    return _atomic_write(Path(path), write, newline="", encoding="utf-8-sig")


def write_csv(consolidation: Consolidation, folder: str | Path) -> list[Path]:
    """One CSV per table in `folder` (named after the table, e.g. budget_per_insats.csv)."""
    folder = Path(folder)
    return [write_table_csv(t, folder / f"{t.file_stem}.csv") for t in consolidation.tables.values()]


def _json_cell(value: Any) -> Any:
    if _missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, dt.date)):
        value = value.item()
    value = json_value(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def tables_json(consolidation: Consolidation) -> dict[str, Any]:
    """The consolidated tables as one JSON document (the shape of `--json`)."""
    tables = {}
    for table in consolidation.tables.values():
        keys = [c.key for c in table.columns]
        width = len(keys)  # the rows' values for the columns come first, hidden keys after them
        tables[table.key] = {
            "sheet": table.sheet,
            "title": table.title,
            "columns": [{"key": c.key, "header": c.header} for c in table.columns],
            "rows": [dict(zip(keys, map(_json_cell, row[:width]))) for row in table.rows],
            "totals": {k: _json_cell(v) for k, v in table.totals.items()} if table.totals is not None else None,
        }
    return {
        "program": f"{PROGRAM} {__version__}",
        "form_version": consolidation.spec.version,
        "run_at": consolidation.started.replace(microsecond=0).isoformat(),
        "inputs": list(consolidation.inputs),
        "tolerance": consolidation.tolerance,
        "counts": consolidation.counts,
        "tables": tables,
        "files": [file_json(outcome) for outcome in consolidation.files],
        "missing": missing_json(consolidation.coverage) if consolidation.coverage is not None else None,
    }


def file_json(outcome: FileOutcome) -> dict[str, Any]:
    """One file of the batch: what became of it, its problems, and its answers once — in `report`
    when it counts (accepted, with or without warnings), else in `values`: every answer that was
    read of it (all of a superseded copy's, what parsed of a rejected file's, none of a lock file's)."""
    answers = json_answers(outcome.answers if outcome.answers is not None else outcome.result.parsed_values)
    return {
        "file": outcome.name,
        "status": outcome.status.name.lower(),
        "ok": outcome.result.ok,
        "form_version": outcome.result.form_version,
        "sha256": outcome.result.sha256,
        "superseded_by": outcome.superseded_by,
        "report": answers if outcome.accepted else None,
        "values": None if outcome.accepted else answers,
        "issues": [issue.to_json() for issue in outcome.result.issues],
    }


def missing_json(coverage: CoverageReport) -> list[dict[str, Any]]:
    """Each register row without an accepted report for its period: which insats and report it
    waits for, and why ("missing": nothing came; "rejected": only files with errors came)."""
    return [
        {
            "register_row": row.row,
            "case_number": row.case_number,
            "initiative_name": row.initiative_name,
            "report_number": row.report_number,
            "period_start": json_value(row.period_start),
            "period_end": json_value(row.period_end),
            "state": row.state.name.lower(),
            "rejected": list(row.rejected),
        }
        for row in coverage.missing
    ]


def write_json(consolidation: Consolidation, path: str | Path) -> Path:
    document = tables_json(consolidation)
    return _atomic_write(Path(path), lambda stream: json.dump(document, stream, ensure_ascii=False, indent=1))


__all__ = [
    "csv_safe",
    "csv_value",
    "file_json",
    "missing_json",
    "tables_json",
    "write_csv",
    "write_json",
    "write_table_csv",
]
