"""RAR's long jobs (the master, the board report) in a process of their own that runs only on
processor time the uploads leave over.

Each job gets a fresh spawned process (the server runs threads: no fork). The process lowers
itself before it imports anything heavy (the initializer runs before the job is unpickled, and
unpickling it is what imports pandas and the writers), to Linux's SCHED_IDLE where there is one,
else the lowest nice value, and to the idle I/O class; the parallel writer's own processes
inherit both. `nice 10` alone left
the uploads' p95 at 0.43 s against 0.31 s while masters were written (`./scripts/loadtest
--inkorg 6400 --rar sammanstallning`, 2 cores): a niced process still gets a tenth of a busy
core, and its start-up ran at full priority. RAR waits longer for its master; coordinators do not.
Lowering one's own priority needs no privilege.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
LOWEST_NICE = 19


IOPRIO_SET = {"x86_64": 251, "aarch64": 30}  # the system calls' numbers (no wrapper in os)
IOPRIO_GET = {"x86_64": 252, "aarch64": 31}
IOPRIO_IDLE = (3 << 13) | 0  # IOPRIO_CLASS_IDLE: the disk only when nothing else uses it


def lower_io_priority() -> bool:
    """Linux's idle I/O class for this process (the master writes 150 MB and its zip is read again
    while uploads write their log); False where the system has none. Only a disk scheduler with
    classes (mq-deadline, BFQ) honours it; under `none` it changes nothing and harms nothing."""
    number = IOPRIO_SET.get(os.uname().machine)
    if number is None or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syscall(number, 1, 0, IOPRIO_IDLE) == 0  # IOPRIO_WHO_PROCESS, this process
    except (OSError, AttributeError):  # pragma: no cover - no libc to call
        return False


def lower_priority() -> None:
    """Make this process (and the processes it starts) run only when the processor and the disk are
    otherwise idle (scheduling() says what it got)."""
    lower_io_priority()
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # type: ignore[attr-defined]
        return
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        pass
    try:  # pragma: no cover - not Linux
        os.nice(LOWEST_NICE - os.nice(0))
    except (AttributeError, OSError):  # pragma: no cover - neither
        pass


def run_in_background(job: Callable[..., T], *args: object) -> T:
    """`job(*args)` in a fresh low-priority process; its answer (an exception is raised here)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=lower_priority) as pool:
        return pool.submit(job, *args).result()


def scheduling() -> tuple[int, int, int | None]:
    """This process's scheduling policy, nice value and I/O priority (what a job reports to the
    tests; None where it cannot be read)."""
    number = IOPRIO_GET.get(os.uname().machine)
    io = ctypes.CDLL(None, use_errno=True).syscall(number, 1, 0) if number is not None else None
    return os.sched_getscheduler(0), os.nice(0), io
