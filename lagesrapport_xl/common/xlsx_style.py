"""The house style that the template and the master share, and the one way both make cell formats.

Plain data and a small cache: it imports nothing, not even XlsxWriter; the workbook it is given
makes the formats.
"""

from __future__ import annotations

from typing import Any

FONT = "Arial"
HEADER_FILL = "#D9E1F2"


class Formats:
    """A workbook's cell formats on one base (font, size, alignment), each made once.

    XlsxWriter numbers formats in the order they are made, so a writer that wants the same bytes
    for the same input makes them in a fixed order; `once` keeps that order and never makes a
    format twice.
    """

    def __init__(self, wb: Any, base: dict[str, Any]):
        self.wb = wb
        self.base = base
        self._made: dict[tuple[Any, ...], Any] = {}

    def add(self, options: dict[str, Any]) -> Any:
        """A new format: the base with `options` over it."""
        return self.wb.add_format({**self.base, **options})

    def once(self, key: tuple[Any, ...], options: dict[str, Any]) -> Any:
        """The format for `key`, made from the base and `options` the first time it is asked for."""
        if key not in self._made:
            self._made[key] = self.add(options)
        return self._made[key]

    def made(self) -> list[Any]:
        """Every format made through `once`, in the order they were made."""
        return list(self._made.values())
