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

A large download (the master's zip, 150 MB at 6 400 reports) goes out a megabyte at a time, and
while uploads are being received it pauses PACE after each megabyte: sent flat out, it shares the
event loop, the processor and the memory bus with them, and the uploads under way while it was
sent had a p95 of 0.23 s against 0.17–0.19 s alone (`--rar sammanstallning`, two runs). RAR waits
at most PACE a megabyte longer (3 s at 6 400 reports); with no upload under way it is not slowed.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

MAX_WAIT = 2.0  # seconds a request of RAR's waits at most for the uploads under way
GOOD_FOR = 10.0  # seconds old RAR's overview may be while uploads keep arriving
STEP = 0.05
PIECE = 1 << 20  # bytes a large download is read and sent in (Starlette's 64 kB: 16 times the trips)
PACE = 0.02  # seconds a large download pauses after each piece while uploads are being received


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

    async def make_way(self, pause: float = PACE) -> None:
        """A pause of `pause` seconds if uploads are being received (none if not)."""
        if self.in_flight:
            await asyncio.sleep(pause)


def paced_download(path: Path, media_type: str, uploads: UploadsFirst) -> StreamingResponse:
    """The file as an attachment under its own name, PIECE at a time, making way for the uploads
    after each piece (UploadsFirst.make_way). The file is opened now: one removed meanwhile is
    still sent whole."""
    handle = open(path, "rb")  # noqa: SIM115 - closed when the last piece is sent (or the client leaves)
    size = os.fstat(handle.fileno()).st_size  # the opened file's, whatever is at `path` by then

    async def pieces() -> AsyncIterator[bytes]:
        try:
            while piece := await run_in_threadpool(handle.read, PIECE):
                yield piece
                await uploads.make_way()
        finally:
            handle.close()

    headers = {"content-length": str(size), "content-disposition": f'attachment; filename="{path.name}"'}
    return StreamingResponse(pieces(), media_type=media_type, headers=headers)
