"""Reading files that come in: one filled report into a checked model with every problem, and RAR's
register of insatser.

The path of a report: safety (refuse hostile files before any parsing) → sources (the raw value of
every named cell, by python-calamine or openpyxl) → check (parse each answer with its field type,
then rules and privacy) → result (the pydantic model and the issues). annotate writes a copy of a
checked report with its problems. Imports form/ and common/ only.
"""

from ..common.issues import Issue, Severity
from .read import read_report
from .result import ReadResult

__all__ = ["Issue", "ReadResult", "Severity", "read_report"]
