"""safety.inspect_file: kinds by content, hard limits before parsing, hostile files refused cheaply."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from typing import Callable
from xml.etree import ElementTree

import corpus
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lagesrapport_dev import attacks
from lagesrapport_dev.examples import demo_files
from lagesrapport_xl.common.issues import Issue, Severity
from lagesrapport_xl.form.spec import FormSpec, col_letter
from lagesrapport_xl.reader import safety, sheet_scan
from lagesrapport_xl.reader.safety import archive as safety_archive
from lagesrapport_xl.reader.safety import extent, kinds
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.template.writer import write_template
from lagesrapport_xl.reader.safety import DEFAULT_LIMITS, Limits, inspect_file
from lagesrapport_xl.reader.sources.workbook_xml import local_name

DOCS = Path(__file__).resolve().parents[1] / "docs" / "safety.md"
MB = 2**20
REFUSED_CHEAPLY = [c for c in corpus.CASES if c.group == "hostile" or (c.group == "file" and c.expect == "rejected")]


def worst_case_report(tmp_path: Path, spec: FormSpec, char: str = "&") -> Path:
    """Every text answer as long as a cell allows, of the character that grows most as XML."""
    texts = {k: char * 32_767 for k, f in spec.fields.items() if f.type.name in ("text", "long_text")}
    return corpus.filled(tmp_path, texts, name=f"storsta_{ord(char)}.xlsx")


def part_stats(path: Path) -> tuple[int, int, float]:
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    return (
        sum(i.file_size for i in infos),
        max(i.file_size for i in infos),
        max(i.file_size / max(i.compress_size, 1) for i in infos),
    )


# --- real reports pass; the defaults leave room ---------------------------------------------------


def test_real_reports_pass_every_limit(tmp_path: Path, spec: FormSpec, template_path: Path, libreoffice) -> None:
    filled = corpus.filled(tmp_path)
    (saved,) = libreoffice.convert(filled, "xlsx", tmp_path / "lo")
    for path in (template_path, filled, saved):
        check = inspect_file(path)
        assert (check.kind, check.issues, check.readable) == ("xlsx", [], True), path


@pytest.mark.parametrize("char", ["&", "😀", "a"])
def test_largest_legitimate_report_passes_although_it_compresses_extremely(tmp_path: Path, spec: FormSpec, char: str) -> None:
    """Why the ratio test has a floor: a full report of '&' (5 bytes as XML each) compresses
    hundreds of times, far beyond max_ratio, yet it is a real report and must be read."""
    path = worst_case_report(tmp_path, spec, char)
    total, largest, ratio = part_stats(path)
    print(f"{char!r}: {path.stat().st_size} bytes, {total} inflated, largest part {largest}, ratio {ratio:.0f}")
    assert largest < DEFAULT_LIMITS.ratio_floor_bytes and total < DEFAULT_LIMITS.max_uncompressed_bytes / 10
    if char == "&":
        assert ratio > DEFAULT_LIMITS.max_ratio
    assert inspect_file(path).issues == []
    result = read_report(path, spec)
    assert result.report is not None, [i.describe() for i in result.issues]


# --- each limit is configurable and reaches the reader ----------------------------------------------


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        (Limits(max_file_bytes=4096), "file_too_large"),
        (Limits(max_entries=5), "too_many_entries"),
        (Limits(max_uncompressed_bytes=50_000), "zip_bomb"),
        (Limits(max_part_bytes=10_000), "zip_bomb"),
        (Limits(max_ratio=2.0, ratio_floor_bytes=1000), "zip_bomb"),
        (Limits(max_sheet_rows=20), "sheet_too_large"),
        (Limits(max_sheet_columns=3), "sheet_too_large"),
        (Limits(max_sheet_cells=60), "sheet_too_large"),
        (Limits(max_unused_bytes=20_000), "unused_content"),
        (Limits(max_form_sheet_cells=100), "unused_content"),
    ],
    ids=["file", "entries", "inflated", "part", "ratio", "rows", "columns", "cells", "unused", "form-cells"],
)
def test_each_limit_refuses_and_reaches_the_reader(tmp_path: Path, spec: FormSpec, limits: Limits, code: str) -> None:
    path = corpus.filled(tmp_path)
    assert inspect_file(path).readable
    check = inspect_file(path, limits)
    assert [i.code for i in check.issues] == [code] and not check.readable
    result = read_report(path, spec, limits=limits)
    assert result.report is None and [i.code for i in result.issues] == [code]
    assert "Filen läses inte av säkerhetsskäl" in result.issues[0].message or code == "file_too_large"
    if code == "sheet_too_large":  # the message names the sheet as the user sees it
        assert check.issues[0].sheet in {spec.instructions_sheet, spec.report_sheet, spec.budget_sheet}
        assert f"”{check.issues[0].sheet}”" in check.issues[0].message


def _with_strings(report: bytes, count: int) -> bytes:
    parts = attacks.parts_of(report)
    extra = b"".join(b"<si><t>t%d</t></si>" % i for i in range(count))
    parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace(b"</sst>", extra + b"</sst>")
    return attacks.rezip(parts)


def test_unused_content_is_refused_and_costs_little(tmp_path: Path, spec: FormSpec) -> None:
    """Issue 21: a million numbers on sheets the form does not read (3.9 MB) were accepted after
    15–19 s of processor time, a 19 MB extra part went in without a word. The form's sheets are
    the only ones parsed, and what it does not use is refused past a stated size. Times printed
    (docs/safety.md, Bounded work per file), never asserted."""
    report = write_template(tmp_path / "rapport.xlsx", spec, answers=demo_files()[0].answers).read_bytes()
    cases = {
        "million_numbers": (attacks.with_filled_unused_sheets(report), "parts"),
        "million_on_data": (attacks.with_filled_unused_sheets(report, sheets=(spec.data_sheet,)), "cells"),
        "extra_part_19mb": (attacks.with_extra_part(report), "parts"),
        "million_strings": (_with_strings(report, 1_000_000), "strings"),
        "within_limits": (attacks.with_filled_unused_sheets(
            attacks.with_filled_unused_sheets(report, 25_000, (spec.instructions_sheet,)), 9_800, (spec.data_sheet,)),
            None),
    }
    for name, (content, variant) in cases.items():
        path = attacks.write(tmp_path / f"{name}.xlsx", content)
        started = time.process_time()
        result = read_report(path, spec)
        seconds = time.process_time() - started
        print(f"{name}: {len(content) / 2**20:.1f} MB, {seconds:.3f} s of processor time, "
              f"{[i.code for i in result.issues]}")
        if variant is None:
            assert result.report is not None and result.errors == [], name
            continue
        [issue] = result.issues
        assert issue.code == "unused_content" and "Filen läses inte av säkerhetsskäl" in issue.message, name
        assert PHRASES[variant] in issue.message, name


PHRASES = {"parts": "som blanketten inte använder", "cells": "ifyllda celler", "strings": "olika texter"}


def test_limits_documented_with_their_defaults() -> None:
    """docs/safety.md states every limit with its exact default, so the table cannot drift."""
    text = DOCS.read_text(encoding="utf-8")
    for field in dataclasses.fields(Limits):
        value = getattr(DEFAULT_LIMITS, field.name)
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        row = next((line for line in text.splitlines() if f"`{field.name}`" in line), "")
        assert re.search(rf"\b{re.escape(shown)}\b", row), f"{field.name} = {shown} missing from docs/safety.md"


# --- XML declarations anywhere ---------------------------------------------------------------------


def test_dtd_refused_in_every_xml_part(tmp_path: Path) -> None:
    source = corpus.filled(tmp_path)
    xml_parts = [name for name in corpus.parts(source) if name.endswith((".xml", ".rels"))]
    assert len(xml_parts) >= 10
    for part in xml_parts:
        edit = corpus.inject_dtd(part, b'<!DOCTYPE x [<!ENTITY e "x">]>', b"", b"")
        path = corpus.edited(tmp_path, edit, name=f"dtd_{len(part)}_{part.replace('/', '_')}")
        assert [i.code for i in inspect_file(path).issues] == ["xml_dtd"], part


def test_dtd_split_between_two_chunks_is_found(tmp_path: Path) -> None:
    """The scanner inflates in chunks; a declaration straddling a chunk border is still seen."""
    boundary = safety_archive._CHUNK
    prolog = b'<?xml version="1.0"?><!--' + b"-" * 10 + b"-->"
    padding = b" " * (boundary - len(prolog) - 4)
    part = prolog + padding + b"<!DOCTYPE w [<!ENTITY e 'x'>]><w/>"
    assert part[:boundary].endswith(b"<!DO")

    def edit(items: dict[str, bytes]) -> None:
        items["docProps/extra.xml"] = part

    path = corpus.edited(tmp_path, edit)
    assert [i.code for i in inspect_file(path).issues] == ["xml_dtd"]


# --- how far a sheet reaches ----------------------------------------------------------------------


TOO_LARGE, UNUSUAL = ["sheet_too_large"], ["xml_unusual"]


@pytest.mark.parametrize(
    ("cells", "codes"),
    [
        (b'<row r="20000"><c s="0" r="B20000"><v>1</v></c></row>', TOO_LARGE),  # r after another attribute
        (b'<row spans="1:1" r="9000"><c t="n" r="A9000"><v>1</v></c></row>', []),
        (b"<row><c><v>1</v></c></row>" * 10_001, TOO_LARGE),  # positions implied by order
        (b"<row><c><v>1</v></c></row>" * 9_000, []),
        (b'<row r="5"><c r="ALM5"><v>1</v></c></row>', TOO_LARGE),  # ALM is column 1 001
        (b'<row r="5"><c r="ALL5"><v>1</v></c></row>', []),  # ALL is column 1 000
        (b'<row r="5"><c r="B5"/>' + b"<c/>" * 1_200 + b"</row>", TOO_LARGE),  # columns implied by order
        (b'<x:row r="30000"><x:c r="A30000"><x:v>1</x:v></x:c></x:row>', TOO_LARGE),  # namespace prefix
        (b'<row r="7"><c t="s" x=">" r="XFD7"><v>1</v></c></row>', TOO_LARGE),  # '>' inside a quoted value
        (b'<row r="7"><c r="A7" r="XFD7"><v>1</v></c></row>', ["xml_damaged"]),  # a second r attribute
        (b'<row r="7"><c x:r="XFD7"><v>1</v></c></row>', TOO_LARGE),  # a prefixed r attribute
        (b'<row r="7"><c r="&#88;FD1048576"><v>1</v></c></row>', TOO_LARGE),  # a character reference
        (b'<row r="7"><c r="A7" x="' + b"a" * (1 << 21) + b'"><v>1</v></c></row>', []),  # a 2 MB tag
        (b'<row r="7"><c r=" A7"><v>1</v></c></row>', UNUSUAL),  # no writer puts spaces in a reference
        (b"<!-- <c r='XFD1'> --><![CDATA[<c r='XFD1'>]]><row r='7'><c r='B7'/></row>", []),  # not cells
        (b'<row r="7"><c r="A7"><v>1</v></row>', []),  # not well-formed: left to the reader's parser …
        (b'<!-- - --><row r="7"><c r="A7"><v>1</v></row>', ["xml_damaged"]),  # … unless safety needed one
    ],
    ids=["r-not-first", "9000-rows", "implicit-rows", "implicit-9000", "column-ALM", "column-ALL", "implicit-columns",
         "prefixed-tags", "quoted-gt", "second-r", "prefixed-r", "char-reference", "giant-tag", "spaces",
         "comment-and-cdata", "malformed", "malformed-parsed"],
)
def test_sheet_extent(tmp_path: Path, spec: FormSpec, cells: bytes, codes: list[str]) -> None:
    def edit(items: dict[str, bytes]) -> None:
        part = corpus.sheet_part(items, spec.budget_sheet)
        items[part] = items[part].replace(b"</sheetData>", cells + b"</sheetData>")

    # How far the sheet reaches, alone: 10 001 cells are also more than a sheet the form reads may hold.
    check = inspect_file(corpus.edited(tmp_path, edit), Limits(max_form_sheet_cells=10**9))
    assert [i.code for i in check.issues] == codes
    if codes == TOO_LARGE:  # the message names the sheet as the user sees it
        assert check.issues[0].sheet == spec.budget_sheet


def test_sheet_extent_across_chunk_borders(tmp_path: Path, spec: FormSpec) -> None:
    """Cells are scanned chunk by chunk; a far cell whose tag straddles a chunk border is still seen."""
    far = b'<c t="n" r="XFD10">'
    filler = b'<row r="9"><c r="A9" t="inlineStr"><is><t>' + b"x" * safety_archive._CHUNK + b"</t></is></c></row>"

    def sheet_with(padding: int) -> Callable[[dict[str, bytes]], None]:
        def edit(items: dict[str, bytes]) -> None:
            part = corpus.sheet_part(items, spec.budget_sheet)
            cells = filler + b" " * padding + b'<row r="10">' + far + b"<v>1</v></c></row>"
            items[part] = items[part].replace(b"</sheetData>", cells + b"</sheetData>")
            edit.position = items[part].index(far)  # type: ignore[attr-defined]

        return edit

    probe = sheet_with(0)
    corpus.edited(tmp_path, probe, name="probe.xlsx")
    for inside in (1, 5, len(far) - 1):  # the border falls this many bytes into the tag
        padding = (2 * safety_archive._CHUNK - probe.position - inside) % safety_archive._CHUNK  # type: ignore[attr-defined]
        edit = sheet_with(padding)
        path = corpus.edited(tmp_path, edit, name=f"skarv{inside}.xlsx")
        assert edit.position % safety_archive._CHUNK == safety_archive._CHUNK - inside  # type: ignore[attr-defined]
        assert [i.code for i in inspect_file(path).issues] == TOO_LARGE, inside


# --- kinds that are not zip archives ----------------------------------------------------------------


def test_lock_files_are_skipped_not_errors(tmp_path: Path, spec: FormSpec) -> None:
    for name in ("~$rapport.xlsx", ".~lock.rapport.xlsx#"):
        path = tmp_path / name
        path.write_bytes(b"\x0eAnna Andersson" + b" " * 40)
        check = inspect_file(path)
        assert (check.kind, check.skip, check.readable) == ("lock_file", True, False)
        result = read_report(path, spec)
        assert result.skipped and not result.errors and result.report is None


@pytest.mark.parametrize(
    "data",
    [
        safety.OLE2_MAGIC,  # only the signature
        safety.OLE2_MAGIC + b"\x00" * 600,  # a header of zeros
        safety.OLE2_MAGIC + bytes(range(256)) * 40,  # garbage where the directory should be
        safety.OLE2_MAGIC + b"\x00" * 22 + b"\x09\x00" + b"\xff" * 2000,  # chains that point nowhere
    ],
    ids=["magic-only", "zeros", "garbage", "broken-chains"],
)
def test_damaged_compound_files_are_named_not_crashed(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "rapport.xlsx"
    path.write_bytes(data)
    check = inspect_file(path)
    assert check.kind in {"ole2", "encrypted", "xls"} and not check.readable
    assert check.issues and "xlsx" in check.issues[0].message


def test_encrypted_found_by_stream_name_in_a_real_compound_file(tmp_path: Path) -> None:
    path = corpus.encrypted(tmp_path)
    names = kinds._ole2_stream_names(path.read_bytes())
    assert {"EncryptionInfo", "EncryptedPackage"} <= names


def test_missing_file_is_a_finding_not_an_exception(tmp_path: Path) -> None:
    check = inspect_file(tmp_path / "finns-inte.xlsx")
    assert check.kind == "unreadable" and not check.readable and check.issues[0].is_error


# --- hostile files: refused within about a second, without large memory ------------------------------


@pytest.mark.parametrize("case", REFUSED_CHEAPLY, ids=lambda c: c.name)
def test_refused_quickly_without_large_memory(tmp_path: Path, spec: FormSpec, case: corpus.Case, capsys) -> None:
    path = case.build(tmp_path)
    tracemalloc.start()
    try:
        started = time.perf_counter()
        results = [read_report(path, spec, source=source) for source in ("fast", "openpyxl")]
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all(r.report is None and r.errors for r in results)
    with capsys.disabled():
        print(f"\n  {case.name}: refused in {elapsed * 1000:.0f} ms (both sources), peak {peak / MB:.1f} MB traced")
    assert peak < 100 * MB


def test_hostile_files_do_not_grow_the_process(tmp_path: Path) -> None:
    """Real process memory (not only Python's): read every hostile file in a fresh interpreter
    and compare its peak resident size with the peak after reading one valid report."""
    paths = []
    for case in REFUSED_CHEAPLY:
        folder = tmp_path / case.name
        folder.mkdir()
        paths.append(str(case.build(folder)))
    valid = str(corpus.filled(tmp_path / REFUSED_CHEAPLY[0].name, name="giltig.xlsx"))
    script = (
        "import json, resource, sys\n"
        "from lagesrapport_xl.reader.read import read_report\n"
        "valid, paths = sys.argv[1], json.loads(sys.argv[2])\n"
        "for source in ('fast', 'openpyxl'): assert read_report(valid, source=source).ok\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "refused = sum(read_report(p, source=s).report is None for p in paths for s in ('fast', 'openpyxl'))\n"
        "print(json.dumps({'base_kb': base, 'peak_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " 'refused': refused}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, valid, json.dumps(paths)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["refused"] == 2 * len(paths)
    growth = (figures["peak_kb"] - figures["base_kb"]) / 1024
    print(f"peak resident growth over {len(paths)} hostile files: {growth:.1f} MB")
    assert growth < 100


def test_quick_scan_agrees_with_the_parser(tmp_path: Path, libreoffice) -> None:
    """The regex scan is only a shortcut: on real sheets it finds exactly what expat finds."""
    filled = corpus.filled(tmp_path, {"activities": "x" * 32_767})
    (saved,) = libreoffice.convert(filled, "xlsx", tmp_path / "lo")
    compared = 0
    for path in (filled, saved, tmp_path / "_mall.xlsx"):
        for name, data in corpus.parts(path).items():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            parsed = extent.ParsedExtent(DEFAULT_LIMITS)
            for start in range(0, len(data), 4096):  # expat in small chunks: many borders
                parsed.feed(data[start : start + 4096])
            parsed.feed(b"", final=True)
            scanned = sheet_scan.scan_sheet(data)
            assert scanned is not None and (scanned.rows, scanned.cols) == (parsed.max_row, parsed.max_col) != (0, 0), name
            compared += 1
    assert compared >= 9


_SHEET = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
          b'spreadsheetml/2006/main" xmlns:x="urn:x"><sheetData>%s</sheetData>%s</worksheet>')
_ODD_SHEETS = {  # sheet data, what follows it; each puts a cell at row 20000 in a way the regexes must not miss
    "second r": (b'<row r="1"><c r="A1" r="A20000"/></row>', b""),
    "prefixed r": (b'<row r="1"><c r="A1" x:r="A20000"/></row>', b""),
    "r not first": (b'<row r="1"><c s="1" r="A20000"/></row>', b""),
    "no r, counted": (b'<row r="19999"><c r="A19999"/></row><row><c/></row>', b""),
    "prefixed cell": (b'<row r="1"><x:c r="A20000"/></row>', b""),
    "cell after sheetData": (b'<row r="1"><c r="A1"/></row>', b'<c r="A20000"/>'),
    "comment": (b'<row r="1"><!-- > --><c r="A20000"/></row>', b""),
    "newline in tag": (b'<row r="1"><c\nr="A20000"/></row>', b""),
}


@pytest.mark.parametrize("case", list(_ODD_SHEETS))
def test_odd_sheet_xml_is_measured_by_the_parser(case: str) -> None:
    """What the regexes cannot vouch for goes to expat, and the far cell is found either way."""
    data = _SHEET % _ODD_SHEETS[case]
    problem = safety.sheet_extent(data, Limits(max_sheet_rows=19_999))  # row 19 999 passes, 20 000 not
    assert problem == (20000, 1) or (isinstance(problem, Issue) and problem.severity is Severity.ERROR), case
    assert sheet_scan.scan_sheet(data) is None  # the quick scan declines: expat measured it above


_ATTRIBUTES = {"s": ['"3"', "'4'"], "t": ['"s"', '"n"', '"inlineStr"', '"e"'], "x:r": ['"B7"'],
               "spans": ['"1:4"'], "ht": ['"15"']}
_CELL_CONTENT = ["", "", "<v>1</v>", "<v>1</v>", "<v>2.5</v>", "<f>A1+1</f><v>2</v>",
                 "<is><t>a&amp;b</t></is>", "<v>x</v><!-- c -->", "<v><![CDATA[1]]></v>"]  # the last two: odd


@st.composite
def _sheet_xml(draw: st.DrawFn) -> bytes:
    """Well-formed sheet XML as writers make it, and as they never do: r first, later or missing,
    prefixed cells and attributes, either quotes, line breaks in tags, comments, CDATA, a cell
    after <sheetData>. Mostly the former, so that the scan has something to agree on."""
    odd = draw(st.integers(0, 9)) == 0  # one sheet in ten: any oddity; the others: none
    rows = []
    for number in sorted(draw(st.sets(st.integers(1, 1_048_576), max_size=5))):
        cells = []
        for column in sorted(draw(st.sets(st.integers(0, 16_383), max_size=4))):
            names = draw(st.lists(st.sampled_from(sorted(_ATTRIBUTES) if odd else ["ht", "s", "spans", "t"]),
                                  unique=True, max_size=2))
            attributes = [f" {name}={draw(st.sampled_from(_ATTRIBUTES[name]))}" for name in names]
            address = f' r="{col_letter(column)}{number}"' if not odd or draw(st.booleans()) else ""
            at = draw(st.integers(0, len(attributes))) if odd else 0
            tag = draw(st.sampled_from(["c", "x:c"])) if odd else "c"
            space = draw(st.sampled_from([" ", "\n"])) if odd else " "
            address = address.replace(" ", space, 1)
            opened = f"<{tag}{''.join(attributes[:at])}{address}{''.join(attributes[at:])}"
            content = draw(st.sampled_from(_CELL_CONTENT if odd else _CELL_CONTENT[:-2]))
            cells.append(f"{opened}>{content}</{tag}>" if content else f"{opened}/>")
        row = f' r="{number}"' if not odd or draw(st.booleans()) else ""
        extra = draw(st.sampled_from(["", " spans='1:2'"]))
        rows.append(f"<row{row}{extra}>{''.join(cells)}</row>")
    after = draw(st.sampled_from(["", '<c r="Z99"/>'])) if odd else ""
    return _SHEET % ("".join(rows).encode(), after.encode())


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(_sheet_xml())
def test_quick_scan_declines_or_agrees_with_the_parser(data: bytes) -> None:
    """Whatever well-formed sheet XML comes, the regular expressions either decline (then expat
    measures) or find the very cells a parser finds: the same farthest cell, the same addresses."""
    unlimited = Limits(max_sheet_rows=2**31, max_sheet_columns=2**31, max_sheet_cells=2**62)
    parsed = extent.ParsedExtent(unlimited)
    assume(not isinstance(parsed.feed(data, final=True), Issue))  # not XML: no extent to compare
    scanned = sheet_scan.scan_sheet(data)
    if scanned is None:
        return
    assert (scanned.rows, scanned.cols) == (parsed.max_row, parsed.max_col)
    found = []  # every <row> and <c>, prefixed ones too: some readers ignore namespaces
    for element in ElementTree.fromstring(data).iter():
        name = local_name(element.tag)
        if name in ("row", "c"):
            found.append((name, element.get("r") if name == "c" else None))
    assert found == [("c", (tag[0] + tag[1]).decode()) if tag[0] else ("row", None) for tag in scanned.tags]


# --- the parts inflated straight from the archive's bytes ------------------------------------------


def _inflate_all(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: b"".join(safety_archive._inflated(data, info)) for info in archive.infolist()}


def _zipfile_all(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_parts_inflate_as_zipfile_reads_them(tmp_path: Path, libreoffice) -> None:
    """Real files (XlsxWriter's, LibreOffice's with its data descriptors) and zip64, stored and
    empty entries: every part byte for byte what zipfile reads."""
    filled = corpus.filled(tmp_path, {"activities": "x" * 600_000})  # a part of several chunks
    (saved,) = libreoffice.convert(filled, "xlsx", tmp_path / "lo")
    odd = io.BytesIO()
    with zipfile.ZipFile(odd, "w") as archive:
        archive.writestr("stored.xml", b"<a/>" * 1000, zipfile.ZIP_STORED)
        archive.writestr("empty.xml", b"", zipfile.ZIP_DEFLATED)
        archive.writestr("empty-stored.bin", b"", zipfile.ZIP_STORED)
        with archive.open(zipfile.ZipInfo("zip64.xml"), "w", force_zip64=True) as entry:
            entry.write(b"<b>" + b"y" * 300_000 + b"</b>")
    for data in (filled.read_bytes(), saved.read_bytes(), odd.getvalue()):
        assert _inflate_all(data) == _zipfile_all(data)
    assert any(info.flag_bits & 0x08 for info in zipfile.ZipFile(saved).infolist())  # data descriptors met


def _damaged(how: str) -> bytes:
    """A two-part workbook with one kind of damage in its second part, the sheet."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<worksheet><sheetData>" + b"<row/>" * 5000 + b"</sheetData></worksheet>")
    data = bytearray(buffer.getvalue())
    local = data.index(b"PK\x03\x04", 4)  # the sheet's local header
    central = data.rindex(b"PK\x01\x02")  # the sheet's directory entry (the last one)
    if how == "crc":
        data[central + 16] ^= 0xFF
        data[local + 14] ^= 0xFF
    elif how == "size smaller":
        struct_at = central + 24
        data[struct_at : struct_at + 4] = (100).to_bytes(4, "little")
    elif how == "size larger":
        struct_at = central + 24
        data[struct_at : struct_at + 4] = (10**6).to_bytes(4, "little")
    elif how == "stream cut":
        start = local + 30 + 5
        data[start + 20 : start + 40] = b"\x00" * 20  # inside the deflate stream
    elif how == "name":
        data[local + 30] = ord("c")  # the local header says c.xml
    elif how == "offset":
        data[central + 42 : central + 46] = (3).to_bytes(4, "little")  # points into a.xml's header
    return bytes(data)


