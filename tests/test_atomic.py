"""Outputs appear whole or not at all, with the permissions of an ordinary new file."""

from __future__ import annotations

import os

import pytest

from lagesrapport_xl.common.atomic import atomic_path
from lagesrapport_xl.template.writer import write_template


def test_a_failure_halfway_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "ut.xlsx"
    target.write_bytes(b"tidigare")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"halv")
        raise RuntimeError("avbrott")
    assert target.read_bytes() == b"tidigare"
    assert [p.name for p in tmp_path.iterdir()] == ["ut.xlsx"]


def test_outputs_get_the_permissions_of_a_new_file_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_template(tmp_path / "undermapp" / "mall.xlsx")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
