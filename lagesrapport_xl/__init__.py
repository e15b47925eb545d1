"""lagesrapport_xl: RAR's Lägesrapport as a locked Excel template, a validating reader and a
consolidated master workbook. The core never imports xlwings (see lagesrapport_xl.excel)."""

from __future__ import annotations

from typing import Any

from .common.version import __version__
from .form.spec import FormSpec, SpecError, default_spec, load_spec


def __getattr__(name: str) -> Any:
    """`lagesrapport_xl.write_template`, imported on first use: reading never needs XlsxWriter."""
    if name == "write_template":
        from .template.writer import write_template

        return write_template
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["FormSpec", "SpecError", "default_spec", "load_spec", "write_template", "__version__"]
