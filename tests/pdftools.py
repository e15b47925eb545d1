"""Measuring a PDF's text with pdfminer.six: every character of every page, its size in points (the
board report's 9 pt, the master's 8 pt on paper)."""

from __future__ import annotations

from pathlib import Path

from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar


def pages_of(pdf: Path) -> list[list[LTChar]]:
    """Every page's characters as pdfminer lays them out (text in the charts included)."""

    def chars(item):
        if isinstance(item, LTChar):
            yield item
        elif hasattr(item, "__iter__"):
            for child in item:
                yield from chars(child)

    return [[c for c in chars(page) if c.get_text().strip()] for page in extract_pages(str(pdf))]


def text_of(page: list[LTChar]) -> str:
    """The page's characters in order, without spaces (pdfminer gives no character for a space)."""
    return "".join(c.get_text() for c in page)


def smallest(page: list[LTChar]) -> LTChar:
    """The page's smallest character."""
    return min(page, key=lambda c: c.size)
