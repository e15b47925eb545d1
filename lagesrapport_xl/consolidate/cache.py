"""The parsed-report cache: a report's bytes are read and checked once, ever.

`consolidate` hashes every file on each run and reads only the files whose content it has not seen;
the web intake stores each upload's result as it receives it, so RAR's page and the master button
open no file the intake has checked already.

An entry is keyed by the file's SHA-256 *and* the reading context: a fingerprint of the form
specification (form.toml with RAR's --config merged in), of the source code of every layer that
reads and checks (common/, form/, reader/) and of the libraries that parse (python-calamine,
openpyxl, pydantic), and the version of the entries' format (cache_codec.CODEC). Any change to one
of those makes the old entries unused, never wrong. What an
entry holds is what `read_one` returns for the content alone; the path, size and modification time
are the file's own and are filled in on every run.

The cache is a convenience, never a source of truth: a file that is corrupt, locked, from another
schema or not SQLite at all is ignored with one line of warning, and the run reads every file as it
would without a cache. Entries are a line of keys, a line of JSON and the long texts after them
(cache_codec.py; no pickle: a cache file someone swapped must not run code).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ..common.issues import Issue, Severity
from ..form.spec import FormSpec
from ..reader.result import ReadResult
from ..reader.safety import DEFAULT_LIMITS, Limits
from .cache_codec import CODEC, Cached, full_issue, issue_payload, pack, unpack
from .hashing import Fresh, Hashed, Known, Stamp, hashed

__all__ = ["Cached", "Known", "ReportCache", "decode", "decode_facts", "encode", "facts_of", "reading_context"]

SCHEMA = 2  # 2: the facts column
DEFAULT_SUFFIX = ".lagesrapport-cache.sqlite"  # inkorg/ → inkorg.lagesrapport-cache.sqlite beside it
_LAYERS = ("common", "form", "reader")
_LIBRARIES = ("python-calamine", "openpyxl", "pydantic", "defusedxml")
STALE_AFTER = dt.timedelta(days=30)  # entries of another context (an older program, another --config)
# An entry (26 kB in the benchmark) is a chain of pages SQLite reads one by one: with 16 kB pages
# instead of 4 kB, a warm run's lookups of 6 400 entries take 0.33 → 0.22 s. (A memory map did as
# well, but its pages count as the process's memory: 55 MB more at 6 400, up to 256 MB at 32 000.)
_PAGE = 16384
_BATCH = 500  # keys per SELECT … IN (…): well below SQLite's limit of bound parameters
_FIRST_LOOKED_UP, _LOOKED_UP = 100, _BATCH  # files per batch of recall (the first is looked up sooner)
_MEMO_FROM = 50  # files: fewer are hashed without loading the memo of stats (a page's one upload)

Warn = Callable[[str], None]


@cache
def _code_fingerprint() -> str:
    """Every source file of the layers that read and check, and the parsing libraries' versions."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for layer in _LAYERS:
        for path in sorted((package / layer).rglob("*")):
            if path.suffix in (".py", ".toml") and path.is_file():
                digest.update(str(path.relative_to(package)).encode())
                digest.update(path.read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=none".encode())
    return digest.hexdigest()


def reading_context(spec: FormSpec, limits: Limits | None = None) -> str:
    """The key half that is not the file: the form specification, the safety limits, the reading code
    and the entries' format."""
    text = f"{spec.fingerprint}:{limits or DEFAULT_LIMITS!r}:{_code_fingerprint()}:codec {CODEC}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def encode(result: ReadResult, answers: dict[str, Any] | None) -> bytes:
    """What the content decides (cache_codec.py): issues, values, unread, form version, skipped, answers."""
    if result.report is not None:
        raise ValueError("cache a result without its model (read_one's form)")
    return pack(result, [issue_payload(i) for i in result.issues], result.values, result.unread, answers)


def decode(payload: bytes, *, file: str, sha256: str, size: int | None, modified: dt.datetime | None) -> Cached:
    """The cached content's result, with this file's own path, size and time."""
    return unpack(payload, full_issue, file=file, sha256=sha256, size=size, modified=modified)


# --- facts: the little that RAR's page needs of a file -------------------------------------------------

# Who the file is from and for which period, and what decides its status and the batch's comparison
# with the report before it (statuses.decide_statuses, compare_with_earlier): the carried cumulative
# amounts. Everything else of a report stays in its payload.
FACT_KEYS = ("case_number", "initiative_name", "report_number", "period_start", "period_end", "signed_date")


def facts_of(result: ReadResult, answers: dict[str, Any] | None, spec: FormSpec) -> bytes:
    """The page's part of a result: identity, period, carried amounts, and each issue's kind only."""
    keys = (*FACT_KEYS, *spec.carried)
    kept = None if answers is None else {k: answers.get(k) for k in keys if k in answers}
    return pack(
        result,
        [[i.severity.value, i.code, i.field] for i in result.issues],
        {k: result.values[k] for k in FACT_KEYS if k in result.values},
        set(result.unread) & set(FACT_KEYS),
        kept,
    )


def _light_issue(data: list[Any]) -> Issue:
    severity, code, field = data
    return Issue(Severity(severity), "", code, field=field)


def decode_facts(payload: bytes, *, file: str, sha256: str, size: int | None, modified: dt.datetime | None) -> Cached:
    """A light result: the statuses and the register's states come out as from the full one; the
    issues have their kind but no message (RAR's page counts them, the master shows them)."""
    return unpack(payload, _light_issue, file=file, sha256=sha256, size=size, modified=modified)


def _batches(count: int, digests: Iterator[Hashed], fresh: list[Fresh]) -> Iterator[dict[str, list[Any]]]:
    """The files' digests a batch at a time: which indexes have which digest, with their size and
    time. The batches follow the digests' order, which is the cache's own: neighbouring entries
    share SQLite's pages, while entries in the files' order each cost their pages again (6 400
    entries: 807 MB read from the file instead of 169 MB, 0.28 s instead of 0.16 s). The first
    batch is small, so that its lookup is done soon. The memo rows of the files hashed go to `fresh`."""
    by_sha: dict[str, list[Any]] = {}
    for index in range(count):
        sha, size_of_file, modified, row = next(digests)
        if row is not None:
            fresh.append(row)
        if sha:
            by_sha.setdefault(sha, []).append((index, size_of_file, modified))
    ordered = sorted(by_sha)
    start, size = 0, _FIRST_LOOKED_UP
    while start < len(ordered):
        yield {sha: by_sha[sha] for sha in ordered[start : start + size]}
        start, size = start + size, _LOOKED_UP


# --- the store ------------------------------------------------------------------------------------------


class ReportCache:
    """Results by (content, reading context) in SQLite. Every failure turns the cache off, with one
    warning through `warn`, and the caller reads the files instead."""

    def __init__(self, path: str | Path, spec: FormSpec, *, limits: Limits | None = None, warn: Warn | None = None):
        self.path = Path(path)
        self.spec = spec
        self.context = reading_context(spec, limits)
        self._lock = threading.Lock()  # one connection, shared by the web server's threads
        self._warn = warn or (lambda message: None)
        self._db: sqlite3.Connection | None = None
        self._stamps: dict[tuple[int, int], Stamp] | None = None  # the memo of stats, once read (_kept_memo)
        self.hits = 0
        self.misses = 0
        try:
            self._db = self._open()
        except (sqlite3.Error, OSError, ValueError) as exc:
            self._disable(exc)

    @property
    def usable(self) -> bool:
        return self._db is not None

    @property
    def files(self) -> list[Path]:
        """The cache's own files (SQLite's journal beside it): never read as reports."""
        return [self.path, *(self.path.with_name(self.path.name + end) for end in ("-wal", "-shm", "-journal"))]

    @staticmethod
    def beside(folder: str | Path) -> Path:
        """The default place for a folder's cache: a file beside it, named after it."""
        folder = Path(folder).resolve()
        return folder.with_name(folder.name + DEFAULT_SUFFIX)

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=2.0, isolation_level=None, check_same_thread=False)
        try:
            db.execute(f"PRAGMA page_size={_PAGE}")  # a new file's (an existing one keeps its own)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
            elif row[0] != str(SCHEMA):
                raise ValueError(f"schema {row[0]}, this program uses {SCHEMA}")
            db.execute(
                "CREATE TABLE IF NOT EXISTS reports (sha256 TEXT NOT NULL, context TEXT NOT NULL, "
                "payload TEXT NOT NULL, facts TEXT NOT NULL, stored TEXT NOT NULL, "
                "PRIMARY KEY (sha256, context)) WITHOUT ROWID"
            )
            # the memo of stats (hashing.py): a table an older program of the same schema never reads
            db.execute(
                "CREATE TABLE IF NOT EXISTS stats (dev INTEGER NOT NULL, inode INTEGER NOT NULL, "
                "size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, "
                "sha256 TEXT NOT NULL, stored TEXT NOT NULL, PRIMARY KEY (dev, inode)) WITHOUT ROWID"
            )
        except BaseException:
            db.close()
            raise
        return db

    def _disable(self, exc: BaseException) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None
        self._warn(
            f"Varning: cachen {self.path} används inte ({exc}); alla filer läses. "
            "Ta bort filen eller ange en annan med --cache om det händer varje gång."
        )

    def lookup(self, digests: Iterable[str], *, column: str = "payload") -> dict[str, bytes]:
        """The stored payload (or facts) of every digest this context has seen; the others are not
        in the answer."""
        if column not in ("payload", "facts"):
            raise ValueError(column)
        wanted = sorted({d for d in digests if d})
        found: dict[str, bytes] = {}
        for start in range(0, len(wanted), _BATCH):  # the lock a batch at a time: the web intake's
            part = wanted[start : start + _BATCH]    # uploads keep their results meanwhile (issue 21)
            with self._lock:
                if self._db is None:
                    return found
                try:
                    found.update(self._select(part, column))
                except (sqlite3.Error, ValueError) as exc:
                    self._disable(exc)
                    return {}
        return found

    def _select(self, digests: Sequence[str], column: str) -> Iterator[tuple[str, bytes]]:
        """The entries of `digests` in one row of one SELECT: SQLite concatenates them in C with
        Python's lock let go, so a thread looks up the next batch while the caller decodes (a row
        per entry would wait for the lock, up to 5 ms, at every row)."""
        assert self._db is not None
        marks = ",".join("?" * len(digests))
        shas, sizes, joined = self._db.execute(
            f"SELECT group_concat(sha256, ','), group_concat(length(CAST({column} AS BLOB)), ','), "
            f"CAST(group_concat({column}, '') AS BLOB) FROM reports WHERE context = ? AND sha256 IN ({marks})",
            (self.context, *digests),
        ).fetchone()
        if shas is None:
            return iter(())
        shas, sizes = shas.split(","), [int(size) for size in sizes.split(",")]
        if len(shas) != len(sizes) or sum(sizes) != len(joined):
            raise ValueError("the cache's entries do not add up")
        ends = list(itertools.accumulate(sizes))
        return zip(shas, map(joined.__getitem__, map(slice, [0, *ends[:-1]], ends)))

    def memo(self) -> dict[tuple[int, int], Stamp]:
        """The stats of files hashed before (hashing.py), by (device, inode)."""
        with self._lock:
            if self._db is None:
                return {}
            try:
                rows = self._db.execute("SELECT dev, inode, size, mtime_ns, ctime_ns, sha256 FROM stats").fetchall()
            except sqlite3.Error as exc:
                self._disable(exc)
                return {}
        return {(dev, inode): Stamp(*stamp) for dev, inode, *stamp in rows}

    def _kept_memo(self) -> dict[tuple[int, int], Stamp]:
        """The memo, read once per cache opened: a batch read in slices (batch.SLICE_FILES) would
        read it again for every slice. A stamp another process kept meanwhile only costs a hash."""
        if self._stamps is None:
            self._stamps = self.memo()
        return self._stamps

    def remember(self, fresh: Sequence[Fresh]) -> None:
        """Keep the stats of files just hashed; a cache that cannot be written keeps none (the files
        are hashed again next time)."""
        if not fresh:
            return
        stamp = dt.datetime.now().isoformat(timespec="seconds")
        with self._lock:
            if self._db is None:
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT OR REPLACE INTO stats VALUES (?, ?, ?, ?, ?, ?, ?)",
                                     [(*row, stamp) for row in fresh])
                self._db.execute("COMMIT")
            except sqlite3.Error:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass

    def store(self, entries: Iterable[tuple[str, ReadResult, dict[str, Any] | None]]) -> int:
        """Keep each (digest, result, answers); a result of a file that could not be hashed is left out.
        Each entry is encoded as SQLite takes it, so a large batch never sits in memory as JSON."""
        now = dt.datetime.now()
        stamp = now.isoformat(timespec="seconds")
        stale = (now - STALE_AFTER).isoformat(timespec="seconds")
        kept = 0

        def rows() -> Iterator[tuple[str, str, str, str, str]]:
            nonlocal kept
            for sha, result, answers in entries:
                if not sha:
                    continue
                try:
                    row = (sha, self.context, encode(result, answers), facts_of(result, answers, self.spec), stamp)
                except (TypeError, ValueError):
                    continue  # a value the codec does not know: that file is simply read again next time
                kept += 1
                yield row

        with self._lock:
            if self._db is None:
                return 0
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT OR REPLACE INTO reports VALUES (?, ?, ?, ?, ?)", rows())
                self._purge(now.date().isoformat(), stale)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                self._disable(exc)
                return 0
        return kept

    def _purge(self, today: str, stale: str) -> None:
        """Entries of other contexts older than STALE_AFTER removed, once a day: the DELETE reads
        every entry (0.08 s for 6 400, at each upload and each run)."""
        assert self._db is not None
        if self._db.execute("SELECT value FROM meta WHERE key = 'purged'").fetchone() == (today,):
            return
        self._db.execute("DELETE FROM reports WHERE context != ? AND stored < ?", (self.context, stale))
        self._db.execute("DELETE FROM stats WHERE stored < ?", (stale,))  # mostly files gone since
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('purged', ?)", (today,))

    def recall(
        self, paths: Sequence[str], known: Mapping[str, Known] | None = None, *, column: str = "payload"
    ) -> tuple[list[Cached | None], list[int]]:
        """Every file hashed (but those `known` or in the memo of stats); the results of the contents
        seen before, and the indexes of the rest. `column="facts"` recalls only what RAR's page needs
        (see facts_of). Entries are fetched and decoded a batch at a time: their JSON never sits in
        memory at once. Many files are hashed by another process meanwhile (hashing.hashed), and a
        thread looks up the next batch while this one decodes (_select lets go of Python's lock)."""
        parse = decode if column == "payload" else decode_facts
        results: list[Cached | None] = [None] * len(paths)
        memo = self._kept_memo() if len(paths) >= _MEMO_FROM else None
        fresh: list[Fresh] = []
        with hashed(paths, known, memo) as digests, ThreadPoolExecutor(1, "cache-lookup") as looking:
            ahead = None
            # Every file is hashed before the first lookup (the list), so the hashing process has
            # ended before decoding grows this one: taken lazily, a warm run of 6 400 + 1 peaked at
            # 526 MB instead of 341 MB, in no less time. None: the last batch's turn.
            for by_sha in [*_batches(len(paths), digests, fresh), None]:
                coming = None if by_sha is None else (by_sha, looking.submit(self.lookup, by_sha, column=column))
                if ahead is not None:
                    wanted, found = ahead[0], ahead[1].result()
                    for sha, payload in found.items():
                        for index, size, modified in wanted[sha]:
                            try:
                                results[index] = parse(payload, file=paths[index], sha256=sha, size=size,
                                                       modified=modified)
                            except (ValueError, KeyError, TypeError, IndexError):  # does not decode: read afresh
                                pass
                ahead = coming
        if memo is not None:
            self.remember(fresh)
            memo.update(((dev, inode), Stamp(*stamp)) for dev, inode, *stamp in fresh)
        missing = [index for index, result in enumerate(results) if result is None]
        self.hits += len(paths) - len(missing)
        self.misses += len(missing)
        return results, missing

    def keep(self, results: Iterable[Cached]) -> int:
        """Store freshly read results, but never a crash's (a process that ran out of memory)."""
        return self.store(
            (result.sha256, result, answers) for result, answers in results
            if result.sha256 and not any(issue.code == "internal_error" for issue in result.issues)
        )

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> ReportCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[str]:  # the digests of this context, for tests and statistics
        if self._db is None:
            return iter(())
        return iter([row[0] for row in self._db.execute("SELECT sha256 FROM reports WHERE context = ?",
                                                         (self.context,))])
