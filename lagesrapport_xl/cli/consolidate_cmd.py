"""`lagesrapport consolidate INKORG… -o master.xlsx`: every report of a folder into one workbook.

The reading and writing modules are imported when the command runs, not when the command line
is built: `lagesrapport --help` and the other commands do not pay for them.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO

from . import add_config_option, print_register_problems

if TYPE_CHECKING:
    from ..consolidate.cache import ReportCache
    from ..consolidate.consolidation import Consolidation
    from ..consolidate.coverage import CoverageReport, RegisterCoverage
    from ..form.spec import FormSpec
    from ..reader.register import RegisterRow

MAX_LISTED = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "consolidate",
        help="sammanställ en mapp med lägesrapporter till en huvudarbetsbok",
        description=(
            "Läser alla filer i mapparna (även undermappar) och skriver en sammanställning: översikt, "
            "deltagare, budget, tidsandel, texter, historik och en kontroll av varje fil."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="INKORG", help="mappar eller filer med lägesrapporter")
    parser.add_argument("-o", "--output", help="sammanställningens filnamn, t.ex. sammanstallning.xlsx")
    parser.add_argument(
        "--csv",
        metavar="MAPP",
        help="skriv också en CSV-fil per tabell (UTF-8 med BOM, semikolon: öppnas direkt i svenskt Excel)",
    )
    parser.add_argument("--json", metavar="FIL", help="skriv också alla tabeller som en JSON-fil")
    parser.add_argument(
        "--register",
        metavar="REGISTER",
        help="RAR:s register över insatser (.xlsx eller .csv): visa vilka som inte har rapporterat för "
        "perioden",
    )
    parser.add_argument(
        "--tolerance",
        default=None,
        help="hur mycket ackumulerat utfall får avvika från det tidsandelen ger, t.ex. 0.15 eller 15%% "
        "(standard 15%%)",
    )
    parser.add_argument("--workers", type=int, help="antal processer som läser filer (standard: alla kärnor)")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        metavar="FIL",
        help="cachen med redan lästa filer (SQLite); standard: INKORG.lagesrapport-cache.sqlite bredvid "
        "den första mappen. En fil läses bara om dess innehåll inte har lästs förut",
    )
    cache.add_argument("--no-cache", action="store_true", help="läs alla filer och spara inget i någon cache")
    parser.add_argument(
        "--state",
        metavar="MAPP",
        help="webbintagets egen mapp (serve --state): den fil som insatsen senast skickade genom sin länk gäller, "
        "och RAR:s granskning står på bladet Kontroll",
    )
    parser.add_argument(
        "--approved-only",
        action="store_true",
        help="med --state: bara rapporter som RAR har godkänt kommer med i sammanställningen (för styrelsen)",
    )
    add_config_option(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="skriv bara ut fel")
    # For scripts/bench: how long reading, building the tables and writing the master took.
    parser.add_argument("--timings", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def parse_tolerance(text: str) -> float:
    """'0.15', '0,15', '15%' and '15' all mean ±15 %."""
    cleaned = text.strip().replace(",", ".").replace(" ", "")
    percent = cleaned.endswith("%")
    value = float(cleaned.rstrip("%"))
    if percent or value >= 1:
        value /= 100
    if not 0 <= value < 10:
        raise ValueError(text)
    return value


class ProgressBar:
    """A one-line bar on a terminal; silent when the stream is not a terminal (logs, pipes, cron)."""

    def __init__(self, stream: TextIO, label: str = "Läser filer", width: int = 30):
        self.stream = stream
        self.label = label
        self.width = width
        self.enabled = hasattr(stream, "isatty") and stream.isatty()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


class Stopwatch:
    """Seconds per phase of a run, for `--timings` (the benchmark splits its figures by them)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now

    def marking_the_last_file(self, progress: Callable[[int, int], None] | None) -> Callable[[int, int], None]:
        """The progress callback, ending the lap "läsning" when the last file has been read."""

        def report(done: int, total: int) -> None:
            if progress is not None:
                progress(done, total)
            if done >= total:
                self.lap("läsning")

        return report

    def __str__(self) -> str:
        return "tider: " + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in self.laps.items())