@pytest.mark.parametrize("how", ["crc", "size smaller", "size larger", "stream cut", "name", "offset"])
def test_a_damaged_part_is_refused_where_zipfile_refuses_it(how: str) -> None:
    """Each damage is refused exactly where zipfile refuses it, and read alike where it does not
    (a directory that promises more bytes than the part has, with the right CRC)."""
    data = _damaged(how)
    try:
        expected: dict[str, bytes] | None = _zipfile_all(data)
    except (zipfile.BadZipFile, zlib.error, EOFError):
        expected = None
    if expected is None:
        with pytest.raises((zipfile.BadZipFile, zlib.error)):
            _inflate_all(data)
        assert safety_archive.inspect_zip(data, DEFAULT_LIMITS).kind == "truncated"
    else:
        assert how == "size larger" and _inflate_all(data) == expected


@pytest.mark.parametrize(
    "data",
    [b"", b"!", b"<!", b"<?xml?><a>Hej!</a><!-- ! --><?pi?>", b"a" * 100 + b"<!" * 300 + b"!" * 500,
     b"<?" + b"?" * 1000 + b"<?", b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>"],
)
def test_markup_is_counted_as_bytes_count_counts_it(data: bytes) -> None:
    """The memchr shortcut and its fallback for data full of marks give what bytes.count gives."""
    assert sheet_scan.markup_counts(data) == (data.count(b"<!"), data.count(b"<?"))
