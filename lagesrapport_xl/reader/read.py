"""Read one filled Lägesrapport file: safety check, cell source, parse and check.

`read_report(path)` never raises for a bad file and never stops at the first problem; the
ReadResult carries the model (when there is no error) and every issue with its cell. The file
itself is only read, never written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from ..common import catalogue as codes
from ..common.digest import file_sha256
from ..common.issues import Issue
from ..form.spec import FORM_VERSION_NAME, FormSpec, default_spec
from .check import check_answers, check_cells
from .result import ReadResult
from .safety import DEFAULT_LIMITS, FileCheck, Limits, inspect_file
from .sources import SOURCES


def read_report(
    path: str | Path,
    spec: FormSpec | None = None,
    *,
    source: str = "fast",
    limits: Limits | None = None,
) -> ReadResult:
    """The model (or None) and every problem of one file. `source`: "fast" or "openpyxl"."""
    return _read(path, spec, source, limits, model=True)[0]


def read_answers(
    path: str | Path, spec: FormSpec | None = None, *, limits: Limits | None = None
) -> tuple[ReadResult, dict[str, Any] | None]:
    """read_report as a batch keeps a file: the result without its model, and the answers (None
    when the file has an error). The same checks and issues; pydantic is not needed (answers.py)."""
    result, answers, _check = _read(path, spec, "fast", limits, model=False)
    return result, answers


def read_checked(
    path: str | Path, spec: FormSpec | None = None, *, limits: Limits | None = None
) -> tuple[ReadResult, FileCheck | None]:
    """read_report, and safety's check of the file (None: the file could not be opened), which
    annotate.write_annotated_copy takes instead of inflating and checking the file again."""
    result, _answers, check = _read(path, spec, "fast", limits, model=True)
    return result, check


def _read(
    path: str | Path, spec: FormSpec | None, source: str, limits: Limits | None, *, model: bool
) -> tuple[ReadResult, dict[str, Any] | None, FileCheck | None]:
    """(the result, the answers when `model` is False and the file has no error, safety's check)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    spec = spec or default_spec()
    limits = limits or DEFAULT_LIMITS
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        return ReadResult(file=str(path), issues=[_unopenable(path, exc)]), None, None
    check = inspect_file(path, limits, keep_parts=True)  # what the file really is, and the hard limits
    if check.skip:
        return ReadResult(file=str(path), issues=check.issues, skipped=True), None, check
    facts = {
        "file": str(path),
        "size": stat.st_size,
        "modified": dt.datetime.fromtimestamp(stat.st_mtime),
        # Hashed even when refused (a batch needs it to spot duplicates), unless absurdly large.
        "sha256": hashlib.sha256(check.content).hexdigest() if check.content is not None
        else file_sha256(path) if stat.st_size <= limits.max_file_bytes else None,
    }
    if not check.readable:  # safety's messages say what the file is and how to save it as .xlsx
        return ReadResult(**facts, issues=check.issues), None, check
    # The source parses the very bytes safety inflated and checked: each part is inflated once.
    wanted = [*spec.fields, FORM_VERSION_NAME, *spec.previous_names]  # previous_*: rolled-forward files only
    cells = SOURCES[source](str(path), wanted, parts=check.parts, content=check.content, scans=check.sheet_scans)
    cells.issues[:0] = check.issues  # e.g. "macros are never run and were ignored" for .xlsm
    if model:
        return check_cells(cells, spec, **facts), None, check
    return (*check_answers(cells, spec, **facts), check)


def _unopenable(path: Path, exc: OSError) -> Issue:
    variant = (
        "missing" if isinstance(exc, FileNotFoundError)
        else "directory" if isinstance(exc, IsADirectoryError)
        else "permission" if isinstance(exc, PermissionError)
        else "other"
    )
    return codes.FILE_UNREADABLE.issue(path.name, variant=variant, reason=exc.strerror or exc)
