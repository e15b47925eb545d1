"""RAR's long jobs (the master, the board report) in a process of their own that runs only on
processor time the uploads leave over.

Each job gets a fresh spawned process (the server runs threads: no fork). The process lowers
itself before it imports anything heavy (the initializer runs before the job is unpickled, and
unpickling it is what imports pandas and the writers), to Linux's SCHED_IDLE where there is one,
else the lowest nice value; the parallel writer's own processes inherit it. `nice 10` alone left
the uploads' p95 at 0.43 s against 0.31 s while masters were written (`./scripts/loadtest
--inkorg 6400 --rar sammanstallning`, 2 cores): a niced process still gets a tenth of a busy
core, and its start-up ran at full priority. RAR waits longer for its master; coordinators do not.
Lowering one's own priority needs no privilege.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
LOWEST_NICE = 19


def lower_priority() -> str:
    """Make this process (and the processes it starts) run only when the processor is otherwise
    idle; the policy it got, for the tests."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # type: ignore[attr-defined]
        return "idle"
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        pass
    try:  # pragma: no cover - not Linux
        os.nice(LOWEST_NICE - os.nice(0))
        return "nice"
    except (AttributeError, OSError):  # pragma: no cover - neither
        return "normal"


def run_in_background(job: Callable[..., T], *args: object) -> T:
    """`job(*args)` in a fresh low-priority process; its answer (an exception is raised here)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=lower_priority) as pool:
        return pool.submit(job, *args).result()


def scheduling() -> tuple[int, int]:
    """This process's scheduling policy and nice value (what a job reports to the tests)."""
    return os.sched_getscheduler(0), os.nice(0)
