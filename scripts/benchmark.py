"""Benchmark: lagesrapport consolidate against the naive openpyxl loop, pandas+calamine and the
floor (unzip and parse the XML), on the same N generated reports. Run through scripts/bench.

Each approach runs in a fresh process; its wall time is measured from outside, and its memory in
one more run: the peak of the summed RSS of its whole process tree (workers included), sampled
every 10 ms (sampling takes CPU from the program, so timed runs are not sampled).
(d), (k) and (w) also report their phases (`consolidate --timings`). Two more figures: (t) writing
the template and (v) validating one report, each as a whole command and, in process, after start-up.

The parsed-report cache (issue 19) adds (k) a run with a cold cache and (w) N + 1 reports with the
cache of a run over N, each round starting from the same state; and two named cases: `mem32k`, the
peak memory of a cold run over 32 000 reports, and `web`, RAR's page and the master button of a
real server (lagesrapport_dev/webbench.py).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

APPROACHES = {
    "a": "openpyxl.load_workbook per file, named cells read (the naive loop)",
    "b": 'pandas.read_excel(engine="calamine") of every sheet per file',
    "c": "floor: unzip and parse workbook and sheet XML only",
    "d": "lagesrapport consolidate --no-cache, end to end (validation and master included)",
    "k": "lagesrapport consolidate, cold cache (deleted before each run): reads every file, fills the cache",
    "w": "lagesrapport consolidate of N + 1 reports, warm cache of a run over N: reads one file",
}
CONSOLIDATING = "dkw"  # the approaches that are `lagesrapport consolidate` (they print --timings)
NAMED_CASES = {
    "mem32k": "peak memory over 32 000 reports: d, k, then w with the cache k filled (one run each)",
    "web": "RAR's page and the master button of a real server (see --web-sizes)",
}
MEMORY_REPORTS = 32_000
# Each round's pairs: (numerator, denominator, what the ratio says).
RATIOS = [
    ("d", "c", "d/c (mål ≤ 1,3)"),
    ("k", "c", "k/c"),
    ("k", "w", "k/w: kall/varm (mål ≥ 5)"),
    ("d", "w", "d/w: utan cache/varm"),
]
EXTRAS = {
    "t": "mallen: lagesrapport template -o …",
    "v": "kontroll av en rapport: lagesrapport validate FIL",
}

# The child programs. Each reads the list of files from argv[1] and prints nothing but errors.
PROGRAMS = {
    "a": """
        import sys
        from openpyxl import load_workbook
        files = open(sys.argv[1], encoding="utf-8").read().split("\\n")
        for path in files:
            wb = load_workbook(path)
            values = {}
            for name, defined in wb.defined_names.items():
                for sheet, address in defined.destinations:
                    values[name] = wb[sheet][address.replace("$", "")].value
            wb.close()
    """,
    "b": """
        import sys
        import pandas as pd
        files = open(sys.argv[1], encoding="utf-8").read().split("\\n")
        for path in files:
            frames = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
    """,
    "c": """
        import sys, zipfile
        from xml.etree import ElementTree
        files = open(sys.argv[1], encoding="utf-8").read().split("\\n")
        for path in files:
            with zipfile.ZipFile(path) as archive:
                ElementTree.fromstring(archive.read("xl/workbook.xml"))
                for name in archive.namelist():
                    if name.startswith("xl/worksheets/sheet"):
                        ElementTree.fromstring(archive.read(name))
    """,
}


# In-process timings after start-up, printed as one number of milliseconds (median of 15).
IN_PROCESS = {
    "t": """
        import statistics, sys, tempfile, time
        from pathlib import Path
        from lagesrapport_xl.template.writer import write_template
        folder = Path(tempfile.mkdtemp())
        times = []
        for i in range(15):
            started = time.perf_counter()
            write_template(folder / f"mall{i}.xlsx")
            times.append(time.perf_counter() - started)
        print(1000 * statistics.median(times))
    """,
    "v": """
        import statistics, sys, time
        from lagesrapport_xl.reader.read import read_report
        times = []
        for _ in range(15):
            started = time.perf_counter()
            read_report(sys.argv[1])
            times.append(time.perf_counter() - started)
        print(1000 * statistics.median(times))
    """,
}


# --- generating the reports ------------------------------------------------------------------------

_FILLER = (
    "Vi har genomfört träffar med deltagarna och samverkat med Arbetsförmedlingen, Försäkringskassan, "
    "Region Sörmland och kommunen. Arbetet följer planen i ansökan och dokumenteras löpande. "
)


def _varied(answers: dict, index: int) -> dict:
    """Free texts of 1–5 KB, and a problem in every tenth report (as in a real inbox)."""
    from lagesrapport_xl.form.spec import default_spec

    rng = random.Random(index)
    spec = default_spec()
    answers = dict(answers)
    for field in spec.report_fields:
        if field.type.name == "long_text" and answers.get(field.key):
            size = rng.randint(1000, 5000)
            answers[field.key] = (answers[field.key] + " " + _FILLER * (size // len(_FILLER) + 1))[:size]
    if index % 10 == 7:
        answers["women_actual"] = "ca 40"  # refused: never guessed
    elif index % 10 == 3:
        answers["period_end"] = "31.02.2022"  # refused: no such date
    return answers


def _write_chunk(job: tuple[str, list[tuple[int, str, dict]]]) -> int:
    from lagesrapport_xl.template.writer import write_template

    folder, items = job
    for index, name, answers in items:
        write_template(Path(folder) / name, answers=_varied(answers, index))
    return len(items)


def _stamp(folder: Path) -> Path:
    """The mark of a finished folder of reports: beside it, since consolidate reads every file in it."""
    return folder.with_name(folder.name + ".complete")


def extra_reports(first: int, count: int, folder: Path) -> list[Path]:
    """Reports number `first`, `first` + 1 … of the same series as generate(): none of them is among
    the first `first` reports, so each is new to a cache filled from those."""
    from lagesrapport_dev.examples import bulk_files

    folder.mkdir(parents=True, exist_ok=True)
    files = bulk_files(first + count)[first:]
    _write_chunk((str(folder), [(first + i, f.name, f.answers) for i, f in enumerate(files)]))
    return [folder / f.name for f in files]


def generate(count: int, folder: Path) -> list[Path]:
    """N realistic filled reports in `folder`, reused when already there."""
    from lagesrapport_dev.examples import bulk_files

    stamp = _stamp(folder)
    if (folder / ".complete").exists():  # where older benchmarks kept it, consolidated as a rejected file
        (folder / ".complete").rename(stamp)
    if stamp.exists():
        return sorted(folder.glob("*.xlsx"))
    folder.mkdir(parents=True, exist_ok=True)
    files = bulk_files(count)
    items = [(i, f.name, f.answers) for i, f in enumerate(files)]
    chunks = [(str(folder), items[i : i + 50]) for i in range(0, len(items), 50)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        done = 0
        for written in pool.map(_write_chunk, chunks):
            done += written
            print(f"\r  genererar rapporter: {done}/{count}", end="", file=sys.stderr, flush=True)
    print(f"\r  {count} rapporter genererade på {time.perf_counter() - started:.1f} s", file=sys.stderr)
    stamp.touch()
    return sorted(folder.glob("*.xlsx"))


# --- measuring -----------------------------------------------------------------------------------


def _tree_rss(pid: int) -> int:
    """Summed resident memory (bytes) of a process and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack.extend(int(child) for child in handle.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run_measured(command: list[str], memory: bool = False) -> tuple[float, int, str]:
    """(wall seconds, peak tree RSS bytes or 0, stderr) of one command.

    With `memory`, a thread samples the summed RSS of the process tree every 10 ms. That sampling
    costs CPU that a two-core machine takes from the measured program, more from one that uses
    both cores than from one that uses one; so a run is timed or sampled, never both.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(process.pid))
            stop.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    if memory:
        sampler.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    stop.set()
    if memory:
        sampler.join()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} misslyckades:\n{stderr.decode(errors='replace')[-2000:]}")
    return wall, peak, stderr.decode(errors="replace")


LAGESRAPPORT = str(ROOT / ".venv/bin/lagesrapport")


def settle() -> None:
    """Before a timed run: what earlier runs wrote goes to the disk now (os.sync), not while this
    one runs. A cold run leaves 300 MB to be written (its cache and master); flushed during the warm
    run that follows it, they cost that run 0.2–0.6 s of its 3 s on this machine, which a warm run
    in use, a new report after hours, never pays."""
    if hasattr(os, "sync"):
        os.sync()


def _remove_cache(path: Path) -> None:
    """A cache file and SQLite's journal beside it: the next run starts cold."""
    for end in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + end).unlink(missing_ok=True)


