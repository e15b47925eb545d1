"""Uploads first: RAR's own requests that build the overview (its page, the JSON, an insats' page
at RAR, the master and the board report) wait a moment while uploads are being received.

Both are processor work in one server. On a small machine an office that keeps reloading RAR's page
while coordinators upload took the processor from them (`./scripts/loadtest --inkorg 6400`, 2
cores: the uploads' p95 0.32 s alone, 2.28 s while RAR worked). RAR can wait a second or two for a
page; a coordinator's upload should not wait for RAR. The wait is bounded (MAX_WAIT), so RAR's page
always comes, and a server with no uploads under way answers RAR at once.

While uploads keep arriving, each of them would make RAR's next view a new build of the overview
(26–60 ms of the server's interpreter at 6 400 reports, against the uploads). So when the wait
ends with uploads still under way, RAR is shown the last build if it is at most GOOD_FOR old; the
page says when it was taken. When the uploads pause, the next view is built afresh. The wait
comes first even then: answered at once, an office that reloads without pause asked eight times
as often (`--rar bada`: 163 views instead of 19, and the uploads' p95 0.53 s instead of 0.41 s).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

MAX_WAIT = 2.0  # seconds a request of RAR's waits at most for the uploads under way
GOOD_FOR = 10.0  # seconds old RAR's overview may be while uploads keep arriving
STEP = 0.05


class UploadsFirst:
    """How many uploads are being received, and RAR's bounded wait for them (one event loop: the
    count is only changed there, so it needs no lock)."""

    def __init__(self, max_wait: float = MAX_WAIT, good_for: float = GOOD_FOR):
        self.max_wait = max_wait
        self.good_for = good_for
        self.in_flight = 0

    @asynccontextmanager
    async def uploading(self) -> AsyncIterator[None]:
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    async def wait_for_uploads(self) -> float:
        """Wait until no upload is being received, at most max_wait; the seconds waited."""
        started = time.monotonic()
        deadline = started + self.max_wait
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(STEP)
        return time.monotonic() - started
