"""`lagesrapport serve`: the web intake (needs the `web` extra; see docs/web.md).

`lagesrapport serve --hash-password` turns RAR's chosen password into the hash the server is
given (config file or environment); the password is read from the terminal or standard input
and never printed or stored.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import re
import sys

from . import add_config_option

NEEDS_WEB = (
    "Webbservern kräver tillägget web. Installera det med: pip install \"lagesrapport_xl[web]\" "
    "(./scripts/demo och ./scripts/test gör det i .venv)."
)


class HideLinkKeys(logging.Filter):
    """The access log never holds an insats' link key: /insats/<key>… is logged as /insats/…"""

    PATTERN = re.compile(r"/insats/[A-Za-z0-9_-]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.PATTERN.sub("/insats/…", a) if isinstance(a, str) else a for a in record.args)
        return True


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="starta webbservern där samordnare laddar upp rapporter och RAR ser vilka som har kommit in",
        description=(
            "Startar webbservern: samordnarna laddar upp sin lägesrapport och ser kontrollen direkt; RAR:s "
            "kansli loggar in på /rar och ser vilka insatser som har rapporterat och laddar ner sammanställningen."
        ),
    )
    parser.add_argument("--inbox", default="inkorg", metavar="MAPP",
                        help="inkorgen där mottagna rapporter sparas (standard: inkorg); samma mapp som "
                        "lagesrapport consolidate läser")
    parser.add_argument("--state", metavar="MAPP",
                        help="serverns egna filer: logg, kontrollkopior, avvisade filer (standard: INKORG-server "
                        "bredvid inkorgen; aldrig i den)")
    parser.add_argument("--register", metavar="FIL", help="RAR:s register (.csv eller .xlsx): en rad per insats")
    parser.add_argument("--host", default="127.0.0.1", help="adressen servern lyssnar på (standard: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="porten (standard: 8000)")
    parser.add_argument("--max-mb", type=float, metavar="MB", help="största fil som tas emot (standard: 20 MB)")
    parser.add_argument("--https", action="store_true", default=None,
                        help="servern nås över HTTPS (bakom en proxy): kakorna skickas bara krypterat")
    parser.add_argument("--root-path", default="", metavar="SÖKVÄG",
                        help="sökvägen bakom en omvänd proxy, t.ex. /lagesrapport")
    parser.add_argument("--forwarded-allow-ips", metavar="IP",
                        help="proxyns adresser vars X-Forwarded-*-huvuden litas på (standard: 127.0.0.1)")
    parser.add_argument("--hash-password", action="store_true",
                        help="gör en lösenordshash för RAR:s sida av ett lösenord du skriver in, och avsluta")
    parser.add_argument("-q", "--quiet", action="store_true", help="skriv bara ut varningar och fel")
    add_config_option(parser)
    parser.set_defaults(run=run)


def read_new_password(prompt: str = "Nytt lösenord för RAR:s sida: ") -> str | None:
    """A new password, twice from the terminal or once from standard input; None when they differ."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("Samma lösenord igen: ") != first:
        print("Lösenorden var inte lika. Försök igen.", file=sys.stderr)
        return None
    return first


def hash_password_cmd() -> int:
    from ..web.auth import hash_password

    password = read_new_password()
    if password is None:
        return 2
    if len(password) < 10:
        print("Välj ett lösenord med minst 10 tecken.", file=sys.stderr)
        return 2
    print(hash_password(password))
    print(
        "Lägg raden i konfigurationsfilen under [web] som password_hash = \"…\", eller i miljövariabeln "
        "LAGESRAPPORT_PASSWORD_HASH, och starta servern.",
        file=sys.stderr,
    )
    return 0


def run(args: argparse.Namespace) -> int:
    if args.hash_password:
        return hash_password_cmd()
    try:
        import uvicorn

        from ..web.accounts import any_login
        from ..web.app import create_app
        from ..web.settings import SettingsError, build_settings, template_config, web_config
        from ..web.store import Store
    except ModuleNotFoundError as exc:
        if exc.name in {"starlette", "uvicorn", "jinja2", "multipart", "python_multipart"}:
            print(NEEDS_WEB, file=sys.stderr)
            return 2
        raise
    from ..form.spec import load_spec
    from ..reader.register import RegisterError, read_register

    spec = load_spec(args.config)
    try:
        settings = build_settings(
            args.inbox, state=args.state, spec=spec, register=args.register, table=web_config(args.config),
            https=args.https, max_mb=args.max_mb, template=template_config(args.config),
        )
        if settings.register is not None:
            rows, problems = read_register(settings.register, spec)
            for problem in problems:
                print(f"Registret: {problem}", file=sys.stderr)
    except (SettingsError, RegisterError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Kan inte läsa {exc.filename}: {exc.strerror}.", file=sys.stderr)
        return 2
    app = create_app(settings)
    url = f"http://{args.host}:{args.port}"
    behind = f" (bakom proxyn: …{args.root_path.rstrip('/')}/)" if args.root_path else ""
    print(f"Lägesrapporter tas emot på {url}/{behind}")
    if any_login(Store(settings.state / "intake.sqlite3"), settings.password_hash):
        print(f"RAR:s sida: {url}/rar (logga in med ditt konto)")
    else:
        print("RAR:s sida är stängd: det finns inget konto. Skapa ett med "
              f"`lagesrapport users add NAMN --role kansli --state {settings.state}`.")
    print(f"Inkorg: {settings.inbox}   Serverns egna filer: {settings.state}")
    if settings.register is not None:
        print(f"Register: {settings.register} ({len(rows)} insatser)")
    if not settings.accessibility.has_contact:
        print("Obs! Tillgänglighetsredogörelsen (/tillganglighet) saknar RAR:s kontaktuppgifter: ange email, phone "
              "eller contact_page under [web.accessibility] i --config-filen (se docs/web.md).")
    print("Stoppa servern med Ctrl+C.", flush=True)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        root_path=args.root_path,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_level="warning" if args.quiet else "info",
        access_log=not args.quiet,
        server_header=False,
    )
    logging.getLogger("uvicorn.access").addFilter(HideLinkKeys())  # after uvicorn has set up its logging
    uvicorn.Server(config).run()
    return 0

