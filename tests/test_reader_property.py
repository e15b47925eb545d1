"""Any valid report goes template → file → model unchanged (hypothesis), through both sources.

"Any text Excel can store": every Unicode character except surrogates, U+FFFE/U+FFFF and the C0
control characters other than tab and line feed (openpyxl raises IllegalCharacterError on them,
Excel cannot store them either). Two things are left out because openpyxl, which writes the test
files, cannot write them faithfully, not because the reader loses them: a carriage return
(the XML parser turns it into a line feed; Excel's Alt+Enter is a line feed anyway) and text
that looks like an OOXML escape such as "_x000D_" (openpyxl writes it unescaped, so by the file
format it means a carriage return; Excel escapes it as "_x005F_x000D_").
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lagesrapport_dev.fill import fill_workbook
from lagesrapport_dev.samples import example_answers
from lagesrapport_xl.form.fieldtypes import EARLIEST_DATE, LATEST_DATE, MAX_AMOUNT, MAX_CELL_TEXT, is_blank
from lagesrapport_xl.form.spec import default_spec
from lagesrapport_xl.reader.read import read_report

SPEC = default_spec()
_ILLEGAL = [chr(c) for c in range(32) if chr(c) not in "\t\n"] + ["\ufffe", "\uffff"]
_ESCAPE_LIKE = re.compile(r"_x[0-9A-Fa-f]{4}_")
CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters=_ILLEGAL)


def texts(max_size: int = 120) -> st.SearchStrategy[str]:
    return st.text(CHARACTERS, min_size=1, max_size=max_size).filter(
        lambda t: not is_blank(t) and not _ESCAPE_LIKE.search(t)
    )


dates = st.dates(min_value=EARLIEST_DATE, max_value=LATEST_DATE)
counts = st.integers(min_value=0, max_value=1_000_000)
amounts = st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def valid_reports(draw) -> dict[str, Any]:
    """Values that break no rule (warnings allowed): sorted dates, min ≤ max, cumulative ≥ period."""
    values: dict[str, Any] = {}
    first, start, end, last = sorted(draw(st.lists(dates, min_size=4, max_size=4)))
    values.update(initiative_start=first, period_start=start, period_end=end, initiative_end=last)
    values["signed_date"] = draw(dates)
    number, total = sorted(draw(st.lists(st.integers(1, 99), min_size=2, max_size=2)))
    values.update(report_number=number, reports_total=total)
    for key, field in SPEC.fields.items():
        if field.type.name in ("text", "long_text"):
            required = field.required is not False
            values[key] = draw(texts()) if required else draw(st.none() | texts())
        elif field.type.name == "yes_no":
            values[key] = draw(st.sampled_from(["Ja", "Nej"]))
    for sex in ("women", "men"):
        planned = draw(st.none() | st.lists(counts, min_size=2, max_size=2).map(sorted))
        values[f"{sex}_planned_min"], values[f"{sex}_planned_max"] = planned or (None, None)
        required = values["individual_oriented"] == "Ja"
        values[f"{sex}_actual"] = draw(counts if required else st.none() | counts)
    for line in SPEC.budget.lines + SPEC.budget.financing:
        key = lambda column: SPEC.budget_key(line.key, column)  # noqa: E731
        values[key("budget_total")] = draw(st.none() | amounts)
        values[key("budget_period")] = draw(st.none() | amounts)
        period, cumulative = sorted(draw(st.lists(amounts, min_size=2, max_size=2)))
        values[key("actual_period")], values[key("actual_cumulative")] = period, cumulative
    assert set(values) == set(SPEC.fields)
    return values


def _read_both(template: Path, values: dict[str, Any]):
    with tempfile.TemporaryDirectory() as folder:
        path = fill_workbook(template, Path(folder) / "rapport.xlsx", values)
        return read_report(path), read_report(path, source="openpyxl")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(values=valid_reports())
@example(values={**dict.fromkeys(SPEC.fields), **example_answers(SPEC), "initiative_start": EARLIEST_DATE,
                 "period_start": EARLIEST_DATE, "period_end": LATEST_DATE, "initiative_end": LATEST_DATE,
                 "signed_date": LATEST_DATE})
def test_any_valid_report_round_trips_unchanged(template_path, values):
    fast, reference = _read_both(template_path, values)
    assert not fast.errors, [i.describe() for i in fast.errors]
    assert fast.report.answers() == values
    assert fast.to_json() == reference.to_json()


def test_answers_of_32767_characters_round_trip(template_path):
    alphabet = "Åäö abc – “citat” 😀\tעברית\n" + "".join(chr(c) for c in range(0x4E00, 0x4E40))
    long_keys = [k for k, f in SPEC.fields.items() if f.type.name == "long_text"]
    values = example_answers(SPEC)
    for index, key in enumerate(long_keys):
        text = (alphabet[index:] + alphabet[:index]) * (MAX_CELL_TEXT // len(alphabet) + 1)
        values[key] = text[:MAX_CELL_TEXT]
    fast, reference = _read_both(template_path, values)
    assert fast.ok, [i.describe() for i in fast.issues]
    assert {k: getattr(fast.report, k) for k in long_keys} == {k: values[k] for k in long_keys}
    assert fast.to_json() == reference.to_json()


@pytest.mark.parametrize(
    "text", ["  leading and trailing  ", "\nline feed first", "tab\tin the middle", "=1+1"]
)
def test_text_is_never_trimmed_or_evaluated(template_path, text):
    fast, reference = _read_both(template_path, {**example_answers(SPEC), "deviations": text})
    assert fast.report.deviations == text
    assert reference.report.deviations == text
