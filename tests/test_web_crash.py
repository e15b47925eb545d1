"""Crash-safe storage (issue 21.5): a real `lagesrapport serve` on 127.0.0.1 killed with SIGKILL while
uploads stream in, started again, and the inbox, the state folder and the log held against each other
after every restart.

Issue 21's attack (10 rounds of kill -9) found two complete inbox files without a log row, a partial
`.tmp-*.xlsx` in the inbox (so `consolidate` counted more files than the log had), and reception
folders and annotated copies left behind. Here every round must leave none of that: every answered
upload has its row, every inbox file has a row with its SHA-256 and every stored row its file, no
temporary file or reception folder remains, and `consolidate --state` counts what the log counts.
Where the kill falls is chance, so one round also leaves the debris of a kill at its worst moment
by hand (a renamed file without its row, a half-written temporary file, a reception folder, an
orphan annotated copy) and the restart must clear or log it. Bounded: 4 rounds, each at most 40
uploads and 60 s.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lagesrapport_dev.client import LOOPBACK, IntakeClient, free_port
from lagesrapport_dev.examples import bulk_files, demo_files, write_examples
from lagesrapport_dev.loadtest import NO_LIMITS
from lagesrapport_xl.consolidate.batch import consolidate
from lagesrapport_xl.web import keys
from lagesrapport_xl.web.overview import store_receipts
from lagesrapport_xl.web.settings import default_state
from lagesrapport_xl.web.store import Store

ROUNDS = 4
UPLOADS_PER_ROUND = 40
CLIENTS = 4


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes, keys.Insats]]:
    """Filled reports (name, bytes, insats): the demo set's and generated ones."""
    examples = [e for e in demo_files() if e.answers.get("case_number")] + bulk_files(24)
    folder = tmp_path_factory.mktemp("rapporter")
    return [(path.name, path.read_bytes(), keys.Insats.of(example.answers))
            for path, example in zip(write_examples(folder, examples), examples)]


