"""Writing templates: the locked form (writer), pre-filled from RAR's register (prefill), the next
period's template rolled forward from a report (rollforward), and RAR's control workbook.

The form is written sheet by sheet (report_sheet, budget_sheet, instructions_sheet, data_sheet,
control_sheet) from shared parts: formats, page (print geometry), status (the missing count),
cells (the answer cells), button and package_patch (what XlsxWriter has no API for).

Imports consolidate/ (roll-forward finds an insats' latest report in an inbox with the
consolidation's identity rules), reader/, form/ and common/; never the master writer.
XlsxWriter is imported only when a template is written.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """`template.write_template`, imported on first use, so importing a light submodule
    (control_workbook's defaults, say) does not import XlsxWriter."""
    if name == "write_template":
        from .writer import write_template

        return write_template
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["write_template"]
