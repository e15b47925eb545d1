"""The board report: a PDF for RAR's board written from a Consolidation — a summary page of every
insats (status, participants against plan, budget used against time elapsed, the coordinator's
assessment against the computed one, who is missing) and one A4 page per insats with its charts
and its answers in free text.

facts.py takes what the board reads from the consolidation's tables (their public API only);
charts.py draws the charts with matplotlib as SVG; pages.py lays out the pages with fpdf2;
`write_board_report` writes the file. Needs the `board` extra (matplotlib, fpdf2).

Imports consolidate/, form/ and common/; a sibling of template/ and master/, never importing them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..common.atomic import atomic_path
from ..common.version import PROGRAM
from ..consolidate.consolidation import Consolidation
from .facts import BoardFacts, InsatsFacts, MissingInsats, board_facts


LIBRARIES = {"matplotlib": "matplotlib", "fpdf": "fpdf2"}  # module → the package that installs it


def missing_libraries() -> list[str]:
    """The packages of the `board` extra that are not installed (without importing them)."""
    return [package for module, package in LIBRARIES.items() if importlib.util.find_spec(module) is None]


def board_report_bytes(consolidation: Consolidation) -> bytes:
    """The board report as PDF bytes: the same consolidation gives the same bytes."""
    from .pages import render

    return render(board_facts(consolidation), PROGRAM)


def write_board_report(consolidation: Consolidation, path: str | Path) -> Path:
    """Write the board report to `path` (replaced in one step: a reader never sees half a file)."""
    content = board_report_bytes(consolidation)
    with atomic_path(path) as temporary:
        temporary.write_bytes(content)
    return Path(path)


__all__ = [
    "BoardFacts",
    "InsatsFacts",
    "MissingInsats",
    "board_facts",
    "board_report_bytes",
    "missing_libraries",
    "write_board_report",
]
