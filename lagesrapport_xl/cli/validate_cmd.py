"""`lagesrapport validate FILE…`: check filled reports, print every problem, optionally annotate.

Exit code 0 when no file has an error, 1 when at least one has, 2 for usage errors.
`--format json` prints the public contract: a JSON array with one object per file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..reader.sources import SOURCES  # the reader's own import: `validate` needs it anyway
from . import add_config_option

if TYPE_CHECKING:
    from ..reader.result import ReadResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="kontrollera ifyllda lägesrapporter och visa varje problem med cell",
        description="Kontrollerar ifyllda lägesrapporter (.xlsx). En mapp betyder alla filer i den.",
    )
    parser.add_argument("files", nargs="+", metavar="FIL", help="rapportfiler eller mappar")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="utdata: text (standard) eller json"
    )
    parser.add_argument(
        "--annotate", metavar="MAPP",
        help="skriv en kopia av varje arbetsbok med bladet Kontroll (originalet ändras aldrig)",
    )
    add_config_option(parser)
    parser.add_argument("--source", choices=tuple(SOURCES), default="fast", help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def _expand(paths: list[str]) -> list[Path]:
    """Files as given; a folder stands for every file below it, in name order."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        else:
            files.append(path)
    return files


def run(args: argparse.Namespace) -> int:
    from ..form.spec import load_spec
    from ..reader.annotate import AnnotateError, write_annotated_copy
    from ..reader.read import read_report

    spec = load_spec(args.config)
    files = _expand(args.files)
    if not files:
        print("Inga filer att kontrollera.", file=sys.stderr)
        return 2
    results = []
    copies: dict[str, Path | str] = {}
    for path in files:
        result = read_report(path, spec, source=args.source)
        results.append(result)
        if args.annotate and not result.skipped:
            try:
                copies[result.file] = write_annotated_copy(path, result, args.annotate, spec)
            except AnnotateError as exc:
                copies[result.file] = str(exc)
    if args.format == "json":
        json.dump([r.to_json() for r in results], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        for file, copy in copies.items():
            if isinstance(copy, str):
                print(f"{file}: {copy}", file=sys.stderr)
    else:
        print(format_text(results, copies))
    return 1 if any(r.errors for r in results) else 0


def format_text(results: list[ReadResult], copies: dict[str, Path | str] | None = None) -> str:
    """A readable Swedish summary: one block per file, every problem on its own line."""
    copies = copies or {}
    lines: list[str] = []
    for result in results:
        lines.append(f"{result.file}: {_verdict(result)}")
        lines.extend(f"  {issue.describe()}" for issue in result.issues)
        copy = copies.get(result.file)
        if isinstance(copy, Path):
            lines.append(f"  Kontrollkopia: {copy}")
        elif copy:
            lines.append(f"  {copy}")
        lines.append("")
    failed = sum(1 for r in results if r.errors)
    skipped = sum(1 for r in results if r.skipped)
    total = f"Totalt {len(results)} {'fil' if len(results) == 1 else 'filer'}: {failed} med fel"
    if skipped:
        total += f", {skipped} överhoppade"
    lines.append(total + ".")
    return "\n".join(lines)


def _verdict(result: ReadResult) -> str:
    if result.skipped:
        return "hoppas över (ingen rapport)"
    errors, warnings = len(result.errors), len(result.warnings)
    warning_text = f"{warnings} {'varning' if warnings == 1 else 'varningar'}"
    if errors:
        return f"{errors} fel, {warning_text} – rätta felen och skicka filen igen"
    version = f" (formulärversion {result.form_version})" if result.form_version else ""
    return f"godkänd{version}" + (f", {warning_text}" if warnings else "")