def summary(consolidation: Consolidation, output: Path) -> str:
    """The one-screen summary printed after a run."""
    from ..consolidate.statuses import STATUS_PLURAL, Status

    counts = consolidation.counts
    width = max(len(label) for label in STATUS_PLURAL.values()) + 2
    lines = [f"Sammanställningen är skriven: {output}", f"  {'Filer som hittades':<{width}}{counts['found']:>6}"]
    for status in Status:
        lines.append(f"  {STATUS_PLURAL[status]:<{width}}{counts[status.name.lower()]:>6}")
    rejected = [o for o in consolidation.files if o.status is Status.REJECTED]
    if rejected:
        lines.append("Avvisade filer (alla problem står på bladet Kontroll):")
        first = [o.result.errors[0].describe() if o.result.errors else "okänt fel" for o in rejected]
        lines += _listed([f"{o.name}: {error[:160]}" for o, error in zip(rejected, first)])
    if consolidation.coverage is not None:
        lines += _coverage_summary(consolidation.coverage, width)
    return "\n".join(lines)


def _listed(items: list[str]) -> list[str]:
    """At most MAX_LISTED items, indented, and how many more there are."""
    lines = [f"  {item}" for item in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"  … och {len(items) - MAX_LISTED} till.")
    return lines


def _coverage_summary(coverage: CoverageReport, width: int) -> list[str]:
    """The register's part of the summary: counts per state, then who has no accepted report."""
    from ..consolidate.statuses import COVERAGE_PLURAL, Coverage

    lines = [f"Registret: {len(coverage.rows)} insatser"]
    lines += [f"  {COVERAGE_PLURAL[state]:<{width}}{coverage.count(state):>6}" for state in Coverage]
    missing = coverage.missing
    if missing:
        lines.append(
            f"{len(missing)} av registrets {len(coverage.rows)} insatser har ingen godkänd rapport för "
            f"perioden ({coverage.count(Coverage.MISSING)} saknas, {coverage.count(Coverage.REJECTED)} har "
            "bara avvisade filer; se bladet Kontroll):"
        )
        files = [f" ({', '.join(row.rejected)})" if row.rejected else "" for row in missing]
        lines += _listed([f"{_expected(row)}: {row.state.value}{sent}" for row, sent in zip(missing, files)])
    if coverage.unmatched:
        lines.append(f"Filer som inte hör till någon insats i registret: {len(coverage.unmatched)}")
        lines += _listed(list(coverage.unmatched))
    return lines


def _expected(row: RegisterCoverage) -> str:
    """'2022-0013 Hälsa och arbete Eskilstuna, rapport nr 3': a register row and the report it waits for."""
    text = " ".join(part for part in (row.case_number, row.initiative_name) if part)
    text = text or f"Rad {row.row} i registret"
    if row.report_number is not None:
        return f"{text}, rapport nr {row.report_number}"
    if row.period_end is not None:
        return f"{text}, perioden till {row.period_end.isoformat()}"
    return text


def _read_register(path: str, spec: FormSpec, quiet: bool) -> list[RegisterRow] | None:
    """The register's rows, its problems printed as `template --register` prints them; None (and
    the reason printed) when it cannot be used."""
    from ..reader.register import RegisterError, read_register

    try:
        rows, problems = read_register(path, spec)
    except RegisterError as exc:
        print(f"Registret kan inte användas: {exc}", file=sys.stderr)
        return None
    print_register_problems(problems, "i registret används inte, så de insatserna bevakas inte", quiet=quiet)
    return rows


def _open_cache(args: argparse.Namespace, spec: FormSpec) -> ReportCache | None:
    """The cache the command uses: --cache, else the default beside the first folder; none with
    --no-cache or when the inputs are files only. A cache that cannot be used warns once."""
    if args.no_cache:
        return None
    from ..consolidate.cache import ReportCache  # sqlite3 and importlib.metadata: only for a cache

    path = args.cache
    if path is None:
        folder = next((Path(i) for i in args.inputs if Path(i).is_dir()), None)
        if folder is None:
            return None
        path = ReportCache.beside(folder)
    return ReportCache(path, spec, warn=lambda message: print(message, file=sys.stderr))


def _server_receipts(state: str, approved_only: bool):
    """The web intake's receipts and reviews from its state folder (None, and why printed, when it
    is no server's folder)."""
    from ..web.overview import store_receipts
    from ..web.store import Store

    database = Path(state) / "intake.sqlite3"
    if not database.is_file():
        print(f"Hittar inget webbintag i {state}: mappen har ingen intake.sqlite3. Ange serverns --state-mapp.",
              file=sys.stderr)
        return None
    return store_receipts(Store(database), approved_only=approved_only)


def _import_writers() -> None:
    """XlsxWriter and the writers, imported while other processes read the files (0.05 s)."""
    from .. import master  # noqa: F401
    from ..consolidate import exports  # noqa: F401


