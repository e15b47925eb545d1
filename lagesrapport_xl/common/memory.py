"""Python's cyclic garbage collector paused for a batch: reading a folder of reports and writing
the master both allocate millions of short-lived objects that reference counting alone frees."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def batch_gc() -> Iterator[None]:
    """Cyclic garbage collection paused for a batch, as batch programs do (6–8 % of the reading).

    Reading allocates millions of short-lived containers and Python's collector keeps scanning
    them although nearly all die by reference counting; the few cycles (exception tracebacks)
    are collected after each chunk of files (consolidate/parallel.py) and at the end. What exists
    when the batch starts (modules, the spec) is frozen, so those collections never scan it.
    """
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()
