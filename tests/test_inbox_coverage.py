"""RAR's page without a register: the rows of the insatser found in the inbox, kept between builds
(consolidate/inbox_coverage.py), against the same rows worked out afresh.

The outcomes are a real consolidation's, of the demo reports and generated ones, and variants of
them that tie insatser together as coordinators do: a report without its case number (known by
its name), a name given to another insats' case number, a report without a report number. Each
step adds or removes one file and tells InboxCoverage only that file: it must find the files tied
to it itself.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lagesrapport_dev.examples import bulk_files, demo_files, write_examples
from lagesrapport_xl.consolidate.batch import consolidate
from lagesrapport_xl.consolidate.coverage import Coverage, PlacedFiles, outcome_identity
from lagesrapport_xl.consolidate.inbox_coverage import InboxCoverage, inbox_coverage, inbox_rows
from lagesrapport_xl.consolidate.statuses import FileOutcome
from lagesrapport_xl.form.spec import FormSpec


def _variant(outcome: FileOutcome, kind: int, other: FileOutcome) -> FileOutcome:
    if outcome.answers is None or kind == 0:
        return outcome
    answers = dict(outcome.answers)
    if kind == 1:
        answers["case_number"] = None  # known by its name only
    elif kind == 2:
        answers["initiative_name"] = (other.answers or {}).get("initiative_name")  # another insats' name
    else:
        answers["report_number"] = None  # fits any report of its insats
    return dataclasses.replace(outcome, name=f"{outcome.name}~{kind}", answers=answers)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec) -> list[FileOutcome]:
    folder = tmp_path_factory.mktemp("inkorg")
    write_examples(folder, demo_files(spec) + bulk_files(12), spec)
    (folder / "anteckningar.xlsx").write_text("inte en arbetsbok", encoding="utf-8")  # says nothing of its insats
    files = consolidate([folder], spec=spec, workers=1).files
    return [_variant(o, kind, files[(i * 7) % len(files)]) for i, o in enumerate(files) for kind in range(4)
            if kind == 0 or o.answers is not None]


def test_the_rows_are_one_per_insats_and_report_number(outcomes: list[FileOutcome]) -> None:
    plain = [o for o in outcomes if "~" not in o.name]
    rows = inbox_rows(plain)
    keys = [(r.prefill["case_number"], r.prefill["report_number"]) for r in rows]
    assert len(keys) == len(set(keys)) and [r.row for r in rows] == list(range(1, len(rows) + 1))
    report = inbox_coverage(plain)
    assert report.unmatched == ("anteckningar.xlsx",)
    assert {row.state for row in report.rows} <= {Coverage.RECEIVED, Coverage.REJECTED}  # every row has a file


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=10_000)), min_size=1, max_size=25),
       start=st.sets(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_each_update_equals_the_rows_worked_out_afresh(outcomes: list[FileOutcome], steps, start) -> None:
    order = {o.name: index for index, o in enumerate(outcomes)}
    present = {outcomes[i % len(outcomes)].name for i in start}
    kept = InboxCoverage()

    def check(changed: set[str] | None) -> None:
        current = {o.name: o for o in outcomes if o.name in present}
        report = kept.update(current, changed, order.__getitem__)
        fresh = inbox_coverage(list(current.values()))
        assert report == fresh
        placed = PlacedFiles(inbox_rows(current.values()))  # the row each file is in, as the page asks (row_of)
        assert {name: kept.row_of(name) for name in current} == {name: placed.place(name, o)
                                                                 for name, o in current.items()}

    check(None)
    for add, pick in steps:
        name = outcomes[pick % len(outcomes)].name
        if add:
            present.add(name)
        else:
            present.discard(name)
        check({name})
    assert kept.worked <= len(present)


def test_an_upload_works_out_only_its_insats_rows(outcomes: list[FileOutcome]) -> None:
    plain = {o.name: o for o in outcomes if "~" not in o.name}
    order = {name: index for index, name in enumerate(plain)}
    kept = InboxCoverage()
    kept.update(plain, None, order.__getitem__)
    one = next(o for o in plain.values() if o.answers is not None)
    case = outcome_identity(one).case_number  # rejected files of the insats too, by what could be read
    same_insats = [o for o in plain.values() if getattr(outcome_identity(o), "case_number", None) == case]
    kept.update(plain, {one.name}, order.__getitem__)
    assert kept.worked == len(same_insats) < len(plain) / 4
