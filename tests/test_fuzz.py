"""Fuzzing: whatever lands in the cells, or in the bytes, the reader answers and never raises.

1. Arbitrary values (text of any kind, numbers, dates, booleans, formulas, blanks) typed into
   EVERY input cell of the real template: read_report returns a model or problems, both cell
   sources agree, and a model exists exactly when there is no error.
2. Arbitrary bytes behind each magic number, and real reports with bytes flipped or cut off:
   inspect_file and read_report return findings, never an exception.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from lagesrapport_dev.fill import fill_workbook
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.reader.safety import OLE2_MAGIC, inspect_file

SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("H4_FUZZ_EXAMPLES", 50)),
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _storable(text: str) -> str:
    """What openpyxl can store: it refuses control characters (Excel escapes them as _x0007_)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(["ja", " NEJ. ", "8-12", "1 234,50 kr", "1.234", "ca 40", "211210", "31.02.2025", "#N/A",
                     "_x0007_", "=", "-", "+46 70 123 45 67", "19811218-9876", "\u200f\u202e", "😀" * 50]),
    st.integers(min_value=1, max_value=5).map(lambda n: "å" * (32_767 - n)),
).map(_storable)
formulas = st.sampled_from(["=1+1", "=1/0", "=NA()", "=A1", "=SUM(B1:B3)", '=HYPERLINK("http://example.invalid")',
                            "=women_actual*2", "=#REF!", "=INDIRECT(\"A\"&1)"])
values = st.one_of(
    st.none(),
    texts,
    formulas,
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),  # python-calamine once panicked below -1e11 in date cells
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2200, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2200, 12, 31)),
)


@SETTINGS
@given(data=st.data())
def test_any_values_in_every_input_cell(data: st.DataObject, tmp_path_factory, template_path: Path, spec) -> None:
    typed = {key: data.draw(values, label=key) for key in spec.fields}
    folder = tmp_path_factory.mktemp("fuzz")
    path = fill_workbook(template_path, folder / "rapport.xlsx", typed)
    results = [read_report(path, spec, source=source) for source in ("fast", "openpyxl")]
    for result in results:
        assert (result.report is None) == bool(result.errors)
        assert all(issue.message and issue.severity for issue in result.issues)
        for issue in result.issues:
            if issue.field in spec.fields and issue.cell:  # problems with a field point at its cell
                assert (issue.sheet, issue.cell) == (spec.field(issue.field).sheet, spec.field(issue.field).cell)
    fast, reference = results
    assert fast.to_json() == reference.to_json(), _difference(fast.to_json(), reference.to_json())


def _difference(fast: dict, reference: dict) -> str:
    """Only what differs between the sources, short enough to read in a failure report."""
    lines = [f"{key}: fast {fast[key]!r:.300} / openpyxl {reference[key]!r:.300}"
             for key in fast if key != "issues" and fast[key] != reference[key]]
    pairs = zip(fast["issues"], reference["issues"])
    lines += [f"fast {a!r:.400}\nopenpyxl {b!r:.400}" for a, b in pairs if a != b]
    if len(fast["issues"]) != len(reference["issues"]):
        lines.append(f"{len(fast['issues'])} issues (fast) / {len(reference['issues'])} (openpyxl)")
    return "\n".join(lines)


magic = st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", OLE2_MAGIC, b"%PDF-", b"<?xml ", b"\xef\xbb\xbf"])


@SETTINGS
@given(head=magic, body=st.binary(max_size=4096))
def test_any_bytes(head: bytes, body: bytes, tmp_path_factory, spec) -> None:
    path = tmp_path_factory.mktemp("bytes") / "rapport.xlsx"
    path.write_bytes(head + body)
    check = inspect_file(path)
    assert not check.readable and check.issues
    result = read_report(path, spec)
    assert result.report is None and result.errors


@SETTINGS
@given(data=st.data())
def test_damaged_real_reports(data: st.DataObject, tmp_path_factory, spec) -> None:
    """A real report with bytes changed, cut short or with a part's bytes replaced."""
    folder = tmp_path_factory.mktemp("damaged")
    original = corpus.filled(folder, name="original.xlsx").read_bytes()
    damage = data.draw(st.sampled_from(["flip", "cut", "part"]), label="damage")
    # Positions as fractions: the saved report's length varies by a byte or two with the clock.
    fraction = st.floats(min_value=0, max_value=1, exclude_max=True)
    if damage == "flip":
        raw = bytearray(original)
        for share in data.draw(st.lists(fraction, min_size=1, max_size=8), label="at"):
            raw[int(share * len(raw))] ^= data.draw(st.integers(1, 255), label="xor")
        damaged = bytes(raw)
    elif damage == "cut":
        damaged = original[: int(data.draw(fraction, label="length") * len(original))]
    else:
        items = corpus.parts(folder / "original.xlsx")
        part = data.draw(st.sampled_from(sorted(items)), label="part")
        items[part] = data.draw(st.binary(max_size=2048), label="content")
        damaged = corpus.write_zip(folder / "part.xlsx", items).read_bytes()
    path = folder / "rapport.xlsx"
    path.write_bytes(damaged)
    for source in ("fast", "openpyxl"):
        result = read_report(path, spec, source=source)
        assert (result.report is None) == bool(result.errors)
    assert path.read_bytes() == damaged
    if zipfile.is_zipfile(path):
        inspect_file(path)
