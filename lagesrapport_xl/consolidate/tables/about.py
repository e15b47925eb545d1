"""The Om sheet: when and by which program the master was made, with which tolerance, and every
input file (the register included) with its size, time and SHA-256."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...common.digest import file_digest
from ...common.version import PROGRAM, __version__
from .base import ABOUT, Column, Row, Table, make_table

if TYPE_CHECKING:
    from ..consolidation import Consolidation

REGISTER_INPUT = "Register över insatser"  # the register's row among the inputs, in place of a status


def about_tables(c: Consolidation) -> tuple[Table, Table]:
    facts = [o.facts for o in c.files]
    versions = sorted({f.form_version for f in facts if f.form_version})
    items = [
        ("run_at", "Körd", c.started.replace(microsecond=0), "datetime"),
        ("program", "Program", f"{PROGRAM} {__version__}", "text"),
        ("form_version", "Formulärversion (programmets)", c.spec.version, "text"),
        ("file_versions", "Formulärversioner i filerna", ", ".join(versions), "text"),
        ("inputs", "Inkorg (mappar och filer)", "\n".join(c.inputs), "text"),
        *([("register", REGISTER_INPUT, c.register_file, "text")] if c.register_file else []),
        ("files", "Antal filer", len(c.files), "int"),
        ("accepted", "Antal godkända rapporter", sum(1 for o in c.files if o.accepted), "int"),
        ("tolerance", "Tolerans för tidsandel (±)", c.tolerance, "pct"),
    ]
    about = make_table(
        "about",
        ABOUT,
        "Om sammanställningen",
        "om",
        [Column("item", "Uppgift"), Column("value", "Värde", "auto")],
        [{"item": label, "value": value, "_name": key, "_kind": kind} for key, label, value, kind in items],
    )
    files = make_table(
        "about_files",
        ABOUT,
        "Indata: varje fil med sin kontrollsumma (SHA-256)",
        "om_filer",
        [
            Column("file", "Fil"),
            Column("size", "Storlek (byte)", "int"),
            Column("modified", "Ändrad", "datetime"),
            Column("sha256", "SHA-256"),
            Column("status", "Status"),
        ],
        [
            {
                "file": o.name,
                "size": f.size,
                "modified": f.modified.replace(microsecond=0) if f.modified else None,
                "sha256": f.sha256,
                "status": o.status.value,
            }
            for o, f in zip(c.files, facts)
        ]
        + _register_input(c),
    )
    return about, files


def _register_input(c: Consolidation) -> list[Row]:
    """The register, when one was used, as one more input with its checksum (it is not a report)."""
    if not c.register_file:
        return []
    sha256, size, modified = file_digest(c.register_file)
    return [{
        "file": c.register_file,
        "size": size,
        "modified": modified.replace(microsecond=0) if modified else None,
        "sha256": sha256,
        "status": REGISTER_INPUT,
    }]
