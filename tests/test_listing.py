"""consolidate/listing.py: the inbox listed again and again gives find_input_files' answer, and
reads a folder again only when it changed."""

from __future__ import annotations

import os
from pathlib import Path

from lagesrapport_xl.consolidate.inputs import find_input_files
from lagesrapport_xl.consolidate.listing import Listing


def _same(listing: Listing, folder: Path, exclude: tuple[Path, ...] = (), *, thorough: bool = False) -> list[str]:
    found = listing.files(str(folder), [str(p) for p in exclude], thorough=thorough)
    assert found == find_input_files([str(folder)], exclude)
    return [f.name for f in found]


def test_the_listing_follows_the_folder_and_answers_as_find_input_files(tmp_path: Path) -> None:
    inbox = tmp_path / "inkorg"
    (inbox / "b").mkdir(parents=True)
    for name in ("2.xlsx", "1.xlsx", "b/3.xlsx", "~$lås.xlsx"):
        (inbox / name).write_bytes(b"x")
    listing = Listing()
    assert _same(listing, inbox) == ["1.xlsx", "2.xlsx", "~$lås.xlsx", os.path.join("b", "3.xlsx")]
    assert listing.relisted == 2
    assert _same(listing, inbox) and listing.relisted == 0  # nothing changed: no folder read
    (inbox / "0.xlsx").write_bytes(b"y")
    (inbox / "2.xlsx").unlink()
    assert _same(listing, inbox)[:2] == ["0.xlsx", "1.xlsx"] and listing.relisted == 1
    (inbox / "b" / "c").mkdir()
    (inbox / "b" / "c" / "4.xlsx").write_bytes(b"z")
    assert _same(listing, inbox)[-1] == os.path.join("b", "c", "4.xlsx")
    # our own outputs and files being stored are left out, in the folder and below it
    assert "1.xlsx" not in _same(listing, inbox, (inbox / "1.xlsx", inbox / "b" / "3.xlsx", tmp_path / "ut.xlsx"))
    # a link, or anything but files and folders: find_input_files' own rules
    os.symlink(inbox / "1.xlsx", inbox / "länk.xlsx")
    assert "länk.xlsx" not in _same(listing, inbox)  # a second path to the same file counts once
    (inbox / "länk.xlsx").unlink()
    os.mkfifo(inbox / "rör")
    assert "rör" not in _same(listing, inbox)
    (inbox / "rör").unlink()
    assert _same(listing, inbox, thorough=True) and listing.relisted == 3


def test_a_folder_that_is_gone_or_a_file_lists_as_find_input_files_does(tmp_path: Path) -> None:
    listing = Listing()
    (tmp_path / "a.xlsx").write_bytes(b"x")
    assert listing.files(str(tmp_path / "a.xlsx")) == find_input_files([str(tmp_path / "a.xlsx")])
    inbox = tmp_path / "inkorg"
    inbox.mkdir()
    (inbox / "r.xlsx").write_bytes(b"x")
    assert _same(listing, inbox) == ["r.xlsx"]
    (inbox / "r.xlsx").unlink()
    inbox.rmdir()
    inbox.mkdir()
    assert _same(listing, inbox) == []
