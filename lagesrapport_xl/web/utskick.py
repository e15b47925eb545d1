"""The utskick list: one row per insats of the register with its personal link, for a mail merge.

Writing the list issues the links (keys.issue): a link's secret exists only at that moment, and
only its hash is kept, so the list is the one place the links are written. Issuing again revokes
the links of the earlier list. Each row has the diarienummer, the insats, the contact person and
e-mail from the register's optional columns, the link, and the file name of the template the link's
page offers for the coming period. Both forms at once: .xlsx (for Word's mail merge) and CSV (UTF-8
with BOM and semicolons, for Swedish Excel and mail programs), together in one zip.
"""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import audit, listbook
from .insats import insatser, template_plan
from .intake import Intake
from .keys import active_keys, issue
from .overview import register_rows

HEADINGS = ("Diarienummer", "Insats", "Kontaktperson", "E-post", "Länk", "Mall")


class UtskickError(ValueError):
    """No list can be written; the message is Swedish."""


@dataclass(frozen=True)
class UtskickRow:
    case_number: str
    initiative_name: str
    contact_name: str
    contact_email: str
    link: str
    template: str

    def cells(self) -> tuple[str, ...]:
        return (self.case_number, self.initiative_name, self.contact_name, self.contact_email, self.link,
                self.template)


def issue_links(intake: Intake, base_url: str, user: str, *, only_new: bool = False) -> list[UtskickRow]:
    """A new link for every insats of the register (or only those without one) and the list's rows."""
    rows, problems = register_rows(intake.settings)
    if not rows:
        raise UtskickError(problems[0] if problems else
                           "Servern har inget register (--register), så det finns inga insatser att skicka länkar till.")
    active = active_keys(intake.store)
    found = []
    for insats, row in insatser(rows):
        if only_new and insats.key in active:
            continue
        secret, _key_id = issue(intake.store, insats, user)
        plan = template_plan(intake, insats, row)
        found.append(UtskickRow(
            insats.case_number or "", insats.initiative_name or "", row.contact.get("contact_name", ""),
            row.contact.get("contact_email", ""), f"{base_url.rstrip('/')}/insats/{secret}", plan.name,
        ))
    audit.log(intake.store, "utskick", user_name=user,
              detail=f"{len(found)} länkar ({'insatser utan länk' if only_new else 'alla insatser'})")
    return found


def xlsx_bytes(rows: list[UtskickRow], folder: Path) -> bytes:
    """The list as a one-sheet workbook (written in `folder`, read back and removed: the links are
    never left on disk)."""
    path = listbook.write_xlsx(folder / f"utskick_{time.time_ns()}.xlsx", "Utskick", HEADINGS,
                               [row.cells() for row in rows], (14, 32, 22, 28, 70, 50))
    try:
        return path.read_bytes()
    finally:
        path.unlink()


def zip_bytes(rows: list[UtskickRow], folder: Path, stem: str) -> bytes:
    """utskick.xlsx and utskick.csv in one zip (one download from the page)."""
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.xlsx", xlsx_bytes(rows, folder))
        archive.writestr(f"{stem}.csv", listbook.csv_bytes(HEADINGS, [row.cells() for row in rows]))
    return buffer.getvalue()
