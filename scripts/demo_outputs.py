"""Write every output of the demo set into one folder, with the clock fixed, so two versions of the
package can be compared byte for byte (scripts/compare-outputs runs this in both trees).

Only the public API and the command line are used, so it runs against older and newer layouts alike:
the template, two pre-filled templates, validate's JSON and annotated copies, the master with and
without formulas, its CSV and JSON exports, and the same with the example register.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "workbook_templates" / "examples"
REGISTER = ROOT / "workbook_templates" / "register_exempelrapporter.xlsx"
STARTED = dt.datetime(2026, 6, 30, 12, 0, 0)


def cli(*args: str, where: Path) -> subprocess.CompletedProcess[str]:
    """The command line, run in the output folder: `python -m` puts its working folder first on the path."""
    return subprocess.run([sys.executable, "-m", "lagesrapport_xl", *args], capture_output=True, text=True,
                          cwd=where, env={**os.environ, "PYTHONHASHSEED": "0"}, check=False)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cli("template", "-o", str(out / "mall.xlsx"), where=out)
    cli("template", "--register", str(ROOT / "workbook_templates" / "register_exempel.csv"),
        "--out-dir", str(out / "forifyllda"), where=out)
    cli("template", "--from-report", str(EXAMPLES / "Steget_vidare_Katrineholm_rapport_3.xlsx"),
        "-o", str(out / "framford.xlsx"), where=out)
    reports = sorted(EXAMPLES.glob("*.xlsx"))
    answer = cli("validate", *map(str, reports), "--format", "json", "--annotate", str(out / "kontrollerade"), where=out)
    (out / "validate.json").write_text(answer.stdout)
    (out / "validate.txt").write_text(cli("validate", *map(str, reports), where=out).stdout)

    from lagesrapport_xl.consolidate import consolidate
    from lagesrapport_xl.exports import write_csv, write_json
    from lagesrapport_xl.master import write_master
    from lagesrapport_xl.register import read_register

    # The files' modification times reach the Kontroll sheet: pin them as a checkout would differ.
    for index, path in enumerate(sorted(EXAMPLES.iterdir())):
        stamp = STARTED.timestamp() - 86_400 + index
        os.utime(path, (stamp, stamp))
    os.utime(REGISTER, (STARTED.timestamp(), STARTED.timestamp()))
    plain = consolidate([str(EXAMPLES)], workers=1, started=STARTED, exclude=[REGISTER])
    write_master(plain, out / "sammanstallning.xlsx")
    write_master(plain, out / "sammanstallning_utan_formler.xlsx", keep_formulas=False)
    write_csv(plain, out / "csv")
    write_json(plain, out / "sammanstallning.json")
    rows, _ = read_register(REGISTER)
    with_register = consolidate([str(EXAMPLES)], workers=1, started=STARTED, exclude=[REGISTER], register=rows,
                                register_file=REGISTER)
    write_master(with_register, out / "sammanstallning_register.xlsx")
    write_json(with_register, out / "sammanstallning_register.json")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