class CacheCases:
    """The files of (k) and (w), and what makes every run of them start from the same state.

    (k) reads `folder` with a cache that is deleted before each run. (w) reads `folder` plus one
    report (hard links in a folder of its own) with a copy of `warm`, the cache a run over `folder`
    left; the copy is made anew before each run, so the new report is never known beforehand."""

    def __init__(self, folder: Path, files: list[Path], workdir: Path):
        count = len(files)
        self.cold = workdir / f"cache-kall-{count}.sqlite"
        self.warm = workdir / f"cache-varm-{count}.sqlite"
        self.working = workdir / f"cache-varm-{count}-kopia.sqlite"
        self.plus_one = workdir / f"reports-{count}-plus1"
        self.folder = folder
        if not _stamp(self.plus_one).exists():
            shutil.rmtree(self.plus_one, ignore_errors=True)
            self.plus_one.mkdir(parents=True)
            for path in files:
                os.link(path, self.plus_one / path.name)
            extra_reports(count, 1, self.plus_one)
            _stamp(self.plus_one).touch()

    def fill_warm(self) -> None:
        """The cache of one run over the N reports (made on every benchmark run: a cache from an older
        program would be unused, and (w) would measure a cold run)."""
        _remove_cache(self.warm)
        master = self.warm.with_name("master-warm-fill.xlsx")
        run_measured([LAGESRAPPORT, "consolidate", str(self.folder), "-o", str(master), "-q",
                      "--cache", str(self.warm)])
        with sqlite3.connect(self.warm) as db:  # everything in the main file: copies need no journal
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()

    def prepare(self, approach: str) -> None:
        if approach == "k":
            _remove_cache(self.cold)
        elif approach == "w":
            _remove_cache(self.working)
            shutil.copyfile(self.warm, self.working)


