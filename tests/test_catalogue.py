"""common/catalogue.py: every issue the reader makes is declared there, and the docs follow it.

The reader's issues (the examples, the rules and failures the bad-input corpus does not reach, and
the corpus itself: tests/test_corpus.py calls `assert_declared` on every case, which it reads
anyway) each carry a declared code at its declared severity, with a message one of the code's
templates renders; no module but the catalogue makes an `Issue`; no declared code is dead;
docs/reader.md's table lists every code with its severity and link, and each anchor is a heading
of the docs.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import string
from decimal import Decimal
from pathlib import Path

import corpus
import pytest

from lagesrapport_xl.common import catalogue
from lagesrapport_xl.common.catalogue import CATALOGUES, READER, Catalogue, Code
from lagesrapport_xl.common.issues import Issue, Severity
from lagesrapport_xl.form.previous import Previous
from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.reader.cells import WorkbookCells
from lagesrapport_xl.reader.check import check_cells
from lagesrapport_xl.reader.read import read_report
from lagesrapport_xl.reader.rules import Findings, check_previous, check_rules
from lagesrapport_xl.reader.safety.limits import READABLE_KINDS, kind_check

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lagesrapport_xl"
DOCS = ROOT / "docs"
EXAMPLES = sorted((ROOT / "workbook_templates" / "examples").glob("*.xlsx"))
# Layers that still make their issues inline, until their codes join the catalogue (issue 18).
# The web intake's own refusals (no file, too large, an expired form, storage failed) are the web
# layer's, listed in docs/web.md; the issue asks the catalogue of the reader, rules and consolidation.
NOT_YET_CATALOGUED = {"lagesrapport_xl/web/intake.py"}
# Rebuild the issues the reader made, as they were stored: no message of their own.
RESTORERS = {"lagesrapport_xl/consolidate/cache.py", "lagesrapport_xl/consolidate/cache_codec.py"}
SEVERITY_SV = {"fel": Severity.ERROR, "varning": Severity.WARNING}


def _pattern(template: str) -> str:
    """The template as a regular expression: its text literally, each placeholder as anything."""
    return "".join(re.escape(text) + ("(.*?)" if name is not None else "")
                   for text, name, _spec, _conversion in string.Formatter().parse(template))


def assert_declared(issues: list[Issue]) -> None:
    for issue in issues:
        assert issue.code in READER, f"{issue.code} is not in common/catalogue.py"
        code = READER[issue.code]
        assert issue.severity is code.severity, issue.code
        assert any(re.fullmatch(_pattern(t), issue.message, re.DOTALL) for t in code.templates.values()), (
            f"{issue.code}: {issue.message!r} is none of its templates"
        )


# --- every issue the reader makes is declared ------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_issue_of_the_examples_is_declared(path: Path, spec: FormSpec) -> None:
    assert_declared(read_report(path, spec).issues)


def test_rules_and_failures_the_corpus_does_not_reach_are_declared(tmp_path: Path, spec: FormSpec) -> None:
    findings = Findings(spec, {})
    values = dict.fromkeys(spec.fields)
    line = spec.budget.lines[0].key
    period, cumulative = spec.budget_key(line, "actual_period"), spec.budget_key(line, "actual_cumulative")
    values.update({period: Decimal(500), cumulative: Decimal(100), "report_number": 5,
                   "period_start": dt.date(2024, 1, 5)})
    check_rules(values, findings)
    earlier = Previous("forra.xlsx", 3, dt.date(2023, 12, 31), {cumulative: Decimal(900)}, None)
    check_previous(values, earlier, findings, rolled=True)
    for number in (4, 5, 6):  # the next report, a gap of one report, and of several
        check_previous({**values, "report_number": number}, earlier, findings, rolled=False)
    found = {issue.code for issue in findings.issues}
    assert {"cumulative_below_period", "cumulative_below_previous", "report_number_not_next",
            "report_number_gap", "period_not_after_previous"} <= found
    assert_declared(findings.issues)
    failures = [
        *read_report(tmp_path / "saknas.xlsx", spec).issues,
        *read_report(tmp_path, spec).issues,
        *check_cells(WorkbookCells(sheets=[], names={}, cells=None), spec).issues,  # type: ignore[arg-type]
    ]
    assert [issue.code for issue in failures] == ["file_unreadable", "unreadable", "internal_error"]
    assert_declared(failures)


@pytest.mark.parametrize("type_name", sorted({f.type.name for f in corpus.SPEC.fields.values()}))
def test_every_answer_type_has_its_parse_code(type_name: str) -> None:
    """check.py looks `invalid_<type>` up by the field type's name."""
    assert f"invalid_{type_name}" in READER


