"""Headless LibreOffice: convert and recalculate workbooks (tests, README pictures).

Each `LibreOffice` uses its own user profile, so several can run side by side, and the profile
forces a full recalculation on load: by default LibreOffice keeps the cached values it finds,
which would make a recalculation test compare our own numbers with themselves.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class LibreOfficeMissing(RuntimeError):
    pass


def soffice_path() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if not path:
        raise LibreOfficeMissing(
            "LibreOffice (soffice) saknas. Installera paketet libreoffice-calc-nogui "
            "(scripts/install-system-deps gör det)."
        )
    return path


class LibreOffice:
    def __init__(self, profile_dir: str | Path | None = None, timeout: float = 180):
        self.binary = soffice_path()
        self.profile = Path(profile_dir or tempfile.mkdtemp(prefix="lo-profile-"))
        user = self.profile / "user"
        user.mkdir(parents=True, exist_ok=True)
        (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
        self.timeout = timeout

    def convert(self, sources: list[str | Path] | str | Path, fmt: str, outdir: str | Path) -> list[Path]:
        """Convert files to `fmt` ("xlsx", "pdf", "ods", "csv" …) in `outdir`; returns the new paths.

        A converted file has been opened, fully recalculated and saved by LibreOffice.
        """
        if isinstance(sources, (str, Path)):
            sources = [sources]
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        command = [
            self.binary,
            "--headless",
            "--norestore",
            "--nolockcheck",
            f"-env:UserInstallation={self.profile.resolve().as_uri()}",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            *map(str, sources),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout)
        extension = fmt.split(":")[0]
        produced = [outdir / (Path(s).stem + "." + extension) for s in sources]
        missing = [p for p in produced if not p.exists()]
        if done.returncode != 0 or missing:
            raise RuntimeError(
                f"LibreOffice kunde inte konvertera {', '.join(map(str, missing)) or sources}: "
                f"{done.stdout}\n{done.stderr}"
            )
        return produced
