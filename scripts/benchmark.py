"""Benchmark: lagesrapport consolidate against the naive openpyxl loop, pandas+calamine and the
floor (unzip and parse the XML), on the same N generated reports. Run through scripts/bench.

Each approach runs in a fresh process; its wall time is measured from outside, and its memory in
one more run: the peak of the summed RSS of its whole process tree (workers included), sampled
every 10 ms (sampling takes CPU from the program, so timed runs are not sampled).
(d) also reports its phases (`consolidate --timings`). Two more figures: (t) writing the template
and (v) validating one report, each as a whole command and, in process, after start-up.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import random
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
    "d": "lagesrapport consolidate, end to end (validation and master included)",
}
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


def generate(count: int, folder: Path) -> list[Path]:
    """N realistic filled reports in `folder`, reused when already there."""
    from lagesrapport_dev.examples import bulk_files

    stamp = folder / ".complete"
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


def command_for(approach: str, file_list: Path, folder: Path, out: Path) -> list[str]:
    if approach == "d":
        # --no-cache: a cold run reads every file (the command keeps a cache beside the folder by default)
        return [LAGESRAPPORT, "consolidate", str(folder), "-o", str(out / "master.xlsx"), "-q", "--timings",
                "--no-cache"]
    return [sys.executable, "-c", textwrap.dedent(PROGRAMS[approach]), str(file_list)]


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--reports", type=int, default=300, help="number of reports (default 300)")
    parser.add_argument("-r", "--repeats", type=int, default=3, help="runs per approach; the median counts")
    parser.add_argument("--only", default="abcdtv", help="approaches to run, e.g. 'cd' (default abcdtv)")
    parser.add_argument("--workdir", default=str(ROOT / "out" / "bench"), help="where reports and outputs go")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    # Every installed package runs from compiled bytecode; ours is an editable install, whose
    # bytecode a shell with PYTHONDONTWRITEBYTECODE would leave stale: compile it, as pip does.
    compileall.compile_dir(ROOT / "lagesrapport_xl", quiet=1)
    workdir = Path(args.workdir)
    folder = workdir / f"reports-{args.reports}"
    files = generate(args.reports, folder)
    file_list = workdir / f"files-{args.reports}.txt"
    file_list.write_text("\n".join(map(str, files)), encoding="utf-8")
    size = sum(p.stat().st_size for p in files) / len(files)
    print(
        f"Maskin: {platform.processor() or platform.machine()}, {os.cpu_count()} kärnor, Python "
        f"{platform.python_version()}; {len(files)} rapporter, i snitt {size / 1024:.1f} KB per fil"
    )
    results: dict[str, dict[str, float]] = {}
    chosen = [a for a in args.only if a in APPROACHES]
    commands = {approach: command_for(approach, file_list, folder, workdir) for approach in chosen}
    walls: dict[str, list[float]] = {approach: [] for approach in chosen}
    laps: dict[str, list[dict[str, float]]] = {approach: [] for approach in chosen}
    for _ in range(args.repeats):  # in turns (a b c d, a b c d …): a machine that drifts affects all alike
        for approach in chosen:
            wall, _, stderr = run_measured(commands[approach])
            walls[approach].append(wall)
            laps[approach].append(phases(stderr))
    for approach in chosen:
        peak = run_measured(commands[approach], memory=True)[1]  # one more run, for memory only
        median = statistics.median(walls[approach])
        results[approach] = {
            "wall_s": median,
            "ms_per_report": 1000 * median / len(files),
            "peak_mb": peak / 2**20,
        }
        print(
            f"({approach}) {APPROACHES[approach]}\n"
            f"    {median:7.2f} s  {results[approach]['ms_per_report']:7.2f} ms/rapport  "
            f"topp {results[approach]['peak_mb']:6.0f} MB  (median av {args.repeats}; minnet i en körning till)"
        )
        runs = laps[approach]
        if approach == "d" and runs[0]:
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
    for extra in [e for e in args.only if e in EXTRAS]:
        figures = extra_figures(extra, files[0], workdir, args.repeats)
        results[extra] = figures
        print(f"({extra}) {EXTRAS[extra]}: {figures['command_s']:.2f} s som kommando, "
              f"{figures['in_process_ms']:.1f} ms efter start")
    if args.json:
        document = {"reports": len(files), "results": results}
        Path(args.json).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
