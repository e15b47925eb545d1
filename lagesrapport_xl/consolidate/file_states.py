"""Every file's status and who has reported, from the cache's facts: RAR's page, without the tables.

The page needs of each file only who it is from, its period, its verdict and what the batch rules
compare (cache.facts_of); the full payload (every answer and message) is for the master. So a page
over thousands of reports decodes a few hundred bytes a file and opens no file the cache knows.
The statuses and the register's states come from the same functions as `consolidate`'s, on the
same files: the page and the Kontroll sheet agree (tests/test_web_cache.py).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..common.memory import batch_gc
from ..form.spec import FormSpec
from ..reader.safety import Limits
from .batch import decide
from .cache import Cached, Known, ReportCache
from .consolidation import Consolidation
from .coverage import register_coverage
from .inputs import find_input_files
from .parallel import read_files
from .receipts import Receipts
from .statuses import Compared, Facts, FileOutcome

if TYPE_CHECKING:
    from ..reader.register import RegisterRow


class FileStates:
    """The page's consolidation, kept from one build to the next: a file whose path, size and
    modification time are unchanged keeps the facts recalled before, so a build after one new upload
    recalls one entry and stats the rest (the page at 6 400 reports: docs/performance.md). A file
    changed in place shows a new size or time and is recalled (hashed) again. One instance per
    inbox; not thread-safe (the web layer builds one page at a time)."""

    def __init__(self, spec: FormSpec, cache: ReportCache, *, tolerance: float, limits: Limits | None = None):
        self.spec, self.cache, self.tolerance, self.limits = spec, cache, tolerance, limits
        self._seen: dict[str, tuple[tuple[int, int], Cached, Facts]] = {}  # path → ((size, mtime_ns), …)
        self._compared: Compared = {}  # compare_with_earlier's findings of the last build
        self.recalled = 0  # files recalled or read by the last build (tests, the benchmark)

    def build(
        self,
        inputs: Sequence[str | Path],
        *,
        known: Mapping[str, Known] | Callable[[Sequence[str]], Mapping[str, Known]] | None = None,
        exclude: Iterable[str | Path] = (),
        register: Sequence[RegisterRow] | None = None,
        receipts: Receipts | None = None,
    ) -> Consolidation:
        """The consolidation's files with their statuses (and, with `register`, its coverage), but no
        tables; files the cache has not seen are read in this process and kept in it. `known` may
        be a function that gives the log's word for the paths it is given: only the files that
        are new or changed since the last build are asked for."""
        with batch_gc():
            return self._build(inputs, known, exclude, register, receipts)

    def _build(
        self,
        inputs: Sequence[str | Path],
        known: Mapping[str, Known] | Callable[[Sequence[str]], Mapping[str, Known]] | None,
        exclude: Iterable[str | Path],
        register: Sequence[RegisterRow] | None,
        receipts: Receipts | None,
    ) -> Consolidation:
        files = find_input_files(inputs, [*exclude, *self.cache.files])
        paths = [f.location for f in files]
        results: list[Cached | None] = [None] * len(paths)
        facts: list[Facts | None] = [None] * len(paths)
        stats: list[tuple[int, int] | None] = [None] * len(paths)
        todo = []
        for index, path in enumerate(paths):
            try:
                stat = os.stat(path)
            except OSError:
                todo.append(index)
                continue
            stats[index] = (stat.st_size, stat.st_mtime_ns)
            seen = self._seen.get(path)
            if seen is not None and seen[0] == stats[index]:
                results[index], facts[index] = seen[1], seen[2]
            else:
                todo.append(index)
        if todo:
            asked = [paths[i] for i in todo]
            vouched = known(asked) if callable(known) else known
            recalled, missing = self.cache.recall(asked, vouched, column="facts")
            if missing:
                fresh = read_files([paths[todo[i]] for i in missing], self.spec, workers=1, limits=self.limits)
                self.cache.keep(fresh)
                for at, outcome in zip(missing, fresh):
                    recalled[at] = outcome
            for at, index in enumerate(todo):
                results[index] = recalled[at]
        self.recalled = len(todo)
        outcomes = [FileOutcome.with_facts(f.name, r, a, known_facts)  # type: ignore[misc]
                    for f, (r, a), known_facts in zip(files, results, facts)]
        self._seen = {path: (stat, result, outcome.facts) for path, stat, result, outcome
                      in zip(paths, stats, results, outcomes) if stat is not None and result is not None}
        decide(outcomes, self.spec, receipts, self._compared)
        consolidation = Consolidation(
            spec=self.spec, tolerance=self.tolerance, inputs=tuple(str(i) for i in inputs),
            started=dt.datetime.now(), files=outcomes, receipts=receipts,
        )
        if register is not None:
            consolidation.coverage = register_coverage(outcomes, register)
        return consolidation


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
