""""Sammanställ" from RAR's control workbook: read the inbox folder, write the master, report back.

Desktop Excel only: xlwings Lite runs in the browser sandbox and cannot read a folder. Every cell
is found by its defined name (control_workbook.py); the results go into the unlocked result
cells and a message box. A problem RAR can fix (no folder, master open in Excel) is a Swedish
sentence in the message cell, never a traceback.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlwings as xw

from ..consolidate.batch import consolidate
from ..consolidate.inputs import InputError
from ..form.spec import SpecError, load_spec
from ..master.writer import write_master
from ..template import control_workbook as cw
from .feedback import as_text

ALERT_TITLE = "Sammanställ lägesrapporter"


@dataclass
class ConsolidationRun:
    """What one click did: counts by outcome, the master written, and the sentence shown."""

    ok: bool
    message: str
    master: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)


def _named_value(book: xw.Book, name: str) -> str:
    value = book.names(name).refers_to_range.value
    return "" if value is None else str(value).strip()


def _resolve(text: str, base: Path) -> Path:
    """A path as typed; relative ones count from the control workbook's folder."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def _base_folder(book: xw.Book) -> Path:
    full = Path(book.fullname)
    return full.parent if full.is_absolute() else Path.cwd()


def _settings(book: xw.Book) -> tuple[Path, Path, Path | None] | str:
    """(inbox, master, config) from the input cells, or the Swedish sentence saying what is wrong."""
    base = _base_folder(book)
    inbox_text, output_text = _named_value(book, cw.INBOX_NAME), _named_value(book, cw.OUTPUT_NAME)
    config_text = _named_value(book, cw.CONFIG_NAME)
    if not inbox_text:
        return "Skriv mappen med de inkomna rapporterna i den vita cellen och klicka igen."
    if not output_text:
        return "Skriv filnamnet för huvudarbetsboken i den vita cellen och klicka igen."
    inbox, output = _resolve(inbox_text, base), _resolve(output_text, base)
    if not inbox.is_dir():
        return f"Mappen {inbox} finns inte. Kontrollera sökvägen i cellen för inkomna rapporter."
    if output.suffix.lower() != ".xlsx":
        return f"Huvudarbetsboken ska sparas som .xlsx, inte ”{output.name}”. Ändra filnamnet."
    if output.is_dir():
        return f"{output} är en mapp. Skriv ett filnamn för huvudarbetsboken, t.ex. Sammanställning.xlsx."
    config = _resolve(config_text, base) if config_text else None
    return inbox, output, config


def _done_message(counts: dict[str, int], master: Path) -> str:
    accepted = counts["accepted"] + counts["warnings"]
    text = f"Klart: {counts['found']} filer lästes, {accepted} rapporter godkändes"
    if counts["rejected"]:
        text += f" och {counts['rejected']} hade fel (se bladet Kontroll i huvudarbetsboken)"
    return text + f". Huvudarbetsboken är sparad som {master}."


def _consolidate(book: xw.Book) -> ConsolidationRun:
    settings = _settings(book)
    if isinstance(settings, str):
        return ConsolidationRun(False, settings)
    inbox, output, config = settings
    try:
        spec = load_spec(config)
        exclude = [output] + ([book.fullname] if Path(book.fullname).is_absolute() else [])
        # One process: a Python started by Excel should not spawn a pool of workers behind it.
        consolidation = consolidate([inbox], spec=spec, workers=1, exclude=exclude)
        write_master(consolidation, output)
    except SpecError as exc:
        return ConsolidationRun(False, f"Fel i konfigurationsfilen: {exc}")
    except InputError as exc:
        return ConsolidationRun(False, str(exc))
    except PermissionError:
        return ConsolidationRun(
            False, f"{output} kunde inte sparas. Är filen öppen i Excel? Stäng den och klicka igen."
        )
    except OSError as exc:
        return ConsolidationRun(False, f"{output} kunde inte sparas: {exc.strerror or exc}.")
    counts = consolidation.counts
    return ConsolidationRun(True, _done_message(counts, output), output, counts)


def _result_values(run: ConsolidationRun, when: dt.datetime) -> dict[str, Any]:
    """Result cell name → value; counts stay empty when nothing was read."""
    counts = run.counts
    accepted = counts["accepted"] + counts["warnings"] if counts else None
    return {
        cw.RESULT_TIME: as_text(f"{when:%Y-%m-%d %H:%M}"),
        cw.RESULT_FILES: counts.get("found"),
        cw.RESULT_ACCEPTED: accepted,
        cw.RESULT_REJECTED: counts.get("rejected"),
        cw.RESULT_SUPERSEDED: counts.get("superseded"),
        cw.RESULT_SKIPPED: counts.get("skipped"),
        cw.RESULT_MASTER: as_text(run.master),
        cw.RESULT_MESSAGE: as_text(run.message),
    }


def run_consolidation(book: xw.Book, when: dt.datetime | None = None) -> ConsolidationRun:
    """Consolidate the inbox named in `book`, write the master and report in the result cells."""
    when = when or dt.datetime.now()
    try:
        run = _consolidate(book)
    except Exception as exc:  # noqa: BLE001 - RAR needs a sentence in the workbook, not a traceback
        run = ConsolidationRun(False, f"Sammanställningen misslyckades: {type(exc).__name__}: {exc}")
    for name, value in _result_values(run, when).items():
        book.names(name).refers_to_range.value = "" if value is None else value
    book.app.alert(run.message, title=ALERT_TITLE, mode="info" if run.ok else "critical")
    return run
