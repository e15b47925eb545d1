"""Every file's status and who has reported, from the cache's facts: RAR's page, without the tables.

The page needs of each file only who it is from, its period, its verdict and what the batch rules
compare (cache.facts_of); the full payload (every answer and message) is for the master. So a page
over thousands of reports decodes a few hundred bytes a file and opens no file the cache knows.
The statuses and the register's states come from the same functions as `consolidate`'s, on the
same files: the page and the Kontroll sheet agree (tests/test_web_cache.py).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..common.memory import batch_gc
from ..form.spec import FormSpec
from ..reader.safety import Limits
from .batch import decide
from .cache import Cached, Known, ReportCache
from .consolidation import Consolidation
from .coverage import CoverageReport, PlacedFiles
from .inbox_coverage import InboxCoverage
from .inputs import InputFile, find_input_files
from .listing import Listing
from .parallel import read_files
from .receipts import Receipts
from .statuses import Compared, Facts, FileOutcome, Status, facts_of, insats_texts

if TYPE_CHECKING:
    from ..reader.register import RegisterRow


STAT_SECONDS = 60  # how often a build stats every file (a file changed in place by hand shows within it)


@dataclass
class _Built:
    """What the last build decided, for the next one to start from."""

    inputs: tuple[str, ...]
    received: Mapping[str, dt.datetime] | None  # the receipts' times the statuses were decided by
    outcomes: dict[str, FileOutcome]  # path → its decided outcome, in the listing's order
    tally: Counter[Status]  # files by status
    register: Sequence[RegisterRow] | None
    placed: PlacedFiles | None  # each file's register row (with `register`)
    inbox: InboxCoverage | None  # the rows of the inbox's insatser (with `cover_inbox`)


class FileStates:
    """The page's consolidation, kept from one build to the next, at the cost of what changed.

    A file whose path, size and modification time are unchanged keeps the facts recalled before; a
    new or changed file is recalled (hashed) or read. Between builds that stat every file (every
    STAT_SECONDS, and the first) only new paths are stat'ed: the intake adds files by renaming
    them into the inbox, never by writing in place. The statuses are decided again only for the
    files an upload can change: those of the same insatser, by case number or name, as the files
    that came, went, changed or were received again (statuses.decide_statuses decides within
    them), and only their register rows are worked out again. A build after one upload then does
    work for one insats, whatever the size of the inbox; the answer is the full build's
    (tests/test_web_cache.py). One instance per inbox; not thread-safe (the web layer builds
    one page at a time)."""

    def __init__(self, spec: FormSpec, cache: ReportCache, *, tolerance: float, limits: Limits | None = None):
        self.spec, self.cache, self.tolerance, self.limits = spec, cache, tolerance, limits
        self._seen: dict[str, tuple[tuple[int, int], Cached, Facts]] = {}  # path → ((size, mtime_ns), …)
        self._compared: Compared = {}  # compare_with_earlier's findings, by pair of contents
        self._listing = Listing()
        self._built: _Built | None = None
        self._stat_all_at = -math.inf
        self._unseen: dict[str, tuple[Cached, Facts]] = {}  # this build's files that could not be stat'ed
        self._left: list[tuple[str, str]] = []  # keys of the files changed or gone (_unindex)
        self._keys: dict[str, tuple[str | None, str | None, str | None]] = {}  # path → (case, name, sha256)
        self._by_key: dict[tuple[str, str], set[str]] = {}  # ("dnr"/"namn"/"sha", text) → paths
        self.recalled = 0  # files recalled or read by the last build (tests, the benchmark)
        self.redecided = 0  # files whose statuses the last build decided again (tests)
        self.counts: dict[str, int] = {}  # the last build's Consolidation.counts

    def build(
        self,
        inputs: Sequence[str | Path],
        *,
        known: Mapping[str, Known] | Callable[[Sequence[str]], Mapping[str, Known]] | None = None,
        exclude: Iterable[str | Path] = (),
        register: Sequence[RegisterRow] | None = None,
        receipts: Receipts | None = None,
        leave_out: Callable[[str], bool] | None = None,
        cover_inbox: bool = False,
    ) -> Consolidation:
        """The consolidation's files with their statuses (and, with `register`, its coverage; with
        `cover_inbox` and no register, the coverage of the insatser found in the inbox), but no
        tables; files the cache has not seen are read in this process and kept in it. `known` may
        be a function that gives the log's word for the paths it is given: only the files that
        are new or changed since the last build are asked for. `leave_out(name)`: a file the
        caller leaves out of this build (one being stored, whose log row is on its way), asked of
        the files not in the last build only: those are the ones it can be."""
        with batch_gc():
            return self._build(tuple(str(i) for i in inputs), known, exclude, register, receipts, leave_out,
                               cover_inbox)

    def _build(
        self,
        inputs: tuple[str, ...],
        known: Mapping[str, Known] | Callable[[Sequence[str]], Mapping[str, Known]] | None,
        exclude: Iterable[str | Path],
        register: Sequence[RegisterRow] | None,
        receipts: Receipts | None,
        leave_out: Callable[[str], bool] | None = None,
        cover_inbox: bool = False,
    ) -> Consolidation:
        now = time.monotonic()
        stat_all = now - self._stat_all_at >= STAT_SECONDS
        built = self._built
        received = receipts.received if receipts is not None else None
        if built is not None and (built.inputs != inputs or (built.received is None) != (received is None)):
            built = None  # another batch: decided afresh
        if built is None:
            stat_all = True
        if stat_all:
            self._stat_all_at = now
        skip = [*exclude, *self.cache.files]
        files = (self._listing.files(inputs[0], skip, thorough=stat_all) if len(inputs) == 1
                 else find_input_files(inputs, skip))
        if leave_out is not None:
            before = built.outcomes if built is not None else {}
            out = {f.location for f in files if f.location not in before and leave_out(f.name)}
            if out:
                files = [f for f in files if f.location not in out]
        paths = [f.location for f in files]
        changed = self._recall(paths, known, stat_all)
        outcomes, affected = self._decide(files, paths, changed, built, receipts)
        tally = self._tally(outcomes, affected, changed, built)
        counts = {"found": len(outcomes), **{status.name.lower(): tally[status] for status in Status}}
        placed, inbox, coverage = None, None, None
        if register is not None:
            placed, coverage = self._cover(register, outcomes, affected, changed, built, paths)
        elif cover_inbox:
            inbox = built.inbox if built is not None and built.inbox is not None else InboxCoverage()
            fresh = affected is None or built is None or built.inbox is None
            coverage = inbox.update(outcomes, None if fresh else affected | changed,  # type: ignore[operator]
                                    dict(zip(paths, range(len(paths)))).__getitem__)
        self._built = _Built(inputs, dict(received) if received is not None else None, outcomes, tally,
                             register, placed, inbox)
        self.counts = counts
        consolidation = Consolidation(
            spec=self.spec, tolerance=self.tolerance, inputs=inputs, started=dt.datetime.now(),
            files=list(outcomes.values()), receipts=receipts,
        )
        consolidation.coverage = coverage
        return consolidation

    def row_of(self, path: str) -> int | None:
        """The index of the row (of the register, or of the inbox's insatser) the last build put a file in."""
        built = self._built
        if built is not None and built.inbox is not None:
            return built.inbox.row_of(path)
        placed = built.placed if built is not None else None
        found = placed.where.get(path) if placed is not None else None
        return found[0] if found is not None else None

    def _recall(self, paths: list[str], known: Any, stat_all: bool) -> set[str]:
        """Stat the files (all, or the new ones), recall the new and changed ones from the cache (or
        read them); the paths that are new, changed or gone since the last build."""
        seen = self._seen
        todo: list[str] = []
        fresh_stats: dict[str, tuple[int, int]] = {}
        for path in (paths if stat_all else [p for p in paths if p not in seen]):
            try:
                stat = os.stat(path)
            except OSError:
                todo.append(path)
                continue
            fresh_stats[path] = (stat.st_size, stat.st_mtime_ns)
            kept = seen.get(path)
            if kept is None or kept[0] != fresh_stats[path]:
                todo.append(path)
        gone = seen.keys() - set(paths)
        self._unseen = {}
        for path in gone | set(todo):
            self._left.extend(self._unindex(path))
        for path in gone:
            del seen[path]
        self.recalled = len(todo)
        if todo:
            vouched = known(todo) if callable(known) else known
            recalled, missing = self.cache.recall(todo, vouched, column="facts")
            if missing:
                fresh = read_files([todo[i] for i in missing], self.spec, workers=1, limits=self.limits)
                self.cache.keep(fresh)
                for at, outcome in zip(missing, fresh):
                    recalled[at] = outcome
            for path, result in zip(todo, recalled):
                facts = facts_of(*result)  # type: ignore[misc]
                self._index(path, facts)
                stat = fresh_stats.get(path)
                seen.pop(path, None)
                if stat is not None:
                    seen[path] = (stat, result, facts)  # type: ignore[assignment]
                else:  # gone between the listing and its stat: read as it was, recalled again next time
                    self._unseen[path] = (result, facts)  # type: ignore[assignment]
        return gone | set(todo)

    def _index(self, path: str, facts: Facts) -> None:
        keys = (*insats_texts(facts), facts.sha256)
        self._keys[path] = keys
        for key in _index_keys(*keys):
            self._by_key.setdefault(key, set()).add(path)

    def _unindex(self, path: str) -> list[tuple[str, str]]:
        """Take a path out of the index; the keys it had (the insatser it may have left)."""
        keys = self._keys.pop(path, None)
        if keys is None:
            return []
        had = _index_keys(*keys)
        for key in had:
            paths = self._by_key.get(key)
            if paths is not None:
                paths.discard(path)
                if not paths:
                    del self._by_key[key]
        return had

    def _affected(self, seeds: set[str], paths: Sequence[str]) -> set[str]:
        """The files whose statuses may change with `seeds`' (and the keys they left, _left): every
        file sharing a case number or a name with them, and so on, as assign_insats_keys links
        files (a name that belongs to one case number in the batch counts as that case number)."""
        present = set(paths)
        affected = seeds & present
        queue = list(self._left)
        for path in affected:
            queue.extend(_index_keys(*self._keys[path]))
        done: set[tuple[str, str]] = set()
        while queue:
            key = queue.pop()
            if key in done or key[0] == "sha":
                continue
            done.add(key)
            for path in self._by_key.get(key, ()):
                if path not in affected:
                    affected.add(path)
                    queue.extend(_index_keys(*self._keys[path]))
        return affected

    def _decide(self, files: list[InputFile], paths: list[str], changed: set[str], built: _Built | None,
                receipts: Receipts | None) -> tuple[dict[str, FileOutcome], set[str] | None]:
        """Every file's outcome, decided again for the files an upload can change (None: all)."""
        affected: set[str] | None = None
        if built is not None:
            seeds = set(changed)
            if receipts is not None and built.received is not None:
                old, new = built.received, receipts.received  # mostly the same objects: `is` settles most
                shas = [sha for sha, when in new.items() if old.get(sha) is not when and old.get(sha) != when]
                for sha in [*shas, *(old.keys() - new.keys())]:
                    seeds |= self._by_key.get(("sha", sha), set())
            affected = self._affected(seeds, paths)
            if 2 * len(affected) > len(paths):
                affected = None  # most of the batch: decided afresh
        self._left = []
        chosen = files if affected is None else [f for f in files if f.location in affected]
        fresh = {f.location: FileOutcome.with_facts(f.name, *self._known(f.location)) for f in chosen}
        compared = dict(self._compared)  # compare_with_earlier keeps what it used: the subset's pairs
        decide(list(fresh.values()), self.spec, receipts, compared)
        if affected is None:
            self._compared = compared
        else:
            self._compared.update(compared)
        self.redecided = len(fresh)
        if affected is None:
            return fresh, None
        outcomes: dict[str, Any] = dict.fromkeys(paths)  # the listing's order, filled without a loop
        kept = dict(built.outcomes)  # type: ignore[union-attr]
        for path in changed - fresh.keys():
            kept.pop(path, None)  # gone
        outcomes.update(kept)
        outcomes.update(fresh)
        return outcomes, affected

    def _known(self, path: str) -> tuple[Any, Any, Facts]:
        seen = self._seen.get(path)
        result, facts = (seen[1], seen[2]) if seen is not None else self._unseen[path]
        return (*result, facts)  # type: ignore[return-value]

    @staticmethod
    def _tally(outcomes: dict[str, FileOutcome], affected: set[str] | None, changed: set[str],
               built: _Built | None) -> Counter[Status]:
        """The files by status (Consolidation.counts), from the last build's and the files decided again."""
        if affected is None or built is None:
            return Counter(outcome.status for outcome in outcomes.values())
        tally = Counter(built.tally)
        for path in affected | changed:
            if path in built.outcomes:
                tally[built.outcomes[path].status] -= 1
            if path in outcomes:
                tally[outcomes[path].status] += 1
        return tally

    def _cover(self, register: Sequence[RegisterRow], outcomes: dict[str, FileOutcome], affected: set[str] | None,
               changed: set[str], built: _Built | None, paths: list[str]) -> tuple[PlacedFiles, CoverageReport]:
        """register_coverage's answer, working out again only the rows of the files decided again."""
        order = dict(zip(paths, range(len(paths)))).__getitem__
        if affected is None or built is None or built.placed is None or built.register is not register:
            placed = PlacedFiles(register)
            for path, outcome in outcomes.items():
                placed.place(path, outcome)
            return placed, placed.report(outcomes, range(len(register)), order)
        placed, dirty = built.placed, set()
        for path in affected | changed:
            dirty.add(placed.remove(path))
            if path in outcomes:
                dirty.add(placed.place(path, outcomes[path]))
        dirty.discard(None)
        return placed, placed.report(outcomes, dirty, order)  # type: ignore[arg-type]


def _index_keys(case: str | None, name: str | None, sha256: str | None) -> list[tuple[str, str]]:
    """The keys that link a file to others (see FileStates._affected), from statuses.insats_texts:
    its case number; its name, unless it has a case number and no name (assign_insats_keys maps
    only names given with a case number; a file without one goes by its name, "" when it has none)."""
    keys = []
    if case is not None:
        keys.append(("dnr", case))
    if name is not None or case is None:
        keys.append(("namn", name or ""))
    if sha256:
        keys.append(("sha", sha256))
    return keys


def file_states(
    inputs: Sequence[str | Path],
    *,
    spec: FormSpec,
    cache: ReportCache,
    tolerance: float,
    known: Mapping[str, Known] | None = None,
    limits: Limits | None = None,
    exclude: Iterable[str | Path] = (),
    register: Sequence[RegisterRow] | None = None,
    receipts: Receipts | None = None,
) -> Consolidation:
    """One build of FileStates: what `consolidate` would decide, without the tables."""
    return FileStates(spec, cache, tolerance=tolerance, limits=limits).build(
        inputs, known=known, exclude=exclude, register=register, receipts=receipts
    )
