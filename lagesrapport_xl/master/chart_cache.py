"""A chart's cached values written a point at a time in one string, not in six calls of XlsxWriter's
XML writer: the master's charts have a bar per insats (1 600 at 6 400 reports), and writing their
cache took 0.1 s of the workbook's close, on the path of the whole run.

The XML is XlsxWriter's own, byte for byte (tests/test_master_cells.py compares the two); it
overrides XlsxWriter internals (Chart._write_num_cache, _write_str_cache, and the XML writer's
escapes, which it calls), guarded like streaming.py's by pyproject's pin of XlsxWriter.
"""

from __future__ import annotations

import types
from typing import Any

from xlsxwriter.chart import Chart


def _text(chart: Chart, value: Any) -> Any:
    """A point's value as XlsxWriter's _xml_data_element writes it (a text escaped; a number as it is)."""
    if value.__class__ is not str:
        return value
    return chart._escape_control_characters(chart._escape_data(value))


def _write_num_cache(chart: Chart, data: Any) -> None:
    count = len(data) if data else 0
    parts = [f'<c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="{count}"/>']
    for index in range(count):
        token = data[index]
        if token is None:
            continue
        try:
            float(token)
        except ValueError:  # as XlsxWriter: a value that is not a number is drawn as 0
            token = 0
        parts.append(f'<c:pt idx="{index}"><c:v>{_text(chart, token)}</c:v></c:pt>')
    parts.append("</c:numCache>")
    chart.fh.write("".join(parts))


def _write_str_cache(chart: Chart, data: Any) -> None:
    parts = [f'<c:strCache><c:ptCount val="{len(data)}"/>']
    for index, value in enumerate(data):
        if value is not None:
            parts.append(f'<c:pt idx="{index}"><c:v>{_text(chart, value)}</c:v></c:pt>')
    parts.append("</c:strCache>")
    chart.fh.write("".join(parts))


def quick_caches(chart: Chart) -> Chart:
    """The chart, its cached values written in one string each."""
    chart._write_num_cache = types.MethodType(_write_num_cache, chart)  # type: ignore[method-assign]
    chart._write_str_cache = types.MethodType(_write_str_cache, chart)  # type: ignore[method-assign]
    return chart
