"""`lagesrapport consolidate`: outputs, the summary, the progress bar, exit codes."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import sha256
from openpyxl import load_workbook

from lagesrapport_dev.examples import demo_files, write_examples
from lagesrapport_xl.cli import main
from lagesrapport_xl.cli.consolidate_cmd import ProgressBar, parse_tolerance
from lagesrapport_xl.form.spec import FormSpec


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec) -> Path:
    folder = tmp_path_factory.mktemp("inkorg")
    write_examples(folder, demo_files(spec), spec)
    (folder / "~$Nyttiga_affarer_rapport_1.xlsx").write_bytes(b"\x0bAnna" + b" " * 60)
    return folder


def test_consolidate_writes_master_csv_json_and_a_summary(inbox: Path, tmp_path: Path, capsys) -> None:
    before = {p.name: sha256(p) for p in inbox.iterdir()}
    out = tmp_path / "ut" / "sammanstallning.xlsx"
    code = main(["consolidate", str(inbox), "-o", str(out), "--csv", str(tmp_path / "csv"),
                 "--json", str(tmp_path / "tabeller.json"), "--tolerance", "20%"])
    captured = capsys.readouterr()
    assert code == 0
    assert load_workbook(out).sheetnames[0] == "Översikt"
    assert len(list((tmp_path / "csv").glob("*.csv"))) == 14
    assert json.loads((tmp_path / "tabeller.json").read_text(encoding="utf-8"))["tolerance"] == pytest.approx(0.2)
    summary = captured.out
    assert f"Sammanställningen är skriven: {out}" in summary
    for line in ("Filer som hittades          16", "Godkända                    11", "Godkända med varningar       2",
                 "Ersatta (dubbletter)         1", "Avvisade                     1", "Överhoppade (låsfiler)       1"):
        assert line in summary, summary
    assert "Halsa_och_arbete_Eskilstuna_rapport_3.xlsx: Fel" in summary
    assert captured.err == ""  # not a terminal: no progress bar
    assert {p.name: sha256(p) for p in inbox.iterdir()} == before


def test_progress_bar_on_a_terminal(inbox: Path, tmp_path: Path, monkeypatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["consolidate", str(inbox), "-o", str(tmp_path / "m.xlsx"), "--workers", "1"]) == 0
    assert "Läser filer [" in terminal.getvalue() and "16/16" in terminal.getvalue()


def test_progress_bar_draws_and_finishes() -> None:
    terminal = Terminal()
    bar = ProgressBar(terminal, width=10)
    bar(0, 4)
    bar(4, 4)
    assert terminal.getvalue().endswith("\rLäser filer [##########] 4/4\n")
    silent = io.StringIO()
    ProgressBar(silent)(4, 4)
    assert silent.getvalue() == ""


def test_master_inside_the_inbox_is_not_read_back(tmp_path: Path, spec: FormSpec, capsys) -> None:
    inbox = tmp_path / "inkorg"
    write_examples(inbox, demo_files(spec)[:3], spec)
    for _ in range(2):
        assert main(["consolidate", str(inbox), "-o", str(inbox / "sammanstallning.xlsx")]) == 0
    found = [line.split()[-1] for line in capsys.readouterr().out.splitlines() if "Filer som hittades" in line]
    assert found == ["3", "3"]  # the second run did not read the first run's master


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-o", "{tmp}/m.xlsx", "{tmp}/finns-inte"], 2, "Hittar inte"),
        (["{inbox}"], 2, "Ange sammanställningens filnamn"),
        (["{inbox}", "-o", "{tmp}/m.xlsx", "--tolerance", "ca 15"], 2, "Toleransen"),
        (["{empty}", "-o", "{tmp}/m.xlsx"], 1, "Inga filer hittades"),
        (["{inbox}", "-o", "{tmp}/fil.txt/m.xlsx"], 1, "Kunde inte skriva"),
        (["{inbox}", "-o", "{tmp}/m.xlsx", "--config", "{tmp}/saknas.toml"], 2, "Fel i konfigurationen"),
    ],
)
def test_exit_codes(args, code, message, inbox: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "tom").mkdir()
    (tmp_path / "fil.txt").write_text("x", encoding="utf-8")
    filled = [a.format(tmp=tmp_path, inbox=inbox, empty=tmp_path / "tom") for a in args]
    assert main(["consolidate", *filled]) == code
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m.xlsx").exists()


@pytest.mark.parametrize(("text", "value"), [("0.15", 0.15), ("0,2", 0.2), ("15%", 0.15), ("15", 0.15), ("0", 0.0)])
def test_parse_tolerance(text: str, value: float) -> None:
    assert parse_tolerance(text) == pytest.approx(value)


def test_console_script_exit_code(inbox: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("lagesrapport")
    done = subprocess.run([str(script), "consolidate", str(inbox), "-o", str(tmp_path / "m.xlsx"), "-q"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    assert (tmp_path / "m.xlsx").exists()


def test_the_collector_is_paused_from_the_first_file_to_the_masters_last_byte(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading and the master pause the cyclic collector themselves; between them (the cache's
    closing, the lap) it scanned the whole consolidation. The command is one batch, and the
    collector runs again after it."""
    import gc

    from lagesrapport_xl.consolidate import batch
    from lagesrapport_xl.master import writer

    seen = []
    real_consolidate, real_write = batch.consolidate, writer.write_master

    def consolidate(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        done = real_consolidate(*args, **kwargs)
        seen.append(("läst", gc.isenabled()))
        return done

    def write_master(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen.append(("skriver", gc.isenabled()))
        return real_write(*args, **kwargs)

    monkeypatch.setattr(batch, "consolidate", consolidate)
    monkeypatch.setattr(writer, "write_master", write_master)
    assert gc.isenabled()
    assert main(["consolidate", str(inbox), "-o", str(tmp_path / "m.xlsx"), "-q"]) == 0
    assert seen == [("läst", False), ("skriver", False)]
    assert gc.isenabled() and (tmp_path / "m.xlsx").exists()


def test_the_cache_closes_while_the_tables_are_built_and_before_the_master(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Closing the cache writes its last pages to the disk; that goes on in a thread while the
    tables are built, and is done before the master is written (whose helper may be a fork, which
    wants no other thread): the next run finds every file there."""
    import threading

    from lagesrapport_xl.consolidate.cache import ReportCache
    from lagesrapport_xl.master import writer

    closed, real_close, real_write = [], ReportCache.close, writer.write_master

    def close(self):  # noqa: ANN001, ANN202
        real_close(self)
        closed.append((threading.current_thread() is threading.main_thread(), self._db is None))

    def write_master(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        closed.append(("master", threading.active_count()))
        return real_write(*args, **kwargs)

    monkeypatch.setattr(ReportCache, "close", close)
    monkeypatch.setattr(writer, "write_master", write_master)
    cache = tmp_path / "cache.sqlite"
    for run in ("första", "andra"):
        assert main(["consolidate", str(inbox), "-o", str(tmp_path / f"{run}.xlsx"), "--cache", str(cache)]) == 0
        assert closed == [(False, True), ("master", 1)]  # once, in a thread, done before the master
        closed.clear()
    assert re.search(r"Cache: [1-9]\d* filer kända sedan tidigare, 0 lästa nu", capsys.readouterr().out)


def test_a_large_masters_helper_starts_while_the_tables_are_built_and_never_lingers(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """For a master with a fresh helper process, the command starts it once the files are read; the
    master uses it, and when no master is written it is ended before the command returns."""
    from lagesrapport_xl.master import split, writer

    monkeypatch.setattr(split, "FORK_CELLS", 0)
    monkeypatch.setattr(writer, "CELLS_PER_REPORT", split.MIN_CELLS)  # the demo inbox as a large one
    started, real_start = [], split._start_command

    def start():  # noqa: ANN202
        started.append(real_start())
        return started[-1]

    monkeypatch.setattr(split, "_start_command", start)
    assert main(["consolidate", str(inbox), "-o", str(tmp_path / "m.xlsx"), "-q"]) == 0
    assert len(started) == 1 and not split._AHEAD and started[0][0].wait(5) == 0

    def cannot_write(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer, "write_master", cannot_write)
    assert main(["consolidate", str(inbox), "-o", str(tmp_path / "m2.xlsx"), "-q"]) == 1
    assert len(started) == 2 and not split._AHEAD and started[1][0].poll() == 0  # unused, and ended


def test_the_program_runs_main_and_leaves_its_objects_to_the_exit(inbox: Path, tmp_path: Path) -> None:
    """`lagesrapport` (and `python -m lagesrapport_xl`) is main() on the command line; what the run
    made is frozen for the interpreter's exit, so no last garbage collection walks through it."""
    out = tmp_path / "m.xlsx"
    code = (
        "import gc, sys; from lagesrapport_xl.cli import program;"
        f"sys.argv = ['lagesrapport', 'consolidate', {str(inbox)!r}, '-o', {str(out)!r}, '-q'];"
        "frozen = gc.get_freeze_count(); code = program(); print(code, frozen, gc.get_freeze_count() > 1000)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["0", "0", "True"] and out.exists()
    module = subprocess.run([sys.executable, "-m", "lagesrapport_xl", "--version"], capture_output=True, text=True)
    assert module.returncode == 0 and module.stdout.startswith("lagesrapport_xl ")
