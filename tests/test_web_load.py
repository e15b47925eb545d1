"""A bounded load test: 200 uploads from 8 concurrent clients against a real server on 127.0.0.1.

Every upload must be accounted for (web/loadtest.py: a receipt each, one log row each with the
sent bytes' SHA-256, every report in the inbox exactly once with its SHA-256, nothing else, RAR's
page counting the same). The throughput is printed for the issue note, never asserted.
"""

from __future__ import annotations

from pathlib import Path

from lagesrapport_dev.loadtest import run, run_large_inbox


def test_200_uploads_from_8_clients_are_all_accounted_for(tmp_path: Path, capsys) -> None:
    result, status, lines = run(count=200, clients=8, distinct=40, folder=tmp_path)
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert result.complete, result.problems
    assert result.sent == result.log_rows == status["uploads"]["uploads"] == 200
    assert sum(result.statuses.values()) == 200 and set(result.statuses) == {200, 201, 422}
    assert result.statuses[201] == result.inbox_files == result.distinct_reports == 37  # 40 files, 3 refused
    assert status["uploads"]["refused"] == result.statuses[422] and status["files"]["found"] == 37
    assert status["uploads"]["stored"] == 37 and status["uploads"]["duplicates"] == result.statuses[200]


def test_uploads_while_rar_presses_the_master_button_are_all_accounted_for(tmp_path: Path, capsys) -> None:
    """scripts/loadtest --inkorg, small: RAR's clients (in processes of their own) load the page and
    press the master button while the uploads go on; every upload is answered and logged, a master
    is written, and RAR's page, the log and the inbox agree afterwards."""
    lines, problems = run_large_inbox(60, 24, 4, 12, tmp_path / "korning", prefilled=tmp_path / "forifyllt")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert problems == []
    during = next(line for line in lines if line.startswith("RAR under tiden"))
    assert " 0 sammanställningar" not in during and "sidvisningar (inga)" not in during
    assert lines[-1] == "Alla uppladdningar är redovisade."