def command_for(approach: str, file_list: Path, folder: Path, out: Path, caches: CacheCases | None = None
                ) -> list[str]:
    if approach not in CONSOLIDATING:
        return [sys.executable, "-c", textwrap.dedent(PROGRAMS[approach]), str(file_list)]
    cache = {"d": ["--no-cache"]}
    if caches is not None:
        cache |= {"k": ["--cache", str(caches.cold)], "w": ["--cache", str(caches.working)]}
    source = caches.plus_one if approach == "w" and caches is not None else folder
    master = out / f"master-{approach}.xlsx"
    return [LAGESRAPPORT, "consolidate", str(source), "-o", str(master), "-q", "--timings", *cache[approach]]


def known_and_read(command: list[str]) -> tuple[int, int]:
    """(files the cache knew, files read) of one consolidate run, from its summary."""
    done = subprocess.run([part for part in command if part not in ("-q", "--timings")], capture_output=True,
                          text=True, check=False)
    found = re.search(r"Cache: (\d+) filer kända sedan tidigare, (\d+) lästa nu", done.stdout)
    if found is None:
        raise RuntimeError(f"{' '.join(command)}: ingen rad om cachen i\n{done.stdout}{done.stderr}")
    return int(found.group(1)), int(found.group(2))


def phases(stderr: str) -> dict[str, float]:
    """'tider: läsning 1.9 s, tabeller 0.1 s, …' (consolidate --timings) → {phase: seconds}."""
    line = next((line for line in stderr.splitlines() if line.startswith("tider: ")), "")
    found = {}
    for part in line.removeprefix("tider: ").split(", "):
        name, _, rest = part.partition(" ")
        if rest.endswith(" s"):
            found[name] = float(rest[:-2])
    return found


def extra_figures(extra: str, sample: Path, workdir: Path, repeats: int) -> dict[str, float]:
    """A whole command's wall time (median) and the in-process milliseconds after start-up."""
    if extra == "t":
        command = [LAGESRAPPORT, "template", "-o", str(workdir / "mall.xlsx")]
    else:
        command = [LAGESRAPPORT, "validate", str(sample)]
    walls = [run_measured(command)[0] for _ in range(repeats)]
    program = [sys.executable, "-c", textwrap.dedent(IN_PROCESS[extra]), str(sample)]
    done = subprocess.run(program, capture_output=True, text=True, check=True)
    return {"command_s": statistics.median(walls), "in_process_ms": float(done.stdout.strip())}


