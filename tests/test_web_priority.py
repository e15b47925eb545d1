"""Uploads first (web/priority.py): RAR's requests that build the overview wait for the uploads
being received, at most MAX_WAIT, so that a busy office does not take the processor from the
coordinators' uploads; nothing waits when no upload is under way."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from test_web_http import make_client, web
from webtools import GOOD, WARNED, api_send, examples, login  # noqa: F401

from lagesrapport_xl.web.background import IOPRIO_IDLE, run_in_background, scheduling
from lagesrapport_xl.web.priority import UploadsFirst


def test_rar_waits_for_the_uploads_under_way_and_never_longer_than_its_bound() -> None:
    async def scenario() -> None:
        first = UploadsFirst(max_wait=30)
        await first.wait_for_uploads()  # nothing under way: at once (the loop is not entered)
        assert first.in_flight == 0

        async def upload(seconds: float, queue: UploadsFirst) -> None:
            async with queue.uploading():
                await asyncio.sleep(seconds)

        task = asyncio.create_task(upload(0.2, first))
        await asyncio.sleep(0)  # the upload has begun
        assert first.in_flight == 1
        waited = await first.wait_for_uploads()
        assert first.in_flight == 0 and waited >= 0.15  # RAR's page came after the upload
        await task

        bounded = UploadsFirst(max_wait=0.3)
        endless = asyncio.create_task(upload(600, bounded))
        await asyncio.sleep(0)
        waited = await bounded.wait_for_uploads()
        assert bounded.in_flight == 1 and waited >= 0.3  # … but never waits for ever
        endless.cancel()
        try:
            await endless
        except asyncio.CancelledError:
            pass
        assert bounded.in_flight == 0  # a cancelled upload is counted out too

    asyncio.run(scenario())


def test_the_server_counts_its_uploads_in_and_out_and_rars_page_comes_despite_one_stuck(
        tmp_path: Path, examples) -> None:  # noqa: F811
    client = make_client(tmp_path)
    first = web(client).uploads_first
    assert api_send(client, examples[GOOD].read_bytes(), GOOD).status_code == 201
    assert first.in_flight == 0
    login(client)
    first.max_wait, first.in_flight = 0.2, 1  # an upload that never ends
    try:
        assert client.get("/rar").status_code == 200 and client.get("/rar/status.json").status_code == 200
    finally:
        first.in_flight = 0


def test_while_uploads_keep_arriving_rar_sees_the_last_build_at_most_good_for_old(
        tmp_path: Path, examples) -> None:  # noqa: F811
    """An upload would make every view of RAR's a new build: while uploads are under way RAR gets
    the last one (saying when it was taken) if it is young enough; once they pause, a fresh one."""
    client = make_client(tmp_path)
    first = web(client).uploads_first
    assert api_send(client, examples[GOOD].read_bytes(), GOOD).status_code == 201
    login(client)
    assert client.get("/rar/status.json").json()["uploads"]["stored"] == 1
    first.max_wait, first.good_for, first.in_flight = 0.1, 600, 1  # uploads keep arriving
    try:
        assert api_send(client, examples[WARNED].read_bytes(), WARNED).status_code == 201
        assert first.in_flight == 1  # the server counted its own upload in and out
        assert client.get("/rar/status.json").json()["uploads"]["stored"] == 1  # the last build, at once
        page = client.get("/rar").text
        assert "Läget är från klockan" in page and WARNED not in page
        first.good_for = 0  # … as long as it is young enough
        assert client.get("/rar/status.json").json()["uploads"]["stored"] == 2
        first.good_for = 600
        assert api_send(client, examples[GOOD].read_bytes(), GOOD).status_code < 300  # the same file again
        assert client.get("/rar/status.json").json()["uploads"]["uploads"] == 2  # the last build
    finally:
        first.in_flight = 0
    after = client.get("/rar/status.json").json()["uploads"]  # no upload under way: built afresh
    assert after["uploads"] == 3


def _job_in_background() -> tuple[tuple[int, int, int | None], list[tuple[int, int, int | None]]]:
    """What a background job sees of its own scheduling, and of a process it starts in turn (the
    parallel writer's workers)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        child = pool.apply(scheduling)
    return scheduling(), [child]


def test_the_master_and_board_jobs_run_only_on_idle_processor_time() -> None:
    """background.run_in_background: SCHED_IDLE from before the job is imported, inherited by the
    processes the job starts; the server itself keeps its priority."""
    own, children = run_in_background(_job_in_background)
    assert own[0] == os.SCHED_IDLE and children == [own]
    assert own[2] == IOPRIO_IDLE  # and the disk only when nothing else uses it
    assert os.sched_getscheduler(0) != os.SCHED_IDLE and scheduling()[2] != IOPRIO_IDLE


def test_a_large_download_arrives_whole_in_large_pieces_and_makes_way_for_uploads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """paced_download: the file whole, PIECE at a time, with its length and name; after each piece a
    pause of PACE while an upload is being received, and none while none is."""
    from starlette.applications import Starlette
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from lagesrapport_xl.web import priority

    content = os.urandom(3 * priority.PIECE + 12345)
    (tmp_path / "stor.zip").write_bytes(content)
    uploads = UploadsFirst()
    pauses: list[float] = []
    real_make_way = UploadsFirst.make_way

    async def counted(self: UploadsFirst, pause: float = priority.PACE) -> None:
        started = time.monotonic()
        await real_make_way(self, pause)
        pauses.append(time.monotonic() - started)

    def download(request: object) -> object:
        return priority.paced_download(tmp_path / "stor.zip", "application/zip", uploads)

    app = Starlette(routes=[Route("/", download)])
    monkeypatch.setattr(UploadsFirst, "make_way", counted)
    with TestClient(app) as client:
        answer = client.get("/")
        assert answer.content == content and answer.headers["content-type"] == "application/zip"
        assert answer.headers["content-length"] == str(len(content))
        assert 'filename="stor.zip"' in answer.headers["content-disposition"]
        assert len(pauses) == 4 and max(pauses) < priority.PACE / 2  # no upload under way: no pause
        pauses.clear()
        uploads.in_flight = 1  # an upload is being received meanwhile
        answer = client.get("/")
        assert answer.content == content
        assert len(pauses) == 4 and min(pauses) >= priority.PACE * 0.9

