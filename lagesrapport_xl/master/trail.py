"""The trail from the master's numbers to the reports: each amount and count taken from a report
is a link to its one source cell, `=HYPERLINK("Inkorg/fil.xlsx#Budget!C6",12345)`, and the report's
"Källfil" a link to its file, `=HYPERLINK("Inkorg/fil.xlsx","Namnet som skickades.xlsx")`.

HYPERLINK gives its second argument as the cell's value, so sums, SUMPRODUCTs and comparisons
over these cells work as over plain numbers, and the number itself is written as the formula's
cached result. The link is relative to the master's folder, so it works wherever the master and
the files are moved together: beside the inbox, or unpacked from the web's zip (where the files
lie in a folder of their own under their stored names). `file.xlsx#Sheet!A1` is the location form
of Office Open XML's hyperlinks (a file, then a place in it), which Excel's HYPERLINK follows to
the cell.

A link longer than Excel's 255 characters for a text in a formula is left out: the value is
written as a plain value, and "Sparad som" still names the file.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass

_EXCEL_TEXT_LIMIT = 255


@dataclass(frozen=True)
class Links:
    """Where the master's links point: `base`, the master's own folder; `folder`, the files'
    folder relative to the master when they are copied beside it under their stored names (the
    web's zip), else None: each file where the consolidation found it."""

    base: str
    folder: str | None = None

    def path(self, location: str, stored: str) -> str:
        """A file's path relative to the master, with "/" (Excel and LibreOffice take it on every
        system), or absolute where no relative path exists (another drive on Windows)."""
        if self.folder is not None:
            return posixpath.join(self.folder, stored.replace(os.sep, "/"))
        try:
            path = os.path.relpath(os.path.abspath(location), self.base)
        except ValueError:
            path = os.path.abspath(location)
        return path.replace(os.sep, "/")


def text_literal(text: str) -> str | None:
    """A text as a formula's string literal ("" for each quote); None beyond Excel's limit."""
    return None if len(text) > _EXCEL_TEXT_LIMIT else '"{}"'.format(text.replace('"', '""'))


def number_literal(number: int | float) -> str:
    """A number as a formula writes it, the digits XlsxWriter writes for the cached value."""
    return str(number) if number.__class__ is int else f"{number:.16G}"


def cell_link(url: str, cell: str, shown: str) -> str | None:
    """`=HYPERLINK("url#cell",shown)`; None when the link is too long for Excel."""
    target = text_literal(f"{url}#{cell}")
    return None if target is None else f"=HYPERLINK({target},{shown})"


def file_link(url: str, name: str) -> str | None:
    """`=HYPERLINK("url","name")`; None when either is too long for Excel."""
    target, shown = text_literal(url), text_literal(name)
    return None if target is None or shown is None else f"=HYPERLINK({target},{shown})"


__all__ = ["Links", "cell_link", "file_link", "number_literal", "text_literal"]
