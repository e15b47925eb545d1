"""What reading one file gives: the model (or none) and every problem found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..common.issues import Issue, Severity, json_answers, json_value

if TYPE_CHECKING:  # pydantic is imported only where a model is built (check.py, answers.py)
    from .models import ReportBase


@dataclass
class ReadResult:
    """The outcome for one file. `report` is None whenever there is at least one error.

    `values` holds what could be read of every field even when there are errors: the parsed
    value, or for a field in `unread` (not found, a formula, unreadable) the raw value as the cell
    shows it, for the Kontroll sheet. `parsed_values` leaves those out: the answers that did parse.
    """

    file: str
    issues: list[Issue] = field(default_factory=list)
    report: ReportBase | None = None
    values: dict[str, Any] = field(default_factory=dict)
    unread: frozenset[str] = frozenset()  # fields whose value in `values` is raw, not parsed
    form_version: str | None = None
    sha256: str | None = None
    size: int | None = None
    modified: dt.datetime | None = None
    skipped: bool = False  # e.g. an Excel lock file ~$*.xlsx: not a report, not an error

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.skipped and not self.errors

    @property
    def parsed_values(self) -> dict[str, Any]:
        """Every answer that did parse (None for an empty one); equal to the report's answers
        when the file has no error, and {} when nothing could be read."""
        return {key: value for key, value in self.values.items() if key not in self.unread}

    def to_json(self) -> dict[str, Any]:
        """The public contract of `validate --format json`, one object per file.

        `values` (added in version 0.2.0) holds every answer that parsed, also of a file with
        errors, so that a program can show what was read; `report` stays null until the file has no
        error.
        """
        return {
            "file": self.file,
            "ok": self.ok,
            "form_version": self.form_version,
            "report": self.report.answers_json() if self.report is not None else None,
            "values": json_answers(self.parsed_values),
            "issues": [issue.to_json() for issue in self.issues],
        }


__all__ = ["ReadResult", "json_value"]
