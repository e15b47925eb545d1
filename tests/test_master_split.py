"""The master written with a helper process (master_split) is the master written by one process,
byte for byte, whatever the helper does."""

from __future__ import annotations

import os
import threading
import zipfile
from pathlib import Path

import pytest
from test_consolidate import STARTED

from lagesrapport_dev.examples import bulk_files, write_examples
from lagesrapport_xl.consolidate.batch import Consolidation, consolidate
from lagesrapport_xl.form.spec import FormSpec
from lagesrapport_xl.master import split as master_split
from lagesrapport_xl.master.placement import place_tables
from lagesrapport_xl.master.writer import _row_costs, write_master


def test_the_helper_can_fork_here() -> None:
    """The suite runs on Linux (CI installs LibreOffice with apt-get): the helper is tested there."""
    assert master_split.can_fork(), threading.enumerate()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec) -> Consolidation:
    folder = tmp_path_factory.mktemp("inkorg")
    write_examples(folder, bulk_files(40, spec, reports_per_insats=4), spec)
    return consolidate([folder], spec=spec, workers=1, started=STARTED)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_split_master_is_the_same_file(batch: Consolidation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = write_master(batch, tmp_path / "en.xlsx", helper=False)
    finished, real_finish = [], master_split.SplitRows.finish
    monkeypatch.setattr(master_split.SplitRows, "finish", lambda self: finished.append(self.broken) or real_finish(self))
    split = write_master(batch, tmp_path / "två.xlsx", helper=True)
    assert finished == [False]  # a helper wrote rows, and never failed
    assert parts(split.path) == parts(alone.path)
    assert split.formulas == alone.formulas and len(alone.formulas) > 500
    assert [p.name for p in tmp_path.iterdir()] == ["en.xlsx", "två.xlsx"]  # nothing of the helper's left


def test_half_the_rows_are_handed_and_charts_stay(batch: Consolidation) -> None:
    costs = _row_costs(place_tables(batch)[0])
    handed = master_split.handed_tables(costs, helper=True)
    stays = {key for key, _, must in costs if must}
    assert {"participants_latest", "budget_by_initiative", "about"} <= stays  # charts, and Om's own formats
    assert handed and not handed & stays
    total = sum(cost for _, cost, _ in costs)
    there = sum(cost for key, cost, _ in costs if key in handed)
    assert 0.3 * total < there <= master_split.HELPER_SHARE * total
    assert master_split.handed_tables(costs, helper=False) == frozenset()
    assert master_split.handed_tables(costs, helper=None) == frozenset()  # 40 reports: too small to gain
    large = [("a", master_split.MAX_CELLS // 2, False), ("b", master_split.MAX_CELLS // 2 + 1, False)]
    assert master_split.handed_tables(large, helper=None) == frozenset()  # would double a large batch's memory
    assert master_split.handed_tables(large, helper=True) == {"a"}


@pytest.mark.parametrize("failure", ["raises", "dies", "wrong table"])
def test_whatever_the_helper_does_the_file_is_whole(
    batch: Consolidation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """A helper that fails on its second table: this process writes that table and the rest."""
    real = master_split.HelperRows.write
    seen: list[str] = []

    def failing(self, writer, placement, heights, chart) -> None:
        if placement.table.key in self.handed:
            seen.append(placement.table.key)
        if len(seen) == 2:
            if failure == "raises":
                raise OSError("disken är full")
            if failure == "dies":
                os._exit(3)
            placement = type(placement)(batch.tables["history"], *list(placement.__dict__.values())[1:])
        real(self, writer, placement, heights, chart)

    monkeypatch.setattr(master_split.HelperRows, "write", failing)  # the fork inherits it
    finished, real_finish = [], master_split.SplitRows.finish
    monkeypatch.setattr(master_split.SplitRows, "finish", lambda self: finished.append(self.broken) or real_finish(self))
    alone = write_master(batch, tmp_path / "en.xlsx", helper=False)
    split = write_master(batch, tmp_path / "två.xlsx", helper=True)
    assert finished == [True]  # the helper was there, failed, and this process took over
    assert parts(split.path) == parts(alone.path)
    assert split.formulas == alone.formulas


def test_no_helper_where_fork_is_unsafe(batch: Consolidation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(master_split, "can_fork", lambda: False)
    costs = _row_costs(place_tables(batch)[0])
    assert master_split.handed_tables(costs, helper=True) == frozenset()
    assert isinstance(master_split.split_rows(costs, lambda rows: None, True), master_split.OwnRows)
