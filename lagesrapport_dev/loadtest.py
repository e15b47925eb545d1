"""A bounded load test of the web intake: N uploads from C concurrent clients against a real
`lagesrapport serve` on 127.0.0.1, and an account of every one of them.

Every report is sent through its own insats' link (the keys are issued in the server's database
before the run); the three files that are no report go with a link too, and are refused.
"Accounted for" means: every upload got an answer and a receipt of its own; the log has exactly
one row per upload, with the SHA-256 of the bytes that were sent; every report among them is in
the inbox exactly once (the same bytes are stored once) with that SHA-256, and nothing else is;
and RAR's page counts the same. `python -m lagesrapport_dev.loadtest` (scripts/loadtest)
prints the figures; tests/test_web_load.py asserts the account. No time is asserted anywhere.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lagesrapport_xl.web import keys
from lagesrapport_xl.web.settings import default_state
from lagesrapport_xl.web.store import Store

from .client import IntakeClient, local_server
from .examples import bulk_files, demo_files, write_examples

PASSWORD = "lasttestens lösenord"  # a throwaway server's


@dataclass(frozen=True)
class Sent:
    """One upload of a load run and its answer."""

    index: int
    file_name: str
    sha256: str
    status: int
    answer: dict[str, Any]
    seconds: float


def upload_many(url: str, files: Sequence[tuple[str, bytes, str]], count: int, clients: int) -> list[Sent]:
    """`count` uploads through the API, `clients` at a time, cycling through `files` (name, bytes,
    the insats' link key); every upload's answer, in the order they were sent. Bounded in count,
    each request in time."""

    def send(index: int) -> Sent:
        name, content, key = files[index % len(files)]
        started = time.perf_counter()
        status, answer = IntakeClient(url).upload(content, name, key)
        return Sent(index, name, hashlib.sha256(content).hexdigest(), status, answer, time.perf_counter() - started)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(send, range(count)))


@dataclass
class Account:
    """Where every upload of a run ended up; `problems` is empty when all are accounted for."""

    sent: int
    statuses: collections.Counter[int]
    log_rows: int
    inbox_files: int
    distinct_reports: int
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems


def account(sent: Sequence[Sent], inbox: Path, state: Path) -> Account:
    """Check every upload against the server's log and its inbox."""
    with Store(state / "intake.sqlite3").connect() as db:
        rows = {row["token"]: dict(row) for row in db.execute("SELECT * FROM uploads")}
    problems = []
    tokens = [s.answer.get("receipt", {}).get("token") for s in sent]
    if len(set(tokens)) != len(sent):
        problems.append("not every upload got a receipt of its own")
    for upload, token in zip(sent, tokens):
        row = rows.get(token)
        if row is None:
            problems.append(f"upload {upload.index} ({upload.file_name}) is not in the log")
        elif row["sha256"] != upload.sha256:
            problems.append(f"upload {upload.index}: the log has another SHA-256")
    if len(rows) != len(sent):
        problems.append(f"{len(sent)} uploads sent, {len(rows)} rows in the log")
    reports = {s.sha256 for s in sent if s.answer["receipt"]["stored_name"]}
    files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in inbox.iterdir()}
    stored = {row["stored_name"]: row["sha256"] for row in rows.values() if row["stored_name"] and not row["duplicate_of"]}
    if files != stored:
        problems.append("the inbox does not hold exactly the stored files with their SHA-256")
    if sorted(files.values()) != sorted(reports):
        problems.append("not every report sent is in the inbox exactly once")
    return Account(len(sent), collections.Counter(s.status for s in sent), len(rows), len(files), len(reports), problems)


def load_files(folder: Path, distinct: int, store: Store) -> list[tuple[str, bytes, str]]:
    """The demo set, more generated reports up to `distinct` files, and three files that are no
    report (refused), each with its insats' link key (issued here in the server's `store`): every
    outcome of an upload is in the mix."""
    examples = demo_files()
    examples += bulk_files(max(0, distinct - len(examples) - 3))
    paths = write_examples(folder, examples)
    issued: dict[str, str] = {}
    files = []
    for path, example in zip(paths, examples):
        insats = keys.Insats.of(example.answers)
        if insats.key not in issued:
            issued[insats.key] = keys.issue(store, insats, "lasttest")[0]
        files.append((path.name, path.read_bytes(), issued[insats.key]))
    any_key = next(iter(issued.values()))
    files += [("anteckningar.xlsx", "Insats;Antal\nNyttiga affärer;12\n".encode(), any_key),
              ("tom.xlsx", b"", any_key), ("rapport.pdf", b"%PDF-1.4\n%%EOF\n", any_key)]
    return files


def _seconds(value: float) -> str:
    return f"{value:.2f}".replace(".", ",") + " s"


def run(count: int, clients: int, distinct: int, folder: Path) -> tuple[Account, dict[str, Any], list[str]]:
    """Start a server in `folder`, send the uploads, and account for them: (account, RAR's status, lines)."""
    inbox = folder / "inkorg"
    files = load_files(folder / "filer", distinct, Store(default_state(inbox) / "intake.sqlite3"))
    with local_server(inbox, password=PASSWORD) as url:
        started = time.perf_counter()
        sent = upload_many(url, files, count, clients)
        elapsed = time.perf_counter() - started
        client = IntakeClient(url)
        client.login(PASSWORD)
        status = client.status()
    result = account(sent, inbox, default_state(inbox))
    times = sorted(s.seconds for s in sent)
    lines = [
        f"{count} uppladdningar från {clients} samtidiga klienter mot {url} på {_seconds(elapsed)}: "
        + f"{count / elapsed:.1f} uppladdningar/s".replace(".", ","),
        f"Svarstid: median {_seconds(statistics.median(times))}, 95:e percentilen "
        f"{_seconds(times[int(0.95 * (len(times) - 1))])}, längst {_seconds(times[-1])}",
        "Svar: " + ", ".join(f"{code} × {n}" for code, n in sorted(result.statuses.items())),
        f"Loggen: {result.log_rows} rader; inkorgen: {result.inbox_files} filer ({result.distinct_reports} olika "
        f"rapporter skickades); RAR:s sida: {status['uploads']['uploads']} uppladdningar, "
        f"{status['files']['found']} filer i inkorgen",
    ]
    if status["uploads"]["uploads"] != count or status["files"]["found"] != result.inbox_files:
        result.problems.append("RAR's page counts differ from the log and the inbox")
    lines.append("Alla uppladdningar är redovisade." if result.complete else "SAKNAS: " + "; ".join(result.problems))
    return result, status, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--uploads", type=int, default=200, help="antal uppladdningar (standard 200)")
    parser.add_argument("-c", "--clients", type=int, default=8, help="samtidiga klienter (standard 8)")
    parser.add_argument("--distinct", type=int, default=40, help="olika filer att skicka (standard 40)")
    args = parser.parse_args(argv)
    if not 1 <= args.uploads <= 10_000 or not 1 <= args.clients <= 64:
        parser.error("högst 10 000 uppladdningar och 64 klienter")
    with tempfile.TemporaryDirectory() as folder:
        result, _status, lines = run(args.uploads, args.clients, args.distinct, Path(folder))
    print("\n".join(lines))
    return 0 if result.complete else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
