"""RAR's office in the load test (loadtest.py --inkorg): clients that load RAR's page and its JSON or
press the master button, each in a process of its own, held between steps while the uploads are
timed alone; and the control, processes at the lowest priority that work as the master's writer
does, in RAR's place."""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .client import IntakeClient

if TYPE_CHECKING:
    from .loadtest import Sent


@dataclass
class RarWork:
    """What the RAR client did while the uploads ran."""

    pages: list[float] = field(default_factory=list)  # seconds per load of RAR's page
    statuses: list[float] = field(default_factory=list)  # … of status.json
    masters: list[float] = field(default_factory=list)  # … per master workbook, button to download
    failures: list[str] = field(default_factory=list)
    # (pressed, answered, downloaded) per press of the button, time.perf_counter(): made on the server
    # until its answer came, then downloaded
    master_spans: list[tuple[float, float, float]] = field(default_factory=list)

    def during_master(self, sent: Sent, phase: str = "") -> bool:
        """Was the upload under way while a master was being made or downloaded (`phase` "made" or
        "downloaded": only then)? A press still waiting for its answer when the uploads ended
        counts until then."""
        end = sent.started + sent.seconds
        first, last = {"made": (0, 1), "downloaded": (1, 2), "": (0, 2)}[phase]  # places in a span
        return any(span[first] < end and sent.started < span[last] for span in self.master_spans)


MAX_FAILURES = 20  # RAR's client gives up after so many failed requests (the test reports them)
LOGIN_TRIES = 10  # RAR's clients log in at the same moment: the server checks one password at a time


def rar_at_work(url: str, password: str, stop: Any, work: RarWork, *, master: bool, written: Any = None,
                pause: Pause | None = None) -> None:
    """RAR's office at work until `stop` (an Event): RAR's page and its JSON in turn, or (`master`)
    the master button again and again; `written` (an Event) is set once a master has been written;
    no new step while `pause` holds it."""
    client = IntakeClient(url, timeout=900)
    for attempt in range(LOGIN_TRIES):  # the server checks one password of an account at a time
        if client.login(password):
            break
        time.sleep(0.5 * (attempt + 1))
    else:
        work.failures.append(f"inloggningen misslyckades {LOGIN_TRIES} gånger")
        return

    def page() -> None:
        status, _headers, _body = client.request("/rar")
        if status != 200:
            raise RuntimeError(f"/rar answered {status}")

    steps = ([("masters", client.master_bytes)] if master
             else [("pages", page), ("statuses", client.status)])
    turn = 0
    pause = pause or Pause.never()
    while not stop.is_set():
        with pause.step() as go:
            if not go:
                continue
            name, step = steps[turn % len(steps)]
            turn += 1
            started = time.perf_counter()
            if name == "masters":
                work.master_spans.append((started, float("inf"), float("inf")))
            try:
                step()
            except (OSError, RuntimeError) as exc:
                work.failures.append(f"{name}: {exc}")
                if len(work.failures) >= MAX_FAILURES:
                    return
                time.sleep(0.2)
                continue
            getattr(work, name).append(time.perf_counter() - started)
            if name == "masters":
                work.master_spans[-1] = (started, client.answered, time.perf_counter())
                if written is not None:
                    written.set()


class Pause:
    """Holds RAR's clients between steps while the uploads are timed alone: `go` (an Event) set lets
    them work, `working` (a shared count) says how many steps are under way."""

    def __init__(self, go: Any, working: Any):
        self.go, self.working = go, working

    @classmethod
    def never(cls) -> Pause:
        go = threading.Event()
        go.set()
        return cls(go, None)

    @contextlib.contextmanager
    def step(self) -> Iterator[bool]:
        """Whether a step may be taken now (if not, after a short wait for it): counted as under way
        before `go` is asked, so that hold() never misses a step that is starting."""
        self._count(1)
        if not self.go.is_set():
            self._count(-1)
            self.go.wait(0.1)
            yield False
            return
        try:
            yield True
        finally:
            self._count(-1)

    def _count(self, change: int) -> None:
        if self.working is not None:
            with self.working.get_lock():
                self.working.value += change

    def hold(self, patience: float = 900) -> None:
        """No new step from now on; returns once none is under way (or after `patience` seconds)."""
        self.go.clear()
        deadline = time.monotonic() + patience
        while self.working.value and time.monotonic() < deadline:
            time.sleep(0.02)

    def release(self) -> None:
        self.go.set()


