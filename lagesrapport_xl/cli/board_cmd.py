"""`lagesrapport board-report INKORG… -o styrelserapport.pdf`: the board's PDF from the same inputs
as `consolidate` (folders or files, --register, --state/--approved-only, the cache).

The consolidation is the one `consolidate` makes (its helpers for the register, the cache and
the intake's account are shared); board/ turns it into pages.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import add_config_option
from .consolidate_cmd import ProgressBar, _open_cache, _read_register, _server_receipts, parse_tolerance


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "board-report",
        help="skriv en PDF för RAR:s styrelse: en sammanfattning och en sida per insats",
        description=(
            "Läser alla filer i mapparna (även undermappar) som consolidate gör och skriver en PDF för "
            "styrelsen: en sammanfattning av varje insats (status, deltagare mot plan, budget mot förfluten "
            "tid, egen bedömning mot beräknad, vilka som saknas med --register) och en A4-sida per insats "
            "med diagram och svaren i fritext."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="INKORG", help="mappar eller filer med lägesrapporter")
    parser.add_argument("-o", "--output", default="styrelserapport.pdf",
                        help="PDF-filens namn (standard: styrelserapport.pdf)")
    parser.add_argument("--register", metavar="REGISTER",
                        help="RAR:s register över insatser (.xlsx eller .csv): visa vilka som inte har rapporterat")
    parser.add_argument("--tolerance", default=None,
                        help="hur mycket utfallet får avvika från det tidsandelen ger, t.ex. 15%% (standard 15%%)")
    parser.add_argument("--workers", type=int, help="antal processer som läser filer (standard: alla kärnor)")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--cache", metavar="FIL", help="cachen med redan lästa filer (som för consolidate)")
    cache.add_argument("--no-cache", action="store_true", help="läs alla filer och spara inget i någon cache")
    parser.add_argument("--state", metavar="MAPP",
                        help="webbintagets egen mapp (serve --state): den fil som insatsen senast skickade gäller")
    parser.add_argument("--approved-only", action="store_true",
                        help="med --state: bara rapporter som RAR har godkänt")
    add_config_option(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="skriv bara ut fel")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..consolidate.batch import DEFAULT_TOLERANCE, consolidate
    from ..consolidate.inputs import InputError
    from ..form.spec import load_spec

    try:
        tolerance = parse_tolerance(args.tolerance) if args.tolerance is not None else DEFAULT_TOLERANCE
    except ValueError:
        print(f"Toleransen ”{args.tolerance}” går inte att läsa. Skriv t.ex. 0.15 eller 15%.", file=sys.stderr)
        return 2
    if args.approved_only and not args.state:
        print("--approved-only kräver --state MAPP: granskningen finns i webbintagets mapp.", file=sys.stderr)
        return 2
    from ..board import missing_libraries, write_board_report

    missing = missing_libraries()
    if missing:
        print(f"Styrelserapporten behöver {' och '.join(missing)}: installera dem med "
              "pip install 'lagesrapport_xl[board]'.", file=sys.stderr)
        return 2
    receipts = _server_receipts(args.state, args.approved_only) if args.state else None
    if args.state and receipts is None:
        return 2
    spec = load_spec(args.config)
    register = _read_register(args.register, spec, args.quiet) if args.register else None
    if args.register and register is None:
        return 2
    output = Path(args.output)
    report_cache = _open_cache(args, spec)
    try:
        consolidation = consolidate(
            args.inputs, spec=spec, tolerance=tolerance, workers=args.workers,
            progress=ProgressBar(sys.stderr) if not args.quiet else None,
            exclude=[output] + ([Path(args.register)] if args.register else []),
            register=register, register_file=args.register, cache=report_cache, receipts=receipts,
        )
    except InputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    finally:
        if report_cache is not None:
            report_cache.close()
    if not consolidation.files:
        print(f"Inga filer hittades i: {', '.join(args.inputs)}. Ingen styrelserapport skrevs.", file=sys.stderr)
        return 1
    try:
        write_board_report(consolidation, output)
    except OSError as exc:
        print(f"Kunde inte skriva {output}: {exc.strerror or exc}. Är filen öppen? Stäng den och försök igen.",
              file=sys.stderr)
        return 1
    if not args.quiet:
        from ..board import board_facts

        facts = board_facts(consolidation)
        missing = f"; {len(facts.missing)} insatser i registret saknas" if facts.missing else ""
        print(f"Styrelserapporten är skriven: {output} ({len(facts.insatser)} insatser, "
              f"{1 + len(facts.insatser)} sidor{missing}).")
    return 0
