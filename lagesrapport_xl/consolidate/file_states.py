"""Every file's status and who has reported, from the cache's facts: RAR's page, without the tables.

The page needs of each file only who it is from, its period, its verdict and what the batch rules
compare (cache.facts_of); the full payload (every answer and message) is for the master. So a page
over thousands of reports decodes a few hundred bytes a file and opens no file the cache knows.
The statuses and the register's states come from the same functions as `consolidate`'s, on the
same files: the page and the Kontroll sheet agree (tests/test_web_cache.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..form.spec import FormSpec
from ..reader.safety import Limits
from .batch import decide
from .cache import Known, ReportCache
from .consolidation import Consolidation
from .coverage import register_coverage
from .inputs import find_input_files
from .parallel import read_files
from .receipts import Receipts
from .statuses import FileOutcome

if TYPE_CHECKING:
    from ..reader.register import RegisterRow


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
    """The consolidation's files with their statuses (and, with `register`, its coverage), but no
    tables; files the cache has not seen are read in this process and kept in it."""
    files = find_input_files(inputs, [*exclude, *cache.files])
    paths = [str(f.path) for f in files]
    results, missing = cache.recall(paths, known, column="facts")
    if missing:
        fresh = read_files([paths[i] for i in missing], spec, workers=1, limits=limits)
        cache.keep(fresh)
        for index, outcome in zip(missing, fresh):
            results[index] = outcome
    outcomes = [FileOutcome(name=f.name, result=r, answers=a) for f, (r, a) in zip(files, results)]  # type: ignore[misc]
    decide(outcomes, spec, receipts)
    consolidation = Consolidation(
        spec=spec, tolerance=tolerance, inputs=tuple(str(i) for i in inputs), started=dt.datetime.now(), files=outcomes,
        receipts=receipts,
    )
    if register is not None:
        consolidation.coverage = register_coverage(outcomes, register)
    return consolidation