def _rar_process(url: str, password: str, stop: Any, written: Any, results: Any, master: bool, pause: Pause
                 ) -> None:
    """One RAR client in a process of its own (see RarClients); its RarWork goes to `results`."""
    work = RarWork()
    try:
        rar_at_work(url, password, stop, work, master=master, written=written, pause=pause)
    except Exception as exc:  # noqa: BLE001 - reported with the figures, never lost
        work.failures.append(f"{type(exc).__name__}: {exc}")
    results.put(work)


def _idle_load(folder: Path, stop: Any, written: Any, results: Any, pause: Pause) -> None:
    """The control (--rar kontroll): no RAR client but a process at the lowest priority that works
    as the master's writer does, in rounds until `stop` (at most CONTROL_ROUNDS): a table of about
    200 MB made in memory, written out as cell XML (200 MB) to a file, deleted. Two of them are what the
    master and its helper process are to the machine; what they cost the uploads is what any
    background work costs them here, however low its priority."""
    from lagesrapport_xl.web.background import lower_priority

    lower_priority()
    work = RarWork()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"kontroll-{os.getpid()}.xml"
    rounds = 0
    while rounds < CONTROL_ROUNDS and not stop.is_set():
        with pause.step() as go:
            if not go:
                continue
            rounds += 1
            started = time.perf_counter()
            rows = [(f"Rapport {row} " * 60, row, row * 0.5) for row in range(CONTROL_ROWS)]
            with open(path, "w", encoding="utf-8") as out:
                for row, (text, number, share) in enumerate(rows, 1):
                    out.write(f'<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>{text}</t></is></c>'
                              f'<c r="B{row}"><v>{number}</v></c><c r="C{row}"><v>{share}</v></c></row>')
            del rows
            path.unlink()
            done = time.perf_counter()
            work.masters.append(done - started)
            work.master_spans.append((started, done, done))
            written.set()
    results.put(work)


CONTROL_ROUNDS = 200
CONTROL_ROWS = 200_000  # rows of the control's table: about 200 MB in memory, as a master of 6 400 reports


class RarClients:
    """RAR's clients, each in a process of its own: downloading and saving a master of 6 400 reports
    (150 MB) is a second of Python's work, which in this process would have held up the threads
    that time the uploads, so an upload would have seemed slower than the server made it.
    time.perf_counter is the system's monotonic clock, the same in every process."""

    def __init__(self, url: str, password: str, folder: Path, masters: Sequence[bool | None]):
        """`masters`: per client, whether it presses the master button (None: the control, _idle_load)."""
        context = multiprocessing.get_context("spawn")  # never a fork of a process with threads
        self.stop, self.written, self.results = context.Event(), context.Event(), context.Queue()
        self.pause = Pause(context.Event(), context.Value("i", 0))  # held until release()
        self.processes = [
            context.Process(target=_rar_process, daemon=True,
                            args=(url, password, self.stop, self.written, self.results, master, self.pause))
            if master is not None else
            context.Process(target=_idle_load, daemon=True,
                            args=(folder, self.stop, self.written, self.results, self.pause))
            for master in masters
        ]
        for process in self.processes:
            process.start()

    def finish(self) -> RarWork:
        """Stop them and add up what they did (a client that does not answer in time: a failure)."""
        self.stop.set()
        self.pause.release()
        work = RarWork()
        for _process in self.processes:
            try:
                done: RarWork = self.results.get(timeout=900)
            except queue.Empty:
                work.failures.append("en RAR-klient svarade inte")
                continue
            for kept in dataclasses.fields(RarWork):
                getattr(work, kept.name).extend(getattr(done, kept.name))
        for process in self.processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
        return work
