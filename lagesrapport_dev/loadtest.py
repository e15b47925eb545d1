"""A bounded load test of the web intake: N uploads from C concurrent clients against a real
`lagesrapport serve` on 127.0.0.1, and an account of every one of them.

Every report is sent through its own insats' link (the keys are issued in the server's database
before the run); the three files that are no report go with a link too, and are refused.
"Accounted for" means: every upload got an answer and a receipt of its own; the log has exactly
one row per upload, with the SHA-256 of the bytes that were sent; every report among them is in
the inbox exactly once (the same bytes are stored once) with that SHA-256, and nothing else is;
and RAR's page counts the same. `python -m lagesrapport_dev.loadtest` (scripts/loadtest)
prints the figures; tests/test_web_load.py asserts the account. No time is asserted anywhere.

`--inkorg N` (issue 21) first fills the inbox with N generated reports (written once to
out/loadtest/, in parallel, and reused), which the server logs as found at its start, then sends
PAIRS rounds of uploads alone, each followed by rounds while two logged-in RAR clients
(rar_clients.py, processes of their own) keep loading RAR's page and its JSON and pressing the
master button, until a master has been made and downloaded meanwhile. An upload's latency should
not depend on either. `--rar kontroll` puts
two low-priority processes that work as the master's writer does in RAR's place: the cost of any
background work on the machine, to compare with.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import shutil
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
from .rar_clients import RarClients, RarWork

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
    started: float = 0.0  # time.perf_counter() when it was sent


def upload_many(url: str, files: Sequence[tuple[str, bytes, str]], count: int, clients: int) -> list[Sent]:
    """`count` uploads through the API, `clients` at a time, cycling through `files` (name, bytes,
    the insats' link key); every upload's answer, in the order they were sent. Bounded in count,
    each request in time."""

    def send(index: int) -> Sent:
        name, content, key = files[index % len(files)]
        started = time.perf_counter()
        status, answer = IntakeClient(url).upload(content, name, key)
        return Sent(index, name, hashlib.sha256(content).hexdigest(), status, answer, time.perf_counter() - started,
                    started)

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


# The load test measures what the intake can take, so its one address and its links are let through
# (the limits themselves: tests/test_web_guard.py, docs/web.md "Gränser").
NO_LIMITS = """[web.limits]
uploads_per_key_per_minute = 1000000
uploads_per_address_per_minute = 1000000
mb_per_address_per_day = 1000000
"""


def run(count: int, clients: int, distinct: int, folder: Path) -> tuple[Account, dict[str, Any], list[str]]:
    """Start a server in `folder`, send the uploads, and account for them: (account, RAR's status, lines)."""
    inbox = folder / "inkorg"
    files = load_files(folder / "filer", distinct, Store(default_state(inbox) / "intake.sqlite3"))
    config = folder / "rar.toml"
    config.write_text(NO_LIMITS, encoding="utf-8")
    with local_server(inbox, args=["--config", str(config)], password=PASSWORD) as url:
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


# --- a large inbox, with RAR at work (issue 21) -------------------------------------------------------

PREFILLED = Path("out/loadtest")  # the generated inboxes, reused between runs
UPLOAD_OFFSET = 200  # the first bulk reports are the uploads' own; the inbox's start after them


BASE_INSATSER = 25  # written from the template; the rest of the inbox are copies with other insatser


def prefilled_reports(count: int, folder: Path = PREFILLED) -> list[Path]:
    """`count` generated reports, none of them among the uploads, written once and reused.

    A hundred reports (25 insatser, 4 reports each) are written from the template; the others are
    copies of them that another insats sent: the case number and the name changed in the shared
    strings, every figure kept (a copy takes milliseconds, a report from the template tens of them)."""
    target = folder / f"rapporter-{count}"
    stamp = target / ".klar"
    if stamp.exists():
        return sorted(target.glob("*.xlsx"))
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    started = time.perf_counter()
    first = UPLOAD_OFFSET // 4  # the insatser of the uploads come before
    base = bulk_files(UPLOAD_OFFSET + 4 * BASE_INSATSER)[UPLOAD_OFFSET:]
    written = write_examples(target / "bas", base)
    made = 0
    for copy in range(-(-count // len(base))):
        for example, path in zip(base, written):
            if made == count:
                break
            index = int(example.name.split("_")[1]) - 1  # insats_0051_rapport_1.xlsx: bulk insats 50
            new = index + BASE_INSATSER * copy
            case = str(example.answers["case_number"])
            name = str(example.answers["initiative_name"])
            replaced = {case: f"{case[:4]}-{1000 + new:04d}",
                        name: name[: -len(str(index + 1))] + str(new + 1)}
            number = example.name.rsplit("_", 1)[1]
            _copy_as(path, target / f"insats_{new + 1:04d}_rapport_{number}", replaced)
            made += 1
            if made % 500 == 0:
                print(f"\r  genererar inkorgen: {made}/{count}", end="", file=sys.stderr, flush=True)
    shutil.rmtree(target / "bas")
    print(f"\r  {count} rapporter genererade på {_seconds(time.perf_counter() - started)} (insatser {first + 1}–)",
          file=sys.stderr)
    stamp.touch()
    return sorted(target.glob("*.xlsx"))


def _copy_as(source: Path, target: Path, replaced: dict[str, str]) -> None:
    """The report with whole shared strings replaced (old text → new)."""
    import zipfile
    from xml.sax.saxutils import escape

    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "xl/sharedStrings.xml":
                for old, new in replaced.items():
                    data = data.replace(f">{escape(old)}<".encode(), f">{escape(new)}<".encode(), 1)
            copy.writestr(info, data)


# Rounds of uploads alone and while RAR works, in turn (the machine's speed drifts over a run; rounds
# in turn see the same drift): PAIRS of them; each time RAR works, rounds until a master has been
# made and downloaded meanwhile, at most BUSY_ROUNDS.
PAIRS = 3
BUSY_ROUNDS = 4


def _latencies(sent: Sequence[Sent]) -> str:
    times = sorted(s.seconds for s in sent)
    return (f"median {_seconds(statistics.median(times))}, 95:e percentilen "
            f"{_seconds(times[int(0.95 * (len(times) - 1))])}, längst {_seconds(times[-1])}")


# --rar: which RAR clients (True: the master button, False: the page and its JSON, None: the control)
RAR_WORK: dict[str, tuple[bool | None, ...]] = {
    "bada": (False, True), "sidor": (False,), "sammanstallning": (True,), "kontroll": (None, None),
}


def run_large_inbox(reports: int, count: int, clients: int, distinct: int, folder: Path,
                    rar_work: str = "bada", prefilled: Path = PREFILLED) -> tuple[list[str], list[str]]:
    """Uploads alone and while RAR works, in turn, against an inbox of `reports` reports (generated
    once into `prefilled`): (lines, problems)."""
    inbox = folder / "inkorg"
    inbox.mkdir(parents=True)
    started = time.perf_counter()
    for path in prefilled_reports(reports, prefilled):
        try:
            os.link(path, inbox / path.name)
        except OSError:
            shutil.copy2(path, inbox / path.name)
    state = default_state(inbox)
    files = load_files(folder / "filer", distinct, Store(state / "intake.sqlite3"))
    problems: list[str] = []
    config = folder / "rar.toml"
    config.write_text(NO_LIMITS, encoding="utf-8")
    with local_server(inbox, args=["--config", str(config)], password=PASSWORD, timeout=1800) as url:
        ready = time.perf_counter() - started
        client = IntakeClient(url)
        client.login(PASSWORD)
        page_started = time.perf_counter()
        first = client.status()
        first_page = time.perf_counter() - page_started
        rar = RarClients(url, PASSWORD, folder / "sammanstallningar", RAR_WORK[rar_work])
        alone: list[Sent] = []
        busy: list[Sent] = []
        for _pair in range(PAIRS):  # alone and busy in turn
            rar.pause.hold()
            alone += upload_many(url, files[0::2], count, clients)
            rar.written.clear()
            rar.pause.release()
            time.sleep(2)  # RAR's page and the master are being made when the uploads begin
            for _round in range(BUSY_ROUNDS):  # until a master has been made and downloaded meanwhile
                busy += upload_many(url, files[1::2], count, clients)
                if True not in RAR_WORK[rar_work] or rar.written.is_set():
                    break
        work = rar.finish()
        last = client.status()
    for phase in (alone, busy):
        bad = [s for s in phase if s.status not in (200, 201, 422)]
        if bad:
            problems.append(f"{len(bad)} uppladdningar fick svaret {sorted({s.status for s in bad})}")
    with Store(state / "intake.sqlite3").connect() as db:
        tokens = {row[0] for row in db.execute("SELECT token FROM uploads")}
    missing = [s for s in (*alone, *busy) if s.answer.get("receipt", {}).get("token") not in tokens]
    if missing:
        problems.append(f"{len(missing)} uppladdningar saknas i loggen")
    stored = last["uploads"]["stored"]
    in_inbox = sum(1 for _ in inbox.iterdir())
    if stored != in_inbox or last["files"]["found"] != in_inbox:
        problems.append(f"inkorgen har {in_inbox} filer, loggen {stored}, RAR:s sida {last['files']['found']}")
    if work.failures:
        problems.append("RAR:s klient: " + "; ".join(work.failures[:3]))
    lines = [
        f"Inkorg med {reports} rapporter: servern klar efter {_seconds(ready)} (loggade {first['uploads']['found']} "
        f"filer som funna vid start), RAR:s första sida på {_seconds(first_page)}",
        f"{len(alone)} uppladdningar från {clients} klienter, ensamma (i {PAIRS} omgångar, varvade med dem "
        f"medan RAR arbetar): {_latencies(alone)}",
        f"{len(busy)} uppladdningar från {clients} klienter medan RAR arbetar: {_latencies(busy)}",
        *_by_master(busy, work),
        f"RAR under tiden: {len(work.pages)} sidvisningar ({_spread(work.pages)}), {len(work.statuses)} "
        f"status.json ({_spread(work.statuses)}), {len(work.masters)} sammanställningar ({_spread(work.masters)})",
        f"Efteråt: {in_inbox} filer i inkorgen, {stored} i loggen, {last['files']['found']} på RAR:s sida",
        "Alla uppladdningar är redovisade." if not problems else "SAKNAS: " + "; ".join(problems),
    ]
    return lines, problems


def _by_master(busy: Sequence[Sent], work: RarWork) -> list[str]:
    """The uploads while RAR worked, split by whether a master was being made or downloaded meanwhile."""
    during = [s for s in busy if work.during_master(s)]
    other = [s for s in busy if not work.during_master(s)]
    made = [s for s in busy if work.during_master(s, "made")]
    downloaded = [s for s in busy if work.during_master(s, "downloaded")]
    return [f"{lead} {len(part)} {what}: {_latencies(part)}"
            for part, lead, what in ((during, "  varav", "medan en sammanställning gjordes eller hämtades"),
                                     (made, "    därav", "medan servern gjorde den"),
                                     (downloaded, "    därav", "medan RAR:s klient hämtade den"),
                                     (other, "  varav", "utan sammanställning samtidigt")) if part]


def _spread(values: Sequence[float]) -> str:
    if not values:
        return "inga"
    return f"median {_seconds(statistics.median(values))}, längst {_seconds(max(values))}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--uploads", type=int, default=200, help="antal uppladdningar (standard 200)")
    parser.add_argument("-c", "--clients", type=int, default=8, help="samtidiga klienter (standard 8)")
    parser.add_argument("--distinct", type=int, default=40, help="olika filer att skicka (standard 40)")
    parser.add_argument("--inkorg", type=int, default=0, metavar="N",
                        help="fyll inkorgen med N rapporter först och mät uppladdningarna ensamma och medan "
                        "RAR:s sida och sammanställningsknappen används (t.ex. 6400)")
    parser.add_argument("--rar", choices=sorted(RAR_WORK), default="bada",
                        help="med --inkorg: vad RAR gör under tiden – sidan och status.json, sammanställningsknappen "
                        "eller båda (standard); kontroll: ingen RAR-klient utan två processer med lägsta "
                        "prioritet som arbetar som sammanställningens skrivare")
    args = parser.parse_args(argv)
    if not 1 <= args.uploads <= 10_000 or not 1 <= args.clients <= 64 or not 0 <= args.inkorg <= 20_000:
        parser.error("högst 10 000 uppladdningar, 64 klienter och 20 000 rapporter i inkorgen")
    with tempfile.TemporaryDirectory() as folder:
        if args.inkorg:
            lines, problems = run_large_inbox(args.inkorg, args.uploads, args.clients, args.distinct, Path(folder),
                                              args.rar)
            print("\n".join(lines))
            return 1 if problems else 0
        result, _status, lines = run(args.uploads, args.clients, args.distinct, Path(folder))
    print("\n".join(lines))
    return 0 if result.complete else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