def _kind_rows() -> list[tuple[list[str], str]]:
    """(kinds, outcome) of each row of docs/safety.md's first table, 'The file kind, by content'."""
    text = (DOCS / "safety.md").read_text(encoding="utf-8").split("## The file kind, by content")[1]
    rows = []
    for line in text.split("\n\n")[1].splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append((re.findall(r"`([a-z_0-9]+)`", cells[1]), cells[2]))
    return rows


def test_every_kind_safety_md_names_has_its_declared_code() -> None:
    kinds = 0
    for names, outcome in _kind_rows():
        for kind in names:
            if kind in READABLE_KINDS:
                continue
            kinds += 1
            issues = kind_check(kind).issues
            assert_declared(issues)
            expected = Severity.WARNING if outcome.startswith("skipped") else Severity.ERROR
            assert [i.severity for i in issues] == [expected], kind
    assert kinds >= 18


# --- made only in the catalogue, and none dead -------------------------------------------------------


def _modules() -> list[tuple[str, ast.Module]]:
    return [(str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8")))
            for path in sorted(PACKAGE.rglob("*.py"))]


def test_no_issue_is_made_outside_the_catalogue() -> None:
    """`Issue(…)` appears in common/catalogue.py alone, so every message is one of its templates."""
    makers = set()
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if called == "Issue":
                    makers.add(name)
    assert makers - NOT_YET_CATALOGUED - RESTORERS == {"lagesrapport_xl/common/catalogue.py"}
    assert NOT_YET_CATALOGUED <= makers, "catalogued now: take it off NOT_YET_CATALOGUED"


def test_every_declared_code_is_used() -> None:
    """Each code the catalogue names is used by the package; the unnamed ones are looked up by
    the field type (invalid_<type>) or the file kind (docs/safety.md's table)."""
    named = {value: key for key, value in vars(catalogue).items() if isinstance(value, Code)}
    used: set[str] = set()
    for name, tree in _modules():
        if name == "lagesrapport_xl/common/catalogue.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.alias):
                used.add(node.name)
    kinds = {kind for names, _ in _kind_rows() for kind in names} | {"zip_no_workbook"}
    for code in READER.values():
        if code in named:
            assert named[code] in used, f"{named[code]} ({code.code}) is declared but never used"
        else:
            assert code.code.startswith("invalid_") or code.code in kinds, code.code


def test_a_code_is_declared_once_and_its_placeholders_are_its_own() -> None:
    layer = Catalogue("test")
    layer.add("one", Severity.ERROR, "Ett {what}.", "reader.md#filen-och-mallen")
    with pytest.raises(ValueError, match="twice"):
        layer.add("one", Severity.ERROR, "Ett till.", "reader.md#filen-och-mallen")
    with pytest.raises(ValueError, match="value"):
        layer.add("two", Severity.ERROR, "Värdet {value}.", "reader.md#filen-och-mallen")
    assert layer["one"].issue(5, cell="C9", what="fel") == Issue(Severity.ERROR, "Ett fel.", "one", cell="C9", value=5)


def test_a_code_of_two_layers_keeps_one_severity() -> None:
    severities: dict[str, set[Severity]] = {}
    for layer in CATALOGUES:
        for code in layer.values():
            severities.setdefault(code.code, set()).add(code.severity)
    assert {code: s for code, s in severities.items() if len(s) > 1} == {}


# --- the docs ------------------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: str) -> set[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return {_slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def test_every_anchor_is_a_heading_of_the_docs() -> None:
    for layer in CATALOGUES:
        for code in layer.values():
            page, _, anchor = code.anchor.partition("#")
            assert (DOCS / page).is_file(), f"{code.code}: no docs/{page}"
            assert anchor in _anchors(page), f"{code.code}: no heading #{anchor} in docs/{page}"


def test_reader_md_lists_every_code_with_its_severity_and_link() -> None:
    text = (DOCS / "reader.md").read_text(encoding="utf-8").split("## Alla kontroller och deras koder")[1]
    table = [line for line in text.split("\n---")[0].splitlines() if line.startswith("| `")]
    listed = {}
    for line in table:
        code, severity, _when, link = (cell.strip() for cell in line.strip("|").split("|"))
        target = re.fullmatch(r"\[[^\]]+\]\(([^)]+)\)", link).group(1)
        listed[code.strip("`")] = (SEVERITY_SV[severity], target if not target.startswith("#") else "reader.md" + target)
    assert len(listed) == len(table), "a code twice in the table"
    assert listed == {code.code: (code.severity, code.anchor) for layer in CATALOGUES for code in layer.values()}
