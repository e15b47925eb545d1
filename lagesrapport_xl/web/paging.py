"""RAR's page a part at a time: at national scale its table has thousands of insatser, and a page
that shows them all is megabytes of HTML rebuilt at every view (1.4 MB at 6 400 reports) and
grows with the inbox. The table shows rar.toml's `rows_per_page` rows at a time (100 unless set),
with links to the other parts that keep the chosen filters; the counts above it are always of the
whole inbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

MAX_UNMATCHED_SHOWN = 200  # names of files without an insats listed under the table; the count says the rest

Row = TypeVar("Row")


@dataclass(frozen=True)
class RowPage(Generic[Row]):
    """One part of a table's rows, and where it lies among them."""

    rows: Sequence[Row]
    per_page: int
    number: int  # 1 for the first part
    pages: int
    total: int  # rows in all parts
    query: Mapping[str, str]  # the filters, kept in the links to the other parts

    @classmethod
    def of(cls, rows: Sequence[Row], asked: str, query: Mapping[str, str], per_page: int) -> RowPage[Row]:
        """The part `asked` for (`?sida=`); the first for a missing or odd value, the last past the end."""
        pages = max(1, -(-len(rows) // per_page))
        try:
            number = int(asked)
        except ValueError:
            number = 1
        number = min(max(number, 1), pages)
        start = (number - 1) * per_page
        return cls(rows[start:start + per_page], per_page, number, pages, len(rows), dict(query))

    @property
    def first(self) -> int:
        """The number of the part's first row among all (0: no rows)."""
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    def link(self, number: int) -> str:
        """The query string of part `number`, with the filters."""
        return "?" + urlencode({**self.query, **({"sida": str(number)} if number > 1 else {})})
