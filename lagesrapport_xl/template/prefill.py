"""Pre-filled templates from RAR's register: one locked template per register row, named after it,
and the register's own Excel workbook with every pre-fillable column (for RAR to fill in).

The register is read by reader/register.py; this module only writes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..common.config import TemplateOptions
from ..form.previous import Previous
from ..form.spec import FormSpec, default_spec
from ..reader.register import RegisterProblem, RegisterResult, read_register, register_columns
from .writer import FIXED_TIME, write_template

WINDOWS_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}
MAX_NAME_PART = 60

_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—−", "-"))  # "Strängnäs–Eskilstuna" keeps its dash


def _slug(text: Any) -> str:
    """ASCII letters, digits and '-' only; å→a, ä→a, ö→o, any dash → '-'; everything else becomes '_'."""
    decomposed = unicodedata.normalize("NFKD", str(text).translate(_DASHES))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9-]+", "_", ascii_text).strip("_-")[:MAX_NAME_PART].strip("_-")


def template_filename(prefill: dict[str, Any], row: int, used: set[str]) -> str:
    """A safe, unique file name from case number, insats name and report number.

    `used` holds the lower-cased names already taken (file systems on Windows and macOS ignore
    case); the chosen name is added to it.
    """
    parts = [_slug(prefill.get("case_number", "")), _slug(prefill.get("initiative_name", ""))]
    if prefill.get("report_number") is not None:
        parts.append(f"rapport_{prefill['report_number']}")
    stem = "_".join(p for p in parts if p) or f"lagesrapport_rad_{row}"
    if stem.split("_")[0].lower() in WINDOWS_RESERVED:
        stem = "lagesrapport_" + stem
    name, counter = f"{stem}.xlsx", 2
    while name.lower() in used:
        name, counter = f"{stem}_{counter}.xlsx", counter + 1
    used.add(name.lower())
    return name


def write_prefilled_templates(
    register: str | Path, out_dir: str | Path, spec: FormSpec | None = None, *, password: str | None = None,
    options: TemplateOptions | None = None,
) -> RegisterResult:
    """Write one pre-filled, locked template per valid register row into `out_dir`."""
    spec = spec or default_spec()
    rows, problems = read_register(register, spec)
    result = RegisterResult(problems=list(problems))
    templates = [(row.row, row.prefill, None) for row in rows]
    write_row_templates(result, out_dir, spec, templates, password=password, options=options)
    return result


def write_row_templates(
    result: RegisterResult,
    out_dir: str | Path,
    spec: FormSpec,
    templates: Iterable[tuple[int, dict[str, Any], Previous | None]],
    *,
    password: str | None = None,
    options: TemplateOptions | None = None,
) -> None:
    """Write each (register row, prefill, previous report or None) as a template named after it
    into `out_dir`; what is written, or why not, goes into `result`."""
    out = Path(out_dir)
    used: set[str] = set()
    for row, prefill, previous in templates:
        name = template_filename(prefill, row, used)
        try:
            result.written.append(
                write_template(out / name, spec, prefill=prefill, password=password, previous=previous,
                               options=options)
            )
        except OSError as exc:
            message = f"Mallen {name} kunde inte skrivas ({exc.strerror})."
            result.problems.append(RegisterProblem(message, row))


def write_register_workbook(
    path: str | Path, spec: FormSpec | None = None, rows: list[dict[str, Any]] = ()
) -> Path:
    """An Excel register with every pre-fillable column, optionally with rows of parsed values.

    Dates are real dates, amounts numbers and planned ranges text ("8-12"), so the register
    reads back to the same values. The output is byte-for-byte reproducible.
    """
    import xlsxwriter  # only needed here


    spec = spec or default_spec()
    columns = register_columns(spec)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties(
        {"title": "Register över insatser", "company": spec.organisation, "created": FIXED_TIME}
    )
    ws = wb.add_worksheet("Register")
    header = wb.add_format(
        {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#D9E1F2", "border": 1}
    )
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    amount = wb.add_format({"num_format": "#,##0"})
    text = wb.add_format({"num_format": "@"})
    for col, (heading, keys) in enumerate(columns):
        ws.write_string(0, col, heading, header)
        ws.set_column(
            col, col, 14 if spec.fields[keys[0]].group == "report" else 16, text if len(keys) == 2 else None
        )
        for row, values in enumerate(rows, start=1):
            if len(keys) == 2:
                low, high = values.get(keys[0]), values.get(keys[1])
                if low is not None:
                    ws.write_string(row, col, str(low) if low == high else f"{low}-{high}", text)
            else:
                value = values.get(keys[0])
                if isinstance(value, dt.date):
                    ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), date)
                elif isinstance(value, str):
                    ws.write_string(row, col, value)
                elif value is not None:
                    ws.write_number(
                        row, col, float(value), amount if spec.fields[keys[0]].group != "report" else None
                    )
    ws.set_row(0, 45)
    ws.freeze_panes(1, 0)
    wb.close()
    return Path(path)
