"""Who has reported: register rows against a consolidation of real files (coverage.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lagesrapport_dev.examples import demo_files, write_examples
from lagesrapport_xl.consolidate.batch import consolidate
from lagesrapport_xl.consolidate.coverage import Coverage, Identity, _Candidates, register_coverage
from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.reader.register import read_register

HEADINGS = "Diarienummer hos RAR;Insatsens namn;Lägesrapport nr;Tidsperiod som rapporten avser (till)"


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec) -> Path:
    folder = tmp_path_factory.mktemp("inkorg")
    write_examples(folder, demo_files(spec), spec)
    (folder / "anteckningar.xlsx").write_text("inte en arbetsbok", encoding="utf-8")  # belongs to nobody
    (folder / "~$Nyttiga_affarer_rapport_4.xlsx").write_bytes(b"\x00" * 165)  # a lock file: skipped
    return folder


def coverage_of(inbox: Path, tmp_path: Path, lines: list[str], spec: FormSpec):
    register = tmp_path / "register.csv"
    register.write_text("\n".join([HEADINGS, *lines]) + "\n", encoding="utf-8")
    rows, problems = read_register(register, spec)
    assert not [p for p in problems if p.severity.value == "error"], problems
    return register_coverage(consolidate([inbox], spec=spec, workers=1).files, rows)


def test_each_register_row_gets_its_state_and_its_files(inbox: Path, tmp_path: Path, spec: FormSpec) -> None:
    report = coverage_of(
        inbox,
        tmp_path,
        [
            "2021-0007;Steget vidare Katrineholm;2;",  # sent twice, corrected: one counts, one superseded
            "2022-0013;Hälsa och arbete Eskilstuna;3;",  # report 3 has errors
            "2020-0042;Nyttiga affärer;5;",  # report 5 never came
            " 2021 - 0021 ;UNGA VUXNA I FLEN;2;",  # spaces and case do not make another insats
            ";Samverkansforum Vingåker;;2023-02-28",  # no case number, no report number: by name and period
            "2025-0001;Ny insats;1;",  # nothing at all from it
        ],
        spec,
    )
    states = [(r.row, r.state) for r in report.rows]
    assert states == [
        (2, Coverage.RECEIVED),
        (3, Coverage.REJECTED),
        (4, Coverage.MISSING),
        (5, Coverage.RECEIVED),
        (6, Coverage.RECEIVED),
        (7, Coverage.MISSING),
    ]
    steget, halsa, nyttiga, unga, forum, new = report.rows
    assert steget.accepted == "Steget_vidare_Katrineholm_rapport_2_rattad.xlsx"
    assert steget.superseded == ("Steget_vidare_Katrineholm_rapport_2.xlsx",)
    assert steget.other_periods == (
        "Steget_vidare_Katrineholm_rapport_1.xlsx",
        "Steget_vidare_Katrineholm_rapport_3.xlsx",
    )
    assert halsa.rejected == ("Halsa_och_arbete_Eskilstuna_rapport_3.xlsx",) and halsa.accepted is None
    assert nyttiga.accepted is None and len(nyttiga.other_periods) == 4
    assert unga.accepted == "Unga_vuxna_i_Flen_rapport_2.xlsx"
    assert forum.accepted == "Samverkansforum_Vingaker_rapport_2.xlsx"
    assert new.accepted is None and new.other_periods == () and new.rejected == ()
    assert report.count(Coverage.MISSING) == 2 and report.count(Coverage.REJECTED) == 1
    assert [r.row for r in report.missing] == [3, 4, 7]
    # The unreadable file belongs to no insats; the lock file is not a report at all.
    assert report.unmatched == ("anteckningar.xlsx",)


def test_a_file_is_counted_once_even_when_two_rows_name_its_insats(
    inbox: Path, tmp_path: Path, spec: FormSpec
) -> None:
    report = coverage_of(
        inbox, tmp_path, ["2020-0042;Nyttiga affärer;3;", "2020-0042;Nyttiga affärer;4;"], spec
    )
    first, second = report.rows
    assert first.accepted == "Nyttiga_affarer_rapport_3.xlsx"
    assert second.accepted == "Nyttiga_affarer_rapport_4.xlsx"
    every = [f for r in report.rows for f in (r.accepted, *r.other_periods, *r.rejected, *r.superseded) if f]
    assert len(every) == len(set(every))  # no file listed under two rows


def test_a_case_number_in_the_register_wins_over_a_shared_name(
    inbox: Path, tmp_path: Path, spec: FormSpec
) -> None:
    """Another insats of the same name but another case number has not reported."""
    report = coverage_of(inbox, tmp_path, ["2099-0001;Nyttiga affärer;3;"], spec)
    assert report.rows[0].state is Coverage.MISSING
    assert "Nyttiga_affarer_rapport_3.xlsx" in report.unmatched


def test_a_rejected_file_that_names_its_insats_counts_as_sent(
    inbox: Path, tmp_path: Path, spec: FormSpec
) -> None:
    """A coordinator who sent only a broken file has sent something: 'Bara avvisade filer'."""
    folder = tmp_path / "bara_fel"
    folder.mkdir()
    shutil.copy(inbox / "Halsa_och_arbete_Eskilstuna_rapport_3.xlsx", folder)
    report = coverage_of(folder, tmp_path, ["2022-0013;Hälsa och arbete Eskilstuna;3;"], spec)
    assert report.rows[0].state is Coverage.REJECTED
    assert report.unmatched == ()


_few = st.sampled_from([None, "a", "b", "c"])
_identities = st.builds(Identity, case_number=_few, name=_few, report_number=st.none(), period_end=st.none())


@given(rows=st.lists(_identities, max_size=12), files=st.lists(_identities, max_size=12))
def test_the_lookup_finds_the_rows_same_insats_finds(rows: list[Identity], files: list[Identity]) -> None:
    """register_coverage looks rows up by case number and name instead of asking every row about
    every file; it must find the very rows Identity.same_insats accepts, in register order."""
    candidates = _Candidates(rows)
    for found in files:
        assert candidates.of(found) == [i for i, row in enumerate(rows) if row.same_insats(found)]
