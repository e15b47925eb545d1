"""The parsed-report cache (consolidate/cache.py): each file is read once, ever, and never trusted blindly.

Real files throughout: the demo set and generated reports, consolidated cold and warm, with the
master written both ways and compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from lagesrapport_dev.examples import bulk_files, demo_files, write_examples
from lagesrapport_dev.fill import fill_workbook
from lagesrapport_xl.consolidate import consolidate
from lagesrapport_xl.common.digest import file_digest
from lagesrapport_xl.common.issues import Issue, Severity
from lagesrapport_xl.consolidate import cache as cache_module
from lagesrapport_xl.consolidate import cache_codec, hashing
from lagesrapport_xl.consolidate.cache import ReportCache, decode, encode, reading_context
from lagesrapport_xl.consolidate.cache_codec import LONG
from lagesrapport_xl.consolidate.parallel import read_one
from lagesrapport_xl.form.spec import FormSpec, load_spec
from lagesrapport_xl.reader.result import ReadResult
from lagesrapport_xl.master import write_master

STARTED = dt.datetime(2026, 6, 30, 12, 0)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cache") / "inkorg"
    write_examples(folder, demo_files() + bulk_files(24))
    return folder


def _master(inbox: Path, target: Path, **kwargs) -> bytes:
    consolidation = consolidate(inbox, started=STARTED, **kwargs)
    write_master(consolidation, target)
    return target.read_bytes()


def _copy(inbox: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "inkorg"
    shutil.copytree(inbox, copy)
    return copy


def test_the_master_from_a_warm_cache_is_byte_identical_to_a_cold_run(inbox: Path, tmp_path: Path) -> None:
    files = _copy(inbox, tmp_path)
    spec = load_spec()
    plain = _master(files, tmp_path / "utan.xlsx", workers=2)
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        cold = _master(files, tmp_path / "kall.xlsx", workers=2, cache=cache)
        assert (cache.hits, cache.misses) == (0, len(list(files.iterdir())))
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        warm = _master(files, tmp_path / "varm.xlsx", workers=2, cache=cache)
        assert (cache.hits, cache.misses) == (len(list(files.iterdir())), 0)
    assert cold == plain
    assert warm == plain


def test_every_result_survives_the_cache_exactly(inbox: Path) -> None:
    """Issues, values of files with errors, answers with dates, decimals and texts: equal after a round trip."""
    spec = load_spec()
    for path in sorted(inbox.iterdir()):
        result, answers = read_one(str(path), spec)
        again = decode(encode(result, answers), file=result.file, sha256=result.sha256, size=result.size,
                       modified=result.modified)
        assert again == (result, answers), path.name


def test_the_codec_keeps_every_kind_of_value_its_order_and_every_character() -> None:
    """Long texts after the JSON line (line breaks, a lone surrogate, text that looks like JSON or
    like the codec's own tags), every kind of value, nested ones, and the keys' order."""
    long = "Rad ett\nrad två – åäö 🙂 \ud800 {\"$n\": \"1\"} \\ \"citat\"" * 5
    answers = {
        "z_last_first": long, "plain": "kort", "exactly": "x" * LONG, "below": "y" * (LONG - 1),
        "amount": Decimal("1234.50"), "float": 0.1, "nan": float("nan"), "day": dt.date(2026, 6, 30),
        "moment": dt.datetime(2026, 6, 30, 12, 1, 2), "clock": dt.time(8, 30), "none": None, "yes": True,
        "count": 7, "empty": "", "pair": (1, "två", Decimal("3")), "rows": [{"$n": "inte ett tal", "text": long}],
        "$d": "en nyckel som liknar en tagg",
    }
    values = {"case_number": long, "report_number": Decimal("2")}
    result = ReadResult(file="x.xlsx", issues=[Issue(Severity.ERROR, "fel", "bad", value=(1, long))], values=values,
                        unread=frozenset({"report_number"}), form_version="1.0")
    again, got = decode(encode(result, answers), file="y.xlsx", sha256="s", size=3, modified=None)
    assert list(got) == list(answers)
    assert repr(got) == repr(answers)  # nan != nan: compared as text, with every type
    assert again.values == values and list(again.values) == list(values) and again.issues == result.issues
    assert (again.file, again.sha256, again.size, again.unread) == ("y.xlsx", "s", 3, result.unread)


def test_an_entry_in_the_old_format_or_damaged_is_never_trusted(inbox: Path, tmp_path: Path) -> None:
    """Entries an older codec wrote have another reading context; one that is there anyway, or a
    damaged one (cut short, bytes added), is read afresh and the master is the same."""
    files = _copy(inbox, tmp_path)
    spec = load_spec()
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        consolidate(files, workers=1, cache=cache)
        old = cache.context
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache_module, "CODEC", cache_codec.CODEC - 1)
        assert reading_context(spec) != old
    facit = _master(files, tmp_path / "facit.xlsx", workers=1)
    old_json = '{"issues":[],"values":{"$map":{}},"unread":[],"form_version":"1.0","skipped":false,"answers":null}'
    for damage in ("old-json", "cut", "added"):
        with sqlite3.connect(tmp_path / "cache.sqlite") as db:
            db.execute("DELETE FROM reports")
        with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
            consolidate(files, workers=1, cache=cache)
        with sqlite3.connect(tmp_path / "cache.sqlite") as db:
            if damage == "old-json":
                db.execute("UPDATE reports SET payload = ?", (old_json,))
            elif damage == "cut":
                db.execute("UPDATE reports SET payload = substr(payload, 1, length(payload) - 1)")
            else:
                db.execute("UPDATE reports SET payload = payload || x'41'")
        with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
            assert _master(files, tmp_path / "m.xlsx", workers=1, cache=cache) == facit, damage
            assert cache.hits == 0, damage


def test_a_file_whose_bytes_changed_is_read_again(inbox: Path, tmp_path: Path) -> None:
    files = _copy(inbox, tmp_path)
    spec = load_spec()
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        before = consolidate(files, workers=1, cache=cache)
    accepted = next(o for o in before.files if o.answers is not None)
    victim, name_before = files / accepted.name, accepted.answers["initiative_name"]
    fill_workbook(victim, victim, {"initiative_name": "Ett helt nytt namn"})
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        after = consolidate(files, workers=1, cache=cache)
        assert cache.misses == 1
    outcome = next(o for o in after.files if o.name == victim.name)
    assert outcome.answers["initiative_name"] == "Ett helt nytt namn" != name_before
    assert next(o for o in consolidate(files, workers=1).files if o.name == victim.name).answers == outcome.answers


def test_a_copy_under_another_name_is_known_but_keeps_its_own_name_and_time(inbox: Path, tmp_path: Path) -> None:
    spec = load_spec()
    source = sorted(inbox.glob("*.xlsx"))[0]
    first, second = tmp_path / "a" / "rapport.xlsx", tmp_path / "b" / "kopia.xlsx"
    for target in (first, second):
        target.parent.mkdir()
        shutil.copy(source, target)
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        consolidate(first.parent, workers=1, cache=cache)
        copy = consolidate(second.parent, workers=1, cache=cache)
        assert cache.hits == 1
    result = copy.files[0].result
    assert result.file == str(second)
    assert result.modified == dt.datetime.fromtimestamp(second.stat().st_mtime)


def test_another_form_specification_uses_none_of_the_old_entries(inbox: Path, tmp_path: Path) -> None:
    files = _copy(inbox, tmp_path)
    config = tmp_path / "rar.toml"
    config.write_text('[form]\nperiod_tolerance_days = 60\n', encoding="utf-8")
    other = load_spec(config)
    assert reading_context(other) != reading_context(load_spec())
    with ReportCache(tmp_path / "cache.sqlite", load_spec()) as cache:
        consolidate(files, workers=1, cache=cache)
    with ReportCache(tmp_path / "cache.sqlite", other) as cache:
        consolidate(files, spec=other, workers=1, cache=cache)
        assert cache.hits == 0


@pytest.mark.parametrize("damage", ["garbage", "empty-tables", "other-schema", "a-folder"])
def test_a_broken_cache_is_ignored_with_one_warning(inbox: Path, tmp_path: Path, damage: str) -> None:
    files = _copy(inbox, tmp_path)
    path = tmp_path / "cache.sqlite"
    if damage == "garbage":
        path.write_bytes("det här är ingen databas".encode() * 100)
    elif damage == "empty-tables":
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE reports (x)")
    elif damage == "other-schema":
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("INSERT INTO meta VALUES ('schema', '999')")
    else:
        path.mkdir()
    warnings: list[str] = []
    with ReportCache(path, load_spec(), warn=warnings.append) as cache:
        got = _master(files, tmp_path / "m.xlsx", workers=1, cache=cache)
    assert len(warnings) == 1 and "används inte" in warnings[0] and "alla filer läses" in warnings[0]
    assert got == _master(files, tmp_path / "facit.xlsx", workers=1)


def test_a_tampered_entry_is_read_afresh_not_trusted(inbox: Path, tmp_path: Path) -> None:
    files = _copy(inbox, tmp_path)
    spec = load_spec()
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        consolidate(files, workers=1, cache=cache)
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        db.execute("UPDATE reports SET payload = 'inte json'")
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        got = _master(files, tmp_path / "m.xlsx", workers=1, cache=cache)
        assert cache.hits == 0
    assert got == _master(files, tmp_path / "facit.xlsx", workers=1)


def test_a_locked_cache_costs_a_warning_not_the_run(inbox: Path, tmp_path: Path) -> None:
    files = _copy(inbox, tmp_path)
    path = tmp_path / "cache.sqlite"
    ReportCache(path, load_spec()).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program writes and does not let go
    try:
        warnings: list[str] = []
        with ReportCache(path, load_spec(), warn=warnings.append) as cache:
            got = _master(files, tmp_path / "m.xlsx", workers=1, cache=cache)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(warnings) == 1 and "används inte" in warnings[0]
    assert got == _master(files, tmp_path / "facit.xlsx", workers=1)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lagesrapport_xl", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_the_command_keeps_its_cache_beside_the_inbox_and_says_what_it_read(inbox: Path, tmp_path: Path) -> None:
    files = _copy(inbox, tmp_path)
    count = len(list(files.iterdir()))
    first = _cli("consolidate", "inkorg", "-o", "m.xlsx", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "inkorg.lagesrapport-cache.sqlite").is_file()
    assert f"Cache: 0 filer kända sedan tidigare, {count} lästa nu" in first.stdout
    second = _cli("consolidate", "inkorg", "-o", "m.xlsx", cwd=tmp_path)
    assert f"Cache: {count} filer kända sedan tidigare, 0 lästa nu" in second.stdout
    # the cache inside the folder it consolidates is not read as a report
    inside = _cli("consolidate", ".", "-o", "../m2.xlsx", "--cache", "cache.sqlite", cwd=files)
    again = _cli("consolidate", ".", "-o", "../m2.xlsx", "--cache", "cache.sqlite", cwd=files)
    assert inside.returncode == again.returncode == 0, inside.stderr
    assert f"{count} filer kända sedan tidigare" in again.stdout and "cache.sqlite" not in again.stderr


def test_no_cache_writes_no_cache(inbox: Path, tmp_path: Path) -> None:
    _copy(inbox, tmp_path)
    answer = _cli("consolidate", "inkorg", "-o", "m.xlsx", "--no-cache", cwd=tmp_path)
    assert answer.returncode == 0, answer.stderr
    assert not list(tmp_path.glob("*.sqlite*")) and "Cache:" not in answer.stdout


def test_a_cache_that_cannot_be_written_is_reported_and_the_master_still_written(inbox: Path, tmp_path: Path) -> None:
    _copy(inbox, tmp_path)
    (tmp_path / "inte-en-mapp").write_text("en fil", encoding="utf-8")
    answer = _cli("consolidate", "inkorg", "-o", "m.xlsx", "--cache", "inte-en-mapp/cache.sqlite", cwd=tmp_path)
    assert answer.returncode == 0, answer.stderr
    assert answer.stderr.count("används inte") == 1 and (tmp_path / "m.xlsx").is_file()


def test_the_spec_fingerprint_follows_the_form_data(tmp_path: Path) -> None:
    base: FormSpec = load_spec()
    assert base.fingerprint == load_spec().fingerprint and len(base.fingerprint) == 64
    config = tmp_path / "rar.toml"
    config.write_text('[form]\ntitle = "Lägesrapport till RAR"\n', encoding="utf-8")
    assert load_spec(config).fingerprint != base.fingerprint


def test_many_files_are_hashed_by_another_process_to_the_same_results(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's files are hashed by a forked process while this one decodes (hashing.hashed): the
    same results as hashed here, also when that process dies half-way (the rest is hashed here)."""
    paths = [str(path) for path in sorted(inbox.iterdir())]
    spec = load_spec()
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        consolidate(inbox, workers=1, cache=cache)
        here = cache.recall(paths)
        monkeypatch.setattr(hashing, "_FORKED_FROM", 2)
        monkeypatch.setattr(hashing, "_SENT", 5)
        forked = cache.recall(paths)
        real_digest = hashing.digest

        def dies_after_ten(path: str, known, memo) -> tuple:
            if paths.index(path) == 10 and multiprocessing.parent_process() is not None:
                os._exit(3)
            return real_digest(path, known, memo)

        monkeypatch.setattr(hashing, "digest", dies_after_ten)
        died = cache.recall(paths)
    assert here[1] == forked[1] == died[1] == []
    assert here[0] == forked[0] == died[0]


def test_the_entries_are_looked_up_in_the_order_of_their_digests(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recall looks the entries up a batch at a time in the order of their digests, the cache's own
    order (in the files' order SQLite read each entry's pages again: 807 MB instead of 169 MB for
    6 400), the first batch small; each file, a copy included, still gets its own result."""
    paths = [str(path) for path in sorted(inbox.iterdir())]
    paths = [*reversed(paths), paths[0]]  # not in the digests' order, and one file twice
    spec = load_spec()
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        consolidate(inbox, workers=1, cache=cache)
        whole = cache.recall(paths)
        asked: list[list[str]] = []
        lookup = cache.lookup

        def recorded(digests, **kwargs):  # noqa: ANN001, ANN003
            asked.append(list(digests))
            return lookup(digests, **kwargs)

        monkeypatch.setattr(cache, "lookup", recorded)
        monkeypatch.setattr(cache_module, "_FIRST_LOOKED_UP", 3)
        monkeypatch.setattr(cache_module, "_LOOKED_UP", 4)
        batched = cache.recall(paths)
    digests = sorted({file_digest(Path(path))[0] for path in paths})
    assert [sha for batch in asked for sha in batch] == digests
    assert len(asked[0]) == 3 and all(len(batch) <= 4 for batch in asked) and len(asked) > 2
    assert batched == whole and whole[1] == []
    assert [result.file for result, _answers in batched[0]] == paths


def test_entries_of_another_context_go_after_thirty_days_looked_for_once_a_day(inbox: Path, tmp_path: Path) -> None:
    spec = load_spec()
    path = tmp_path / "cache.sqlite"
    with ReportCache(path, spec) as cache:
        consolidate(inbox, workers=1, cache=cache)
    old = (dt.datetime.now() - cache_module.STALE_AFTER - dt.timedelta(days=1)).isoformat(timespec="seconds")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE reports SET context = 'ett äldre program', stored = ?", (old,))
        kept = db.execute("SELECT count(*) FROM reports").fetchone()[0]
    db.close()
    with ReportCache(path, spec) as cache:  # looked for today already (the first run): the old ones stay
        consolidate(inbox, workers=1, cache=cache)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM reports WHERE context = 'ett äldre program'").fetchone()[0] == kept
        db.execute("UPDATE meta SET value = '2000-01-01' WHERE key = 'purged'")  # the last look: long ago
    db.close()
    with ReportCache(path, spec) as cache:
        consolidate(inbox, workers=1, cache=cache)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM reports WHERE context = 'ett äldre program'").fetchone()[0] == 0
        assert db.execute("SELECT value FROM meta WHERE key = 'purged'").fetchone()[0] == dt.date.today().isoformat()
    db.close()


def test_a_new_cache_has_large_pages_and_an_old_one_keeps_its_own(inbox: Path, tmp_path: Path) -> None:
    """A new cache file gets cache._PAGE (an entry is a chain of fewer pages to read); one made
    with SQLite's default pages is used as it is."""
    with sqlite3.connect(tmp_path / "old.sqlite") as db:
        db.execute("CREATE TABLE unrelated (x)")
    db.close()
    paths = [str(path) for path in sorted(inbox.iterdir())]
    for name, size in (("cache.sqlite", cache_module._PAGE), ("old.sqlite", 4096)):
        with ReportCache(tmp_path / name, load_spec()) as cache:
            consolidate(inbox, workers=1, cache=cache)
            assert cache._db.execute("PRAGMA page_size").fetchone()[0] == size
            assert cache.recall(paths)[1] == []


# --- the memo of stats (hashing.py): a file whose stat is unchanged is not hashed again -------------


def _stamps_kept_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stamps of files just written are kept (a real run keeps only those RACY_NS old), and a batch
    of a few files uses the memo."""
    monkeypatch.setattr(hashing, "RACY_NS", -10**18)
    monkeypatch.setattr(cache_module, "_MEMO_FROM", 1)


def _counting_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    hashed: list[str] = []
    real = hashing.file_sha256

    def counting(path):
        hashed.append(str(path))
        return real(path)

    monkeypatch.setattr(hashing, "file_sha256", counting)
    return hashed


def test_a_warm_run_hashes_no_unchanged_file_and_writes_the_same_master(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _copy(inbox, tmp_path)
    linked = tmp_path / "länkar"  # the same files under other names (hard links: the same inodes, as
    linked.mkdir()                # the benchmark's inbox + 1; a new link changes the inode's ctime)
    for path in files.iterdir():
        os.link(path, linked / path.name)
    spec = load_spec()
    _stamps_kept_at_once(monkeypatch)
    plain = {folder: _master(folder, tmp_path / "utan.xlsx", workers=1) for folder in (files, linked)}
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        assert _master(files, tmp_path / "kall.xlsx", workers=1, cache=cache) == plain[files]
    hashed = _counting_hashes(monkeypatch)
    for folder in (files, linked):
        with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
            assert _master(folder, tmp_path / "varm.xlsx", workers=1, cache=cache) == plain[folder]
            assert (cache.hits, cache.misses) == (len(list(files.iterdir())), 0)
    assert hashed == []


def test_a_file_rewritten_under_its_old_size_and_time_is_hashed_and_read_again(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ctime, which no program sets back, tells the rewrite; a `touch` alone costs a hash, not a read."""
    files = _copy(inbox, tmp_path)
    spec = load_spec()
    _stamps_kept_at_once(monkeypatch)
    paths = [str(path) for path in sorted(files.iterdir())]
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        consolidate(files, workers=1, cache=cache)
    time.sleep(0.05)  # past the clock's tick of the files' writing
    victim, touched = Path(paths[3]), Path(paths[5])
    before = victim.stat()
    data = bytearray(victim.read_bytes())
    data[-30] ^= 0x20  # another byte, the same size
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (victim.stat().st_size, victim.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    os.utime(touched)
    hashed = _counting_hashes(monkeypatch)
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:
        results, missing = cache.recall(paths)
    assert sorted(hashed) == sorted([str(victim), str(touched)])
    assert missing == [3]
    assert results[5] is not None and results[5][0].sha256 == file_digest(touched)[0]
    with ReportCache(tmp_path / "cache.sqlite", spec) as cache:  # the new stamps are kept: no hash next time
        hashed.clear()
        assert cache.recall(paths)[1] == [3]  # the new content is still to be read (consolidate stores it)
    assert hashed == []


def test_a_stamp_younger_than_the_clocks_margin_is_not_kept(inbox: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A file written just now could be written again within the same tick of the clock, its times
    unchanged: its stamp is not kept, so it is hashed again (git's racily clean entries)."""
    files = _copy(inbox, tmp_path)
    monkeypatch.setattr(cache_module, "_MEMO_FROM", 1)
    with ReportCache(tmp_path / "cache.sqlite", load_spec()) as cache:
        consolidate(files, workers=1, cache=cache)
        assert cache.memo() == {}
        monkeypatch.setattr(hashing, "RACY_NS", -10**18)
        consolidate(files, workers=1, cache=cache)
        memo = cache.memo()
    assert len(memo) == len(list(files.iterdir()))
    for path in files.iterdir():
        stat = path.stat()
        assert memo[stat.st_dev, stat.st_ino] == (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns,
                                                  file_digest(path)[0])


def test_a_cache_without_the_memo_table_gets_it_and_older_stamps_go_after_thirty_days(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _copy(inbox, tmp_path)
    path = tmp_path / "cache.sqlite"
    with ReportCache(path, load_spec()) as cache:
        consolidate(files, workers=1, cache=cache)
    with sqlite3.connect(path) as db:  # as the previous program left it
        db.execute("DROP TABLE stats")
    db.close()
    _stamps_kept_at_once(monkeypatch)
    with ReportCache(path, load_spec()) as cache:
        consolidate(files, workers=1, cache=cache)
        assert cache.hits == len(list(files.iterdir())) and len(cache.memo()) == cache.hits
    old = (dt.datetime.now() - cache_module.STALE_AFTER - dt.timedelta(days=1)).isoformat(timespec="seconds")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE stats SET stored = ?", (old,))
        db.execute("UPDATE meta SET value = '2000-01-01' WHERE key = 'purged'")
    db.close()
    hashed = _counting_hashes(monkeypatch)
    with ReportCache(path, load_spec()) as cache:
        consolidate(files, workers=1, cache=cache)  # uses the old stamps, then purges them
        assert hashed == []
    with ReportCache(path, load_spec()) as cache:
        consolidate(files, workers=1, cache=cache)  # hashes every file once and keeps new stamps
        assert len(hashed) == len(list(files.iterdir())) == len(cache.memo())


def test_the_memo_is_read_once_per_cache_opened(inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    """A batch read in slices recalls once per slice: the memo is not read again for each."""
    files = _copy(inbox, tmp_path)
    _stamps_kept_at_once(monkeypatch)
    with ReportCache(tmp_path / "cache.sqlite", load_spec()) as cache:
        reads = []
        real = cache.memo
        monkeypatch.setattr(cache, "memo", lambda: reads.append(1) or real())
        hashed = _counting_hashes(monkeypatch)
        consolidate(files, workers=1, cache=cache)
        assert len(hashed) == len(list(files.iterdir()))
        consolidate(files, workers=1, cache=cache, spool=True)
        assert len(hashed) == len(list(files.iterdir())) and reads == [1]
