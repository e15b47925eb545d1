"""Reading a batch's files in parallel: chunks of files over a process pool, results in input order.

Workers send back only what the master needs of each file (read_one): each answer once, no
workbook. A crash while reading one file becomes that file's rejection (internal_error_result);
a worker process that dies has its files retried one by one, each in a process of its own.
The reader is imported here, at the top, so that forked workers inherit it instead of importing it.
"""

from __future__ import annotations

import gc
import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..common.digest import file_digest
from ..common.catalogue import BATCH_INTERNAL_ERROR
from ..form.spec import FormSpec, default_spec
from ..reader import (
    read as reader,  # imported before the workers fork: each inherits it instead of importing it
)
from ..reader.result import ReadResult
from ..reader.safety import Limits

if TYPE_CHECKING:  # the cache (sqlite3, importlib.metadata) is imported only by who opens one
    from .cache import Known, ReportCache

Progress = Callable[[int, int], None]

_WORKER_SPEC: FormSpec | None = None
_WORKER_LIMITS: Limits | None = None


def _init_worker(spec: FormSpec | None, limits: Limits | None = None) -> None:
    global _WORKER_SPEC, _WORKER_LIMITS
    _WORKER_SPEC, _WORKER_LIMITS = spec, limits


def internal_error_result(path: str, exc: BaseException) -> ReadResult:
    """A crash while reading one file becomes that file's rejection, never the batch's end."""
    sha, size, modified = file_digest(path)
    if isinstance(exc, BrokenProcessPool):
        issue = BATCH_INTERNAL_ERROR.issue(variant="worker_died")
    else:
        issue = BATCH_INTERNAL_ERROR.issue(variant="crash", error=f"{type(exc).__name__}: {str(exc)[:200]}")
    return ReadResult(
        file=path,
        issues=[issue],
        sha256=sha,
        size=size,
        modified=modified,
    )


def read_one(
    path: str, spec: FormSpec | None = None, limits: Limits | None = None
) -> tuple[ReadResult, dict[str, Any] | None]:
    """Read one file: (result without its model, the validated answers or None).

    The model is replaced by its plain answers so that results travel cheaply between processes:
    an accepted report's answers are there once, in `answers`, and its `values` are dropped. A
    file with errors keeps its `values` (the JSON export shows what was read; such files are few).
    """
    try:
        # the one line that binds the consolidation to the reader; what batch_form would make of
        # read_report's result, without building the model (reader/answers.py)
        result, answers = reader.read_answers(path, spec, limits=limits)
        if answers is not None:
            result.values = {}  # an error-free report's values are its answers, sent once
        if result.sha256 is None:
            result.sha256, result.size, result.modified = file_digest(path)
        return result, answers
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - one broken file never stops the batch (pyo3 panics included)
        return internal_error_result(path, exc), None


def batch_form(result: ReadResult) -> tuple[ReadResult, dict[str, Any] | None]:
    """A read report as a batch keeps it: the model replaced by its plain answers (an error-free
    report's values are then dropped: they are its answers), the form version kept."""
    answers = result.report.answers() if result.report is not None and result.ok else None
    form_version = result.form_version or (result.report.form_version if result.report else None)
    values = {} if answers is not None else result.values
    return replace(result, report=None, form_version=form_version, values=values), answers


def _read_chunk(paths: list[str]) -> list[tuple[ReadResult, dict[str, Any] | None]]:
    results = [read_one(path, _WORKER_SPEC, _WORKER_LIMITS) for path in paths]
    if not gc.isenabled():  # common.memory.batch_gc: the few cycles of these files go now, not at the end
        gc.collect()
    return results


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def read_files(
    paths: Sequence[str],
    spec: FormSpec,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    meanwhile: Callable[[], object] | None = None,
    cache: ReportCache | None = None,
    limits: Limits | None = None,
    known: Mapping[str, Known] | None = None,
) -> list[tuple[ReadResult, dict[str, Any] | None]]:
    """Read every file, in parallel chunks over the machine's cores; results in input order.

    `meanwhile` is called once in this process while other processes read (before reading, when
    this process reads alone): work for an otherwise idle core, such as importing the writer.
    With a `cache`, every file is hashed and only the contents the cache has not seen are read;
    their results are kept for the next run (cache.py); `known` (path → cache.Known, from a log)
    spares hashing the files it vouches for. `limits`: the safety limits (default: safety's)."""
    if cache is None or not cache.usable:
        return _read_all(paths, spec, workers=workers, progress=progress, meanwhile=meanwhile, limits=limits)
    results, missing = cache.recall(paths, known)
    hits = len(paths) - len(missing)
    if progress and hits:
        progress(hits, len(paths))

    def moved_on(done: int, _total: int) -> None:
        progress(hits + done, len(paths))  # type: ignore[misc]

    fresh = _read_all([paths[i] for i in missing], spec, workers=workers,
                      progress=moved_on if progress else None, meanwhile=meanwhile, limits=limits)
    for index, outcome in zip(missing, fresh):
        results[index] = outcome
    cache.keep(fresh)
    return results  # type: ignore[return-value]


def _read_all(
    paths: Sequence[str],
    spec: FormSpec,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    meanwhile: Callable[[], object] | None = None,
    limits: Limits | None = None,
) -> list[tuple[ReadResult, dict[str, Any] | None]]:
    total = len(paths)
    workers = max(1, min(workers or available_cores(), total or 1))
    worker_spec = None if spec is default_spec() else spec
    results: list[tuple[ReadResult, dict[str, Any] | None] | None] = [None] * total
    if workers == 1 or total < 8:
        if meanwhile is not None:
            meanwhile()
        for index, path in enumerate(paths):
            results[index] = read_one(path, worker_spec, limits)
            if progress:
                progress(index + 1, total)
        return results  # type: ignore[return-value]
    # Chunks of up to 16 files (≈ 60 ms), shrinking towards the end ("guided" scheduling): when the
    # last ones run, no core waits long for the other.
    chunks: list[list[int]] = []
    start = 0
    while start < total:
        size = max(1, min(16, math.ceil((total - start) / (workers * 4))))
        chunks.append(list(range(start, min(start + size, total))))
        start += size
    done = 0
    failed: list[int] = []
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(worker_spec, limits)) as pool:
        futures = {pool.submit(_read_chunk, [paths[i] for i in chunk]): chunk for chunk in chunks}
        if meanwhile is not None:
            meanwhile()
        for future in as_completed(futures):
            chunk = futures[future]
            try:
                for index, outcome in zip(chunk, future.result()):
                    results[index] = outcome
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # noqa: BLE001 - a worker died (e.g. out of memory): retry one by one
                failed.extend(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    for index in sorted(failed):
        results[index] = _read_isolated(paths[index], worker_spec, limits)
    return results  # type: ignore[return-value]


def _read_isolated(
    path: str, spec: FormSpec | None, limits: Limits | None = None
) -> tuple[ReadResult, dict[str, Any] | None]:
    """Read one file in a process of its own, so that a file that kills a process is rejected alone."""
    try:
        with ProcessPoolExecutor(1, initializer=_init_worker, initargs=(spec, limits)) as pool:
            return pool.submit(_read_chunk, [path]).result()[0]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - BrokenProcessPool, or a result that cannot travel
        return internal_error_result(path, exc)
