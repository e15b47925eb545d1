"""What changed between two versions of a report, question by question: what RAR reads before it
approves a report it asked to have completed.

Each version's answers come from the intake's cache (the full payload, as the master reads it), or
from the stored file when the cache has not seen it. A rejected version has no validated answers;
its raw values (what could be read) are compared instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..consolidate.parallel import read_one
from ..form.spec import FormSpec
from ..reader.result import ReadResult
from .intake import Intake


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    where: str  # 'Lägesrapport!E23'
    old: str
    new: str


def shown(value: Any) -> str:
    """A value as RAR reads it: dates as ISO, amounts with a decimal comma, Ja/Nej, – for none."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = f"{value:,.2f}" if value != value.to_integral_value() else f"{value:,.0f}"
        return text.replace(",", "\u00a0").replace(".", ",")
    return str(value)


def version(intake: Intake, stored_name: str) -> tuple[ReadResult, dict[str, Any] | None]:
    """One stored version as the consolidation reads it: (result, answers), from the cache."""
    path = str(intake.inbox / Path(stored_name).name)
    results, missing = intake.cache.recall([path])
    if missing:
        fresh = read_one(path, intake.settings.spec, intake.settings.limits)
        intake.cache.keep([fresh])
        return fresh
    return results[0]  # type: ignore[return-value]


def version_values(intake: Intake, stored_name: str) -> dict[str, Any]:
    """The answers of one stored version (raw values for a version with errors)."""
    result, answers = version(intake, stored_name)
    return answers if answers is not None else dict(result.values)


def changes(old: dict[str, Any], new: dict[str, Any], spec: FormSpec) -> list[Change]:
    """Every question whose answer differs, in the form's order."""
    found = []
    for field in spec.fields.values():
        before, after = old.get(field.key), new.get(field.key)
        if shown(before) != shown(after):
            found.append(Change(field.key, field.label, f"{field.sheet}!{field.cell}", shown(before), shown(after)))
    return found


def version_changes(intake: Intake, old_name: str, new_name: str) -> list[Change]:
    return changes(version_values(intake, old_name), version_values(intake, new_name), intake.settings.spec)
