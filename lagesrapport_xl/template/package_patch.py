"""Edits to the written template package (the .xlsx zip) that XlsxWriter has no API for.

Run once on the finished file: it locks the workbook's structure and turns the textbox of
`button.insert_button` into the named, non-printing Validera button.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from .button import BUTTON_NAME


def patch_package(path: Path) -> None:
    """Edit two things XlsxWriter has no API for, directly in the package's XML.

    1. <workbookProtection lockStructure="1"> in xl/workbook.xml; the password hash is copied from
       the sheets' own protection element (the same legacy algorithm).
    2. The textbox becomes the named, non-printing button btnValidera in xl/drawings/ (when the
       template has the button).
    """
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info.filename)) for info in source.infolist()]
    parts = {info.filename: data for info, data in items}
    sheets = b"".join(data for name, data in parts.items() if name.startswith("xl/worksheets/"))
    hash_match = re.search(rb'<sheetProtection password="([0-9A-F]+)"', sheets)
    attributes = b' lockStructure="1"'
    if hash_match:
        attributes += b' workbookPassword="' + hash_match.group(1) + b'"'
    patched = {
        "xl/workbook.xml": _patch_once(
            parts["xl/workbook.xml"], rb"(<workbookPr[^>]*/>)", rb"\1<workbookProtection" + attributes + b"/>"
        )
    }
    drawings = [name for name in parts if re.fullmatch(r"xl/drawings/drawing\d+\.xml", name)]
    if len(drawings) > 1:  # pragma: no cover - the button is the template's only drawing
        raise RuntimeError(f"expected one drawing part, found {drawings}")
    for part in drawings:
        patched[part] = _button(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            target.writestr(info, patched.get(info.filename, data))


def _button(drawing: bytes) -> bytes:
    """The textbox named BUTTON_NAME and left out of printing."""
    drawing = _patch_once(drawing, rb'name="TextBox \d+"', b'name="' + BUTTON_NAME.encode() + b'"')
    return _patch_once(drawing, rb"<xdr:clientData/>", rb'<xdr:clientData fPrintsWithSheet="0"/>')


def _patch_once(xml: bytes, pattern: bytes, replacement: bytes) -> bytes:
    result, count = re.subn(pattern, replacement, xml, count=1)
    if count != 1:  # pragma: no cover - XlsxWriter always writes these elements
        raise RuntimeError(f"pattern {pattern!r} not found while patching the template")
    return result
