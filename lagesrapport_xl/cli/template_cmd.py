"""`lagesrapport template`: the empty template, or one pre-filled template per register row."""

from __future__ import annotations

import argparse
import sys

from . import add_config_option

USAGE_HINT = (
    "Ange antingen -o FIL för den tomma mallen, eller --register REGISTER --out-dir MAPP för "
    "förifyllda mallar, t.ex. lagesrapport template -o lagesrapport_mall.xlsx"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "template",
        help="skriv den låsta Excel-mallen (eller förifyllda mallar från ett register)",
        description=(
            "Skriver Lägesrapport-mallen som en låst .xlsx-fil, eller med --register en förifylld "
            "och låst mall per rad i RAR:s register över insatser (.xlsx eller .csv)."
        ),
    )
    parser.add_argument("-o", "--output", help="mallens filnamn, t.ex. lagesrapport_mall.xlsx")
    parser.add_argument("--register", help="register över insatser (.xlsx eller .csv), en mall per rad")
    parser.add_argument("--out-dir", help="mapp för de förifyllda mallarna (med --register)")
    parser.add_argument("--password", help="lösenord för bladskyddet (utan lösenord: skydd utan lösenord)")
    add_config_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..spec import load_spec
    from ..template import write_template

    if bool(args.output) == bool(args.register) or bool(args.register) != bool(args.out_dir):
        print(USAGE_HINT, file=sys.stderr)
        return 2
    spec = load_spec(args.config)
    if args.output:
        try:
            path = write_template(args.output, spec, password=args.password)
        except OSError as exc:
            print(f"Mallen kunde inte skrivas till {args.output}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"Mallen är skriven: {path}")
        return 0
    return _run_register(args, spec)


def _run_register(args: argparse.Namespace, spec) -> int:
    from ..register import RegisterError, write_prefilled_templates

    try:
        result = write_prefilled_templates(args.register, args.out_dir, spec, password=args.password)
    except RegisterError as exc:
        print(f"Registret kan inte användas: {exc}", file=sys.stderr)
        return 2
    for problem in result.problems:
        kind = "Fel" if problem in result.errors else "Varning"
        print(f"{kind}: {problem}", file=sys.stderr)
    print(f"{len(result.written)} förifyllda mallar skrivna i {args.out_dir}")
    for path in result.written:
        print(f"  {path.name}")
    if result.errors:
        rows = sorted({p.row for p in result.errors if p.row is not None})
        label = "Rad" if len(rows) == 1 else "Raderna"
        print(
            f"{label} {', '.join(map(str, rows))} skrevs inte; rätta registret och kör igen.", file=sys.stderr
        )
        return 1
    return 0
