"""`lagesrapport users add|passwd|disable|list --state DIR`: RAR's staff accounts on the web intake.

Works on the server's state folder, also while the server runs: a changed password or a disabled
account ends that account's sessions at once (web/accounts.py). Passwords are read from the
terminal (twice) or from standard input, never from the command line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from .serve_cmd import read_new_password


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "users",
        help="RAR:s konton för webbintaget: skapa, byt lösenord, stäng av, lista",
        description="Kontona för RAR:s sida i webbintaget. Rollen kansli granskar, skickar länkar och skriver "
        "sammanställningen; rollen ekonomi läser allt och laddar ner sammanställningen och filerna.",
    )
    parser.add_argument("action", choices=["add", "passwd", "disable", "list"],
                        help="add: nytt konto, passwd: nytt lösenord, disable: stäng av, list: visa kontona")
    parser.add_argument("name", nargs="?", help="användarnamnet (inte för list)")
    parser.add_argument("--role", choices=["kansli", "ekonomi"], help="kontots roll (med add)")
    parser.add_argument("--state", required=True, metavar="MAPP",
                        help="serverns egen mapp (samma som serve --state; standard där: INKORG-server)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..web import accounts  # the standard library only: no web extra needed
    from ..web.store import Store

    state = Path(args.state)
    if args.action != "add" and not (state / "intake.sqlite3").is_file():
        print(f"Hittar ingen server i {state}: mappen har ingen intake.sqlite3. Ange serverns --state-mapp.",
              file=sys.stderr)
        return 2
    store = Store(state / "intake.sqlite3")
    if args.action == "list":
        for account in accounts.accounts(store):
            print(f"{account.name}\t{account.role.value}\t{'avstängt' if account.disabled else 'aktivt'}")
        return 0
    if not args.name:
        print("Ange användarnamnet, t.ex. lagesrapport users add anna --role kansli --state MAPP", file=sys.stderr)
        return 2
    by = f"kommandoraden ({getpass.getuser()})"
    try:
        if args.action == "disable":
            accounts.disable(store, args.name, by=by)
            print(f"Kontot {args.name} är avstängt; dess inloggningar har avslutats.")
            return 0
        if args.action == "add" and args.role is None:
            print("Ange kontots roll med --role kansli eller --role ekonomi.", file=sys.stderr)
            return 2
        password = read_new_password(f"Lösenord för {args.name}: ")
        if password is None:
            return 2
        if args.action == "add":
            accounts.add(store, args.name, accounts.Role(args.role), password, by=by)
            print(f"Kontot {args.name} ({args.role}) är skapat.")
        else:
            accounts.set_password(store, args.name, password, by=by)
            print(f"Lösenordet för {args.name} är bytt; kontots tidigare inloggningar har avslutats.")
    except accounts.AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0