def parse_only(text: str) -> tuple[str, list[str]]:
    """'--only cdkw,web' → ('cdkw', ['web']): letters of approaches and extras, and named cases."""
    letters, named = "", []
    for token in filter(None, (part.strip() for part in text.split(","))):
        if token in NAMED_CASES:
            named.append(token)
        elif set(token) <= set(APPROACHES) | set(EXTRAS):
            letters += token
        else:
            raise ValueError(token)
    return letters, named


def per_round(walls: dict[str, list[float]], results: dict[str, dict], count: int) -> None:
    """Each round's ratios of the pairs that ran, then their medians. The rounds alternate the
    approaches, so each round's pair saw the same machine: the spread says how far to trust them."""
    for top, bottom, label in RATIOS:
        if top in walls and bottom in walls:
            turns = [t / b for t, b in zip(walls[top], walls[bottom])]
            results[top][f"{top}_over_{bottom}_per_turn"] = turns
            print(f"{label}: {statistics.median(turns):.2f} (i varje omgång: "
                  f"{', '.join(f'{r:.2f}' for r in turns)}; {count} rapporter)")


def compare(chosen: str, files: list[Path], folder: Path, workdir: Path, repeats: int) -> dict[str, dict]:
    """The approaches in interleaved rounds, then one run each for memory; prints and returns the figures."""
    file_list = workdir / f"files-{len(files)}.txt"
    file_list.write_text("\n".join(map(str, files)), encoding="utf-8")
    caches = CacheCases(folder, files, workdir) if set(chosen) & set("kw") else None
    commands = {approach: command_for(approach, file_list, folder, workdir, caches) for approach in chosen}
    if caches is not None and "w" in chosen:
        caches.fill_warm()
        caches.prepare("w")
        known, read = known_and_read(commands["w"])  # the case is what it says, or no figures
        if (known, read) != (len(files), 1):
            raise RuntimeError(f"(w) skulle känna {len(files)} filer och läsa 1, "
                               f"men kände {known} och läste {read}")
    prepare = caches.prepare if caches is not None else (lambda approach: None)
    results: dict[str, dict] = {}
    walls: dict[str, list[float]] = {approach: [] for approach in chosen}
    laps: dict[str, list[dict[str, float]]] = {approach: [] for approach in chosen}
    for _ in range(repeats):  # in turns (a b c d, a b c d …): a machine that drifts affects all alike
        for approach in chosen:
            prepare(approach)
            settle()
            wall, _, stderr = run_measured(commands[approach])
            walls[approach].append(wall)
            laps[approach].append(phases(stderr))
    for approach in chosen:
        prepare(approach)
        peak = run_measured(commands[approach], memory=True)[1]  # one more run, for memory only
        median = statistics.median(walls[approach])
        results[approach] = {
            "wall_s": median,
            "ms_per_report": 1000 * median / len(files),
            "peak_mb": peak / 2**20,
            "walls_s": walls[approach],
        }
        print(
            f"({approach}) {APPROACHES[approach]}\n"
            f"    {median:7.2f} s  {results[approach]['ms_per_report']:7.2f} ms/rapport  "
            f"topp {results[approach]['peak_mb']:6.0f} MB  (median av {repeats}; minnet i en körning till)"
        )
        runs = laps[approach]
        if approach in CONSOLIDATING and runs[0]:
            split = {name: statistics.median(lap.get(name, 0.0) for lap in runs) for name in runs[0]}
            split["start och övrigt"] = median - sum(split.values())
            results[approach]["phases_s"] = split
            print("    varav " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in split.items()))
    if "d" in results:
        for other in "ac":
            if other in results:
                print(f"d/{other} = {results['d']['wall_s'] / results[other]['wall_s']:.3f}", end="   ")
        if "a" in results:
            print(f"(d är {results['a']['wall_s'] / results['d']['wall_s']:.1f}× snabbare än a)", end="")
            # The runs alternate (a, d, a, d …), so each turn's pair saw the same machine: the
            # spread of the turns' ratios says how much the median ratio can be trusted.
            turns = [a / d for a, d in zip(walls["a"], walls["d"])]
            results["d"]["a_over_d_per_turn"] = turns
            print(f"\n    a/d i varje omgång: {', '.join(f'{r:.1f}' for r in turns)}"
                  f" (lägst {min(turns):.1f}×, högst {max(turns):.1f}×)", end="")
        print()
    per_round(walls, results, len(files))
    return results


