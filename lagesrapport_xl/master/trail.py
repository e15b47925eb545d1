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

A link longer than Excel's 255 characters for a text in a formula is left out (and so is one
with a control character): the value is written as a plain value, and "Sparad som" still names
the file.
"""

from __future__ import annotations

import functools
import os
import posixpath
from dataclasses import dataclass

TEXT_LIMIT = 255  # Excel's limit for a text in a formula


@dataclass(frozen=True)
class Links:
    """Where the master's links point: `base`, the master's own folder; `folder`, the files'
    folder relative to the master when they are copied beside it under their stored names (the
    web's zip), else None: each file where the consolidation found it."""

    base: str
    folder: str | None = None

    def path(self, location: str, stored: str, cwd: str | None = None) -> str:
        """A file's path relative to the master, with "/" (Excel and LibreOffice take it on every
        system), or absolute where no relative path exists (another drive on Windows). `cwd`: the
        working directory, when the caller has it (a table's rows ask once per file: 25 000 calls)."""
        if self.folder is not None:
            return posixpath.join(self.folder, stored.replace(os.sep, "/"))
        folder, name = os.path.split(location)
        return _relative_folder(folder, self.base, cwd or os.getcwd()) + name


@functools.lru_cache(maxsize=256)
def _relative_folder(folder: str, base: str, cwd: str) -> str:
    """A folder relative to `base`, with "/" and a trailing "/" ("" for the same folder): worked out
    once per folder (an inbox is one or a few), as os.path.relpath is slow (about 20 µs a call)."""
    absolute = os.path.join(cwd, folder) if folder else cwd
    try:
        path = os.path.relpath(os.path.normpath(absolute), base)
    except ValueError:  # another drive (Windows): no relative path
        path = os.path.normpath(absolute)
    path = path.replace(os.sep, "/")
    return "" if path == "." else f"{path}/"


def text_literal(text: str) -> str | None:
    """A text as a formula's string literal ("" for each quote); None beyond Excel's limit, or for
    a text with control characters (a formula cannot hold them; the text is written as text)."""
    if len(text) > TEXT_LIMIT or not text.isprintable():
        return None
    return '"{}"'.format(text.replace('"', '""'))


def number_literal(number: int | float) -> str:
    """A number as a formula writes it, the digits XlsxWriter writes for the cached value."""
    return str(number) if number.__class__ is int else f"{number:.16G}"


def file_link(url: str, name: str) -> str | None:
    """`=HYPERLINK("url","name")`; None when either is too long for Excel."""
    target, shown = text_literal(url), text_literal(name)
    return None if target is None or shown is None else f"=HYPERLINK({target},{shown})"


__all__ = ["TEXT_LIMIT", "Links", "file_link", "number_literal", "text_literal"]
