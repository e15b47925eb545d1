"""`lagesrapport template`: the empty template, or one pre-filled template per register row."""

from __future__ import annotations

import argparse
import sys

from ..spec import SpecError, load_spec
from ..template import write_template


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "template",
        help="skriv den låsta Excel-mallen (eller förifyllda mallar från ett register)",
        description="Skriver Lägesrapport-mallen som en låst .xlsx-fil.",
    )
    parser.add_argument("-o", "--output", help="mallens filnamn, t.ex. lagesrapport_mall.xlsx")
    parser.add_argument("--password", help="lösenord för bladskyddet (utan lösenord: skydd utan lösenord)")
    parser.add_argument("--config", help="RAR:s egen TOML-fil med ändrade frågetexter eller budgetrader")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        spec = load_spec(args.config)
    except SpecError as exc:
        print(f"Fel i konfigurationen: {exc}", file=sys.stderr)
        return 2
    if not args.output:
        print("Ange filnamn med -o, t.ex. lagesrapport template -o lagesrapport_mall.xlsx", file=sys.stderr)
        return 2
    path = write_template(args.output, spec, password=args.password)
    print(f"Mallen är skriven: {path}")
    return 0