def memory_case(workdir: Path) -> dict[str, dict]:
    """Peak memory of consolidate over 32 000 reports, one sampled run each (its time is printed
    too, but sampling slows it): without a cache (d), filling a new cache (k), and again with the
    cache k filled (w: every file known, none read)."""
    folder = workdir / f"reports-{MEMORY_REPORTS}"
    files = generate(MEMORY_REPORTS, folder)
    cache = workdir / f"cache-{MEMORY_REPORTS}.sqlite"
    command = [LAGESRAPPORT, "consolidate", str(folder), "-o", str(workdir / "master-mem32k.xlsx"), "-q"]
    with_cache = [*command, "--cache", str(cache)]
    runs = {"d": [*command, "--no-cache"], "k": with_cache, "w": with_cache}
    _remove_cache(cache)
    results = {}
    for approach, run in runs.items():
        wall, peak, _ = run_measured(run, memory=True)
        results[approach] = {"wall_s": wall, "peak_mb": peak / 2**20}
        print(f"(mem32k, {approach}) {len(files)} rapporter: topp {peak / 2**20:.0f} MB för hela "
              f"processträdet (mål < 400 MB); {wall:.1f} s med minnesmätningen")
    results["cache_mb"] = cache.stat().st_size / 2**20
    _remove_cache(cache)  # about as large as the reports: not kept
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--reports", type=int, default=300, help="number of reports (default 300)")
    parser.add_argument("-r", "--repeats", type=int, default=3, help="runs per approach; the median counts")
    named = "; ".join(f"{name}: {text}" for name, text in NAMED_CASES.items())
    parser.add_argument("--only", default="abcdtv",
                        help=f"approaches to run, e.g. 'cd' (default abcdtv), and named cases after commas "
                        f"(e.g. 'cdkw,web'): {named}")
    parser.add_argument("--web-sizes", default="1000,6400",
                        help="inbox sizes of the case web (default 1000,6400)")
    parser.add_argument("--workdir", default=str(ROOT / "out" / "bench"), help="where reports and outputs go")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        letters, named = parse_only(args.only)
    except ValueError as exc:
        parser.error(f"--only: okänt fall {exc}; välj bland {''.join([*APPROACHES, *EXTRAS])} och "
                     f"{', '.join(NAMED_CASES)}")

    # Every installed package runs from compiled bytecode; ours is an editable install, whose
    # bytecode a shell with PYTHONDONTWRITEBYTECODE would leave stale: compile it, as pip does.
    compileall.compile_dir(ROOT / "lagesrapport_xl", quiet=1)
    workdir = Path(args.workdir)
    results: dict[str, dict] = {}
    machine = (f"Maskin: {platform.processor() or platform.machine()}, {os.cpu_count()} kärnor, Python "
               f"{platform.python_version()}, commit {_commit()}")
    files: list[Path] = []
    if letters:
        folder = workdir / f"reports-{args.reports}"
        files = generate(args.reports, folder)
        size = sum(p.stat().st_size for p in files) / len(files)
        machine += f"; {len(files)} rapporter, i snitt {size / 1024:.1f} KB per fil"
    print(machine)
    if letters:
        approaches = "".join(a for a in letters if a in APPROACHES)
        results |= compare(approaches, files, folder, workdir, args.repeats)
        for extra in [e for e in letters if e in EXTRAS]:
            figures = extra_figures(extra, files[0], workdir, args.repeats)
            results[extra] = figures
            print(f"({extra}) {EXTRAS[extra]}: {figures['command_s']:.2f} s som kommando, "
                  f"{figures['in_process_ms']:.1f} ms efter start")
    if "mem32k" in named:
        results["mem32k"] = memory_case(workdir)
    if "web" in named:
        from lagesrapport_dev.webbench import measure_web

        sizes = sorted(int(size) for size in args.web_sizes.split(","))
        inboxes = {size: generate(size, workdir / f"reports-{size}") for size in sizes}
        extras = extra_reports(max(sizes), args.repeats, workdir / f"web-extra-{max(sizes)}")
        results["web"] = measure_web(inboxes, extras, workdir, rounds=args.repeats)
    if args.json:
        document = {"reports": len(files) or None, "commit": _commit(), "results": results}
        Path(args.json).write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
    return 0


def _commit() -> str:
    """The measured tree's commit, and '+ändringar' when it has uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()

    changed = git("status", "--porcelain", "lagesrapport_xl")
    return git("rev-parse", "--short", "HEAD") + (" +ändringar" if changed else "")


if __name__ == "__main__":
    raise SystemExit(main())
