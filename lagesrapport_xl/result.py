"""What reading one file gives: the model (or none) and every problem found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .issues import Issue, Severity, json_value
from .models import ReportBase


@dataclass
class ReadResult:
    """The outcome for one file. `report` is None whenever there is at least one error.

    `values` holds what could be read of every field even when there are errors (parsed where
    possible, otherwise the raw value), for annotated copies and the control sheet.
    """

    file: str
    issues: list[Issue] = field(default_factory=list)
    report: ReportBase | None = None
    values: dict[str, Any] = field(default_factory=dict)
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

    def to_json(self) -> dict[str, Any]:
        """The public contract of `validate --format json`, one object per file."""
        return {
            "file": self.file,
            "ok": self.ok,
            "form_version": self.form_version,
            "report": self.report.answers_json() if self.report is not None else None,
            "issues": [issue.to_json() for issue in self.issues],
        }


__all__ = ["ReadResult", "json_value"]
