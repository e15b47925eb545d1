"""`lagesrapport template`: the empty template, one pre-filled template per register row, or the next
period's template rolled forward from a report (one, or every insats of the register at once)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import add_config_option, print_register_problems

USAGE_HINT = (
    "Ange antingen -o FIL för den tomma mallen, --from-report RAPPORT -o FIL för nästa periods mall efter en "
    "rapport, eller --register REGISTER --out-dir MAPP för förifyllda mallar (med --previous INKORG: "
    "nästa periods mall efter varje insats senaste rapport), t.ex. lagesrapport template -o "
    "lagesrapport_mall.xlsx"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "template",
        help="skriv den låsta Excel-mallen (eller förifyllda mallar från ett register eller en rapport)",
        description=(
            "Skriver Lägesrapport-mallen som en låst .xlsx-fil; med --register en förifylld och låst mall "
            "per rad i RAR:s register över insatser (.xlsx eller .csv); med --from-report nästa periods "
            "mall efter en rapport, med det ackumulerade utfallet överfört."
        ),
    )
    parser.add_argument("-o", "--output", help="mallens filnamn, t.ex. lagesrapport_mall.xlsx")
    parser.add_argument("--register", help="register över insatser (.xlsx eller .csv), en mall per rad")
    parser.add_argument("--out-dir", help="mapp för de förifyllda mallarna (med --register)")
    parser.add_argument(
        "--from-report", metavar="RAPPORT", help="föregående lägesrapport: mallen blir nästa periods (med -o)"
    )
    parser.add_argument(
        "--previous", metavar="INKORG",
        help="mapp med tidigare rapporter (med --register): varje insats mall blir nästa efter dess senaste",
    )
    parser.add_argument("--password", help="lösenord för bladskyddet (utan lösenord: skydd utan lösenord)")
    parser.add_argument(
        "--excel-buttons", action=argparse.BooleanOptionalAction, default=None,
        help="rita knappen Validera (kräver tillägget xlwings hos samordnaren); standard: [template] "
        "excel_buttons i --config, annars ingen knapp",
    )
    add_config_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..common.config import template_options
    from ..form.spec import load_spec
    from ..template.writer import write_template

    single = bool(args.output) and not (args.register or args.out_dir or args.previous)
    by_register = bool(args.register and args.out_dir) and not (args.output or args.from_report)
    if not (single or by_register):
        print(USAGE_HINT, file=sys.stderr)
        return 2
    spec = load_spec(args.config)
    args.options = template_options(args.config, excel_buttons=args.excel_buttons)
    if by_register:
        return _run_register(args, spec)
    try:
        if args.from_report:
            return _run_from_report(args, spec)
        path = write_template(args.output, spec, password=args.password, options=args.options)
    except OSError as exc:
        print(f"Mallen kunde inte skrivas till {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"Mallen är skriven: {path}")
    return 0


def _run_from_report(args: argparse.Namespace, spec) -> int:
    from ..template.rollforward import RollForwardError, roll_forward

    if Path(args.output).resolve() == Path(args.from_report).resolve():
        print("Mallen kan inte skrivas över rapporten den förs fram från; ange ett annat filnamn med -o.",
              file=sys.stderr)
        return 2
    try:
        following = roll_forward(args.from_report, args.output, spec, password=args.password,
                                 options=args.options)
    except RollForwardError as exc:
        print(f"Ingen mall skrevs: {exc}", file=sys.stderr)
        return 1
    values, previous = following.prefill, following.previous
    print(
        f"Mallen för lägesrapport nr {values['report_number']} ({values['period_start']:%Y-%m-%d}–"
        f"{values['period_end']:%Y-%m-%d}) är skriven: {args.output}"
    )
    print(f"Ackumulerat utfall från nr {previous.report_number} ({previous.file}) är överfört; "
          "samordnaren fyller bara i periodens belopp.")
    return 0


def _run_register(args: argparse.Namespace, spec) -> int:
    from ..consolidate.inputs import InputError
    from ..reader.register import RegisterError
    from ..template.prefill import write_prefilled_templates
    from ..template.rollforward import roll_forward_register

    try:
        if args.previous:
            result = roll_forward_register(
                args.register, args.previous, args.out_dir, spec, password=args.password, options=args.options
            )
        else:
            result = write_prefilled_templates(
                args.register, args.out_dir, spec, password=args.password, options=args.options
            )
    except RegisterError as exc:
        print(f"Registret kan inte användas: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"De tidigare rapporterna kan inte läsas: {exc}", file=sys.stderr)
        return 2
    print(f"{len(result.written)} förifyllda mallar skrivna i {args.out_dir}")
    for path in result.written:
        print(f"  {path.name}")
    print_register_problems(result.problems, "skrevs inte")
    return 1 if result.errors else 0