def start(inbox: Path) -> tuple[subprocess.Popen, str]:
    """A server whose limits let the clients' bursts through (the limits: tests/test_web_guard.py):
    every upload here must be read and stored, so that a kill finds work under way."""
    port = free_port()
    config = inbox.parent / "rar.toml"
    config.write_text(NO_LIMITS, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "lagesrapport_xl", "serve", "--inbox", str(inbox), "--host", LOOPBACK,
         "--port", str(port), "--quiet", "--config", str(config)], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    url = f"http://{LOOPBACK}:{port}"
    client = IntakeClient(url, timeout=5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if client.request("/")[0] == 200:
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def upload_until_killed(url: str, files: list[tuple[str, bytes, str]], offset: int,
                        answered: list[dict[str, Any]], stop: threading.Event) -> list[threading.Thread]:
    """CLIENTS threads sending files in turn until `stop` or UPLOADS_PER_ROUND; every answer kept."""
    counter = iter(range(UPLOADS_PER_ROUND))
    lock = threading.Lock()

    def work() -> None:
        client = IntakeClient(url, timeout=30)
        while not stop.is_set():
            with lock:
                index = next(counter, None)
            if index is None:
                return
            name, content, key = files[(offset + index) % len(files)]
            try:
                status, answer = client.upload(content, name, key)
            except OSError:
                return  # the server is gone: this upload was never answered
            with lock:
                answered.append({"status": status, "sha256": hashlib.sha256(content).hexdigest(), **answer})

    threads = [threading.Thread(target=work) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    return threads


def plant_debris(inbox: Path, state: Path, content: bytes) -> str:
    """What a kill at the worst moments leaves: the intake's stored file renamed into the inbox but
    its row never committed, a half-written temporary file in the inbox (as before tmp/ existed),
    a reception folder, a temporary file in tmp/, an annotated copy of an upload without a row."""
    name = f"20260101-120000_{hashlib.sha256(content).hexdigest()[:12]}_utan_rad.xlsx"
    (inbox / name).write_bytes(content)
    os.utime(inbox / name, ns=(1_767_268_800_000_000_000,) * 2)
    (inbox / ".tmp-abc123.xlsx").write_bytes(content[: len(content) // 2])
    (state / "mottagning" / "kvarlamnad").mkdir(parents=True, exist_ok=True)
    (state / "mottagning" / "kvarlamnad" / "rapport.xlsx").write_bytes(content)
    (state / "tmp").mkdir(exist_ok=True)
    (state / "tmp" / ".tmp-halv.xlsx").write_bytes(content[:100])
    (state / "kontrollkopior" / ("x" * 22)).mkdir(parents=True, exist_ok=True)
    return name


def check_agreement(inbox: Path, state: Path, answered: list[dict[str, Any]]) -> dict[str, sqlite3.Row]:
    """Everything issue 21 found after its kills, asserted absent; the log's rows by stored name."""
    with Store(state / "intake.sqlite3").connect() as db:
        rows = db.execute("SELECT * FROM uploads").fetchall()
    tokens = {row["token"]: row for row in rows}
    for answer in answered:  # every acknowledged upload is in the log, with the bytes that were sent
        row = tokens[answer["receipt"]["token"]]
        assert row["sha256"] == answer["sha256"]
        if answer["receipt"]["stored_name"]:
            assert (inbox / answer["receipt"]["stored_name"]).is_file()
    stored = {row["stored_name"]: row for row in rows if row["stored_name"] and row["duplicate_of"] is None}
    files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in inbox.iterdir()}
    assert {name: row["sha256"] for name, row in stored.items()} == files  # the log and the inbox agree
    for folder in ("tmp", "mottagning"):  # nothing half-written, nothing of a reading left over
        assert not (state / folder).exists() or not list((state / folder).iterdir())
    assert not list(inbox.glob(".tmp-*"))
    copies = {path.name for path in (state / "kontrollkopior").iterdir()} if (state / "kontrollkopior").exists() else set()
    assert copies <= set(tokens)  # an annotated copy only of an upload in the log
    counted = consolidate(inbox, workers=1, receipts=store_receipts(Store(state / "intake.sqlite3")))
    assert len(counted.files) == len(stored)
    return stored


def test_kill_9_during_uploads_leaves_the_log_and_the_inbox_in_agreement(tmp_path: Path, reports) -> None:
    inbox = tmp_path / "inkorg"
    state = default_state(inbox)
    store = Store(state / "intake.sqlite3")
    issued: dict[str, str] = {}
    files = []
    for name, content, insats in reports[:-1]:  # the last is planted by hand, never sent
        if insats.key not in issued:
            issued[insats.key] = keys.issue(store, insats, "krocktest")[0]
        files.append((name, content, issued[insats.key]))
    answered: list[dict[str, Any]] = []
    started: list[subprocess.Popen] = []
    try:
        kill_and_restart(inbox, state, store, files, reports[-1][1], answered, started)
    finally:  # a failed assertion never leaves a server running
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def kill_and_restart(inbox: Path, state: Path, store: Store, files: list[tuple[str, bytes, str]], spare: bytes,
                     answered: list[dict[str, Any]], started: list[subprocess.Popen]) -> None:
    planted = None
    for round_ in range(ROUNDS):
        process, url = start(inbox)
        started.append(process)
        check_agreement(inbox, state, answered)  # after the restart: reconciled before any upload
        if planted is not None:
            with store.connect() as db:
                row = db.execute("SELECT * FROM uploads WHERE stored_name = ?", (planted,)).fetchone()
            assert (row["code"], row["mode"], row["received_ns"]) == ("found_at_start", "found", 1_767_268_800_000_000_000)
            assert row["sha256"] == hashlib.sha256((inbox / planted).read_bytes()).hexdigest()
            planted = None
        before = len(answered)
        stop = threading.Event()
        threads = upload_until_killed(url, files, round_ * UPLOADS_PER_ROUND, answered, stop)
        deadline = time.monotonic() + 60
        while len(answered) < before + 5 + round_ * 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        kill(process)  # mid-stream: the other clients' uploads are being read, stored or logged
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert len(answered) > before
        if round_ == 1:
            planted = plant_debris(inbox, state, spare)
    process, _url = start(inbox)
    started.append(process)
    stored = check_agreement(inbox, state, answered)
    process.terminate()
    process.wait(timeout=30)
    assert len(stored) >= 1 and all(a["status"] in (200, 201, 422) for a in answered)