def run(args: argparse.Namespace) -> int:
    """The command, as one batch for the cyclic garbage collector (common.memory.batch_gc): reading
    and the master pause it already, and between them it scanned the whole consolidation (6 400
    reports, warm: 0.2–0.3 s of a 2.5 s run). The cache is closed in a thread while the tables
    are built; the command ends when it is closed."""
    from ..common.memory import batch_gc

    meanwhile: list[threading.Thread] = []  # what goes on while the tables are built
    try:
        with batch_gc():
            return _run(args, meanwhile)
    finally:
        for thread in meanwhile:
            thread.join()
        split = sys.modules.get("lagesrapport_xl.master.split")
        if split is not None:  # a helper started for a master that was never written
            split.discard_prestarted()


def _run(args: argparse.Namespace, meanwhile: list[threading.Thread]) -> int:
    from ..consolidate.batch import DEFAULT_TOLERANCE, consolidate
    from ..consolidate.inputs import InputError
    from ..form.spec import load_spec

    if not args.output:
        print("Ange sammanställningens filnamn med -o, t.ex. -o sammanstallning.xlsx", file=sys.stderr)
        return 2
    if args.tolerance is None:
        args.tolerance = str(DEFAULT_TOLERANCE)
    try:
        tolerance = parse_tolerance(args.tolerance)
    except ValueError:
        print(f"Toleransen ”{args.tolerance}” går inte att läsa. Skriv t.ex. 0.15 eller 15%.", file=sys.stderr)
        return 2
    if args.approved_only and not args.state:
        print("--approved-only kräver --state MAPP: granskningen finns i webbintagets mapp.", file=sys.stderr)
        return 2
    receipts = _server_receipts(args.state, args.approved_only) if args.state else None
    if args.state and receipts is None:
        return 2
    spec = load_spec(args.config)
    register = _read_register(args.register, spec, args.quiet) if args.register else None
    if args.register and register is None:
        return 2
    output = Path(args.output)
    exclude = [output] + [Path(extra) for extra in (args.json, args.register) if extra]
    if args.csv:
        exclude += list(Path(args.csv).glob("*.csv"))
    report_cache = _open_cache(args, spec)
    progress = ProgressBar(sys.stderr) if not args.quiet else None
    watch = Stopwatch()
    if args.timings:
        progress = watch.marking_the_last_file(progress)

    def read(files: int) -> None:
        """While the tables are built: the cache's last writes reach the disk (0.07 s at 6 400
        reports), and a large master's helper process imports the package (master/split.py)."""
        if report_cache is not None:
            closing = threading.Thread(target=report_cache.close, name="cache-close")
            closing.start()
            meanwhile.append(closing)
        from ..master.writer import prepare_helper

        prepare_helper(files)

    try:
        consolidation = consolidate(
            args.inputs, spec=spec, tolerance=tolerance, workers=args.workers, progress=progress, exclude=exclude,
            meanwhile=_import_writers, register=register, register_file=args.register, cache=report_cache,
            receipts=receipts, read=read,
        )
    except InputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    finally:
        if report_cache is not None and not meanwhile:  # reading failed: closed here and now
            report_cache.close()
    for thread in meanwhile:  # before the master, whose helper may be a fork: this process's only thread
        thread.join()
    if not consolidation.files:
        print(f"Inga filer hittades i: {', '.join(args.inputs)}. Ingen sammanställning skrevs.", file=sys.stderr)
        return 1
    watch.lap("tabeller")
    from ..consolidate.exports import write_csv, write_json
    from ..master.writer import write_master

    try:
        write_master(consolidation, output, keep_formulas=False)
        watch.lap("huvudarbetsbok")
    except OSError as exc:
        print(
            f"Kunde inte skriva {output}: {exc.strerror or exc}. Är filen öppen i Excel? Stäng den och försök igen. "
            "En tidigare sammanställning med samma namn är orörd.",
            file=sys.stderr,
        )
        return 1
    extras = []
    try:
        if args.csv:
            extras.append(f"CSV-filer: {Path(args.csv)} ({len(write_csv(consolidation, args.csv))} st)")
        if args.json:
            extras.append(f"JSON: {write_json(consolidation, args.json)}")
    except OSError as exc:
        print(f"Sammanställningen skrevs, men exporten misslyckades: {exc}", file=sys.stderr)
    if args.timings:
        print(watch, file=sys.stderr)
    if not args.quiet:
        print(summary(consolidation, output))
        if report_cache is not None and (report_cache.hits or report_cache.misses):
            print(f"Cache: {report_cache.hits} filer kända sedan tidigare, {report_cache.misses} lästa nu "
                  f"({report_cache.path}).")
        for line in extras:
            print(line)
    return 0
