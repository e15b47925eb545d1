"""The `lagesrapport` command. Each subcommand lives in its own module with a `register` function.

The top layer: it may import every other layer (the web only for `serve`), and imports each one
inside the subcommand that needs it, so `lagesrapport --help` starts without XlsxWriter or pandas.
"""

from __future__ import annotations

import argparse
import gc
import sys
from importlib import import_module

from ..common.config import ConfigError
from ..common.version import __version__
from ..form.spec import SpecError

CONFIG_HELP = "RAR:s egen TOML-fil med ändrade frågetexter eller budgetrader"


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """`--config rar.toml`, the same for every command; a bad file is reported once, by `main`."""
    parser.add_argument("--config", metavar="TOML", help=CONFIG_HELP)


def print_register_problems(problems, consequence: str, *, quiet: bool = False) -> list[int]:
    """Print a register's problems on stderr as every command does ("Fel: Rad 4, kolumn …"), then
    one line naming the rows left out and what that means (`consequence`, e.g. "skrevs inte").
    Warnings are left out when `quiet`. Returns the numbers of the rows with errors."""
    from ..common.issues import SEVERITY_SV, Severity

    for problem in problems:
        if problem.severity is Severity.ERROR or not quiet:
            print(f"{SEVERITY_SV[problem.severity]}: {problem}", file=sys.stderr)
    rows = sorted({p.row for p in problems if p.severity is Severity.ERROR and p.row is not None})
    if rows:
        label = "Rad" if len(rows) == 1 else "Raderna"
        print(f"{label} {', '.join(map(str, rows))} {consequence}; rätta registret och kör igen.", file=sys.stderr)
    return rows


# Subcommand modules, in the order `lagesrapport --help` lists them.
COMMANDS = ["template_cmd", "validate_cmd", "consolidate_cmd", "board_cmd", "excel_cmd", "serve_cmd", "users_cmd"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lagesrapport",
        description="Lägesrapporter till Samordningsförbundet RAR: mall, kontroll och sammanställning.",
    )
    parser.add_argument("--version", action="version", version=f"lagesrapport_xl {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="KOMMANDO")
    for name in COMMANDS:
        try:
            module = import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except (SpecError, ConfigError) as exc:
        print(f"Fel i konfigurationen: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Avbrutet.", file=sys.stderr)
        return 130


def program() -> int:
    """The `lagesrapport` program: `main` on the command line's arguments. Everything the command
    made is then freed as the interpreter exits; frozen, it is spared the interpreter's last
    garbage collection over a million objects (0.05 s after 1 000 reports), which finds nothing."""
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(program())
