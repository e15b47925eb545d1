"""`lagesrapport control-workbook`: RAR's control workbook for "Sammanställ", and its Run main module."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..template.control_workbook import DEFAULT_INBOX, DEFAULT_OUTPUT  # light: XlsxWriter only when it writes
from . import add_config_option

USAGE = "Ange filnamn med -o, t.ex. lagesrapport control-workbook -o rar_sammanstallning.xlsx"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "control-workbook",
        help="skriv RAR:s kontrollarbetsbok för Sammanställ (Excel med xlwings-tillägget)",
        description=(
            "Skriver kontrollarbetsboken och, bredvid den, Python-filen som xlwings-tilläggets "
            "knapp Run main kör. Se docs/excel.md."
        ),
    )
    parser.add_argument("-o", "--output", help="kontrollarbetsbokens filnamn, t.ex. rar_sammanstallning.xlsx")
    parser.add_argument(
        "--inbox", default=DEFAULT_INBOX, help=f"mappen med inkomna rapporter (standard: {DEFAULT_INBOX})"
    )
    parser.add_argument(
        "--master", default=DEFAULT_OUTPUT, help=f"huvudarbetsbokens filnamn (standard: {DEFAULT_OUTPUT})"
    )
    add_config_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..form.spec import load_spec
    from ..template.control_workbook import write_control_workbook

    if not args.output:
        print(USAGE, file=sys.stderr)
        return 2
    spec = load_spec(args.config)  # a bad file is reported by cli.main
    try:
        config = Path(args.config).resolve() if args.config else None
        written = write_control_workbook(
            args.output, inbox=args.inbox, output=args.master, config=config, spec=spec
        )
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Filen kunde inte skrivas: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"Skrev {path}")
    print("Öppna arbetsboken i Excel och klicka på Run main på fliken xlwings (se docs/excel.md).")
    return 0
