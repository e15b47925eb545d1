"""A batch streams: memory grows with the answers it consolidates, not with the workbooks it reads.

`lagesrapport consolidate` keeps of each report only its validated answers (the long texts
included: the Texter sheet shows them), writes the master's cells to disk row by row, and never
imports pandas. Measured in fresh processes with the real peak resident size (VmHWM), so the
figures include everything Python and the libraries allocate. Speed is measured by scripts/bench.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lagesrapport_dev.examples import bulk_files, write_examples
from lagesrapport_xl.form.spec import FormSpec

FEW, MANY = 30, 230
TEXT = "Vi har genomfört träffar med deltagarna och samverkat med Arbetsförmedlingen och kommunen. "
# Beyond the answers themselves, what one more report may cost. Measured: about 23 kB without the
# cache (20 kB before the third round of speed work); with the default cache beside the inbox 29 kB
# (c30e07a) and 31.6–32.1 kB since the master's rows are planned per table (master/rows.py: +0.3 MB
# at 230 reports while the master is written); 67 kB before the batch streamed (every cell of the
# master kept until the end, every answer twice); holding each workbook would cost a megabyte. Above
# 7 000 files the batch spools to disk instead (tests/test_consolidate_spool.py).
OVERHEAD_PER_REPORT_KB = 36

# The peak from /proc (VmHWM): ru_maxrss would also count the forked test process before exec.
CONSOLIDATE = """
import json, re, sys
from lagesrapport_xl.cli import main
code = main(["consolidate", sys.argv[1], "-o", sys.argv[2], "-q", "--workers", "1"])
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
print(json.dumps({"code": code, "peak_kb": peak, "pandas": "pandas" in sys.modules}))
"""


def long_answers(spec: FormSpec, count: int) -> list:
    """Reports with 3–4 kB in every free-text answer, as the benchmark's."""
    files = bulk_files(count, spec)
    long_fields = [f.key for f in spec.report_fields if f.type.name == "long_text"]
    for index, example in enumerate(files):
        for key in long_fields:
            if example.answers.get(key):
                example.answers[key] = (example.answers[key] + " " + TEXT * 50)[: 3000 + 7 * index]
    return files


def run_consolidate(inbox: Path, master: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CONSOLIDATE, str(inbox), str(master)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def inboxes(tmp_path_factory: pytest.TempPathFactory, spec: FormSpec) -> dict[int, tuple[Path, int]]:
    """Two inboxes, FEW and MANY reports, and the characters of answers each holds."""
    made = {}
    for count in (FEW, MANY):
        files = long_answers(spec, count)
        folder = write_examples(tmp_path_factory.mktemp(f"inkorg{count}"), files, spec)[0].parent
        made[count] = (folder, sum(len(v) for f in files for v in f.answers.values() if isinstance(v, str)))
    return made


def test_memory_grows_with_the_answers_not_with_the_files(inboxes, tmp_path: Path) -> None:
    few, many = (run_consolidate(inboxes[n][0], tmp_path / f"master{n}.xlsx") for n in (FEW, MANY))
    assert few["code"] == many["code"] == 0
    growth_kb = many["peak_kb"] - few["peak_kb"]
    text_kb = (inboxes[MANY][1] - inboxes[FEW][1]) / 1024  # one byte a character: Swedish fits Latin-1
    extra = MANY - FEW
    print(f"\n  {extra} more reports: peak +{growth_kb / 1024:.1f} MB, answers {text_kb / 1024:.1f} MB "
          f"({(growth_kb - text_kb) / extra:.1f} kB a report beyond the answers)")
    assert growth_kb < text_kb + extra * OVERHEAD_PER_REPORT_KB


def test_the_command_line_never_imports_pandas(inboxes, tmp_path: Path) -> None:
    """pandas costs 0.25 s and 45 MB per process; the tables become DataFrames only when asked."""
    assert run_consolidate(inboxes[FEW][0], tmp_path / "master.xlsx")["pandas"] is False
    report = next(inboxes[FEW][0].glob("*.xlsx"))
    script = ("import sys\nfrom lagesrapport_xl.cli import main\nmain(['validate', sys.argv[1]])\n"
              "print('pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script, str(report)], capture_output=True, text=True,
                          timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr


def test_help_lists_every_command() -> None:
    done = subprocess.run([sys.executable, "-m", "lagesrapport_xl", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0
    for command in ("template", "validate", "consolidate", "control-workbook"):
        assert f"    {command}" in done.stdout, done.stdout
